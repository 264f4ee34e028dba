// Live log: re-fetches the rows of these filters every 5 s; paused while the tab is hidden.
(function () {
  var rows = document.getElementById("call-rows");
  var url = new URL(window.location.href);
  url.searchParams.set("partial", "1");
  url.searchParams.delete("page");
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) { rows.innerHTML = html; })
      .catch(function () {});
  }
  window.setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", refresh);
})();
