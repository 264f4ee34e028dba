// An empty tenant's first steps: re-fetch the checklist every 5 s (paused while the tab is
// hidden) and swap it in; once the first call has arrived, reload so the page shows its KPIs.
(function () {
  var box = document.getElementById("onboarding");
  if (!box || !box.dataset.pollUrl) { return; }
  var url = box.dataset.pollUrl;
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#onboarding");
        if (!fresh) { return; }
        box.replaceWith(fresh);
        box = fresh;
        if (fresh.dataset.firstCall === "done") {
          window.clearInterval(timer);
          window.setTimeout(function () { window.location.reload(); }, 1500);
        }
      })
      .catch(function () {});
  }
  var timer = window.setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", refresh);
})();
