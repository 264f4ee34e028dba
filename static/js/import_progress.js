// Follows the running import through the import API, then reloads for the error report.
(function () {
  var url = document.getElementById("import-progress").dataset.progressUrl;
  var bar = document.getElementById("import-bar");
  function show(body) {
    if (body.rows_total !== null) {
      bar.max = body.rows_total || 1;
      bar.value = body.rows_done;
    }
    document.getElementById("import-rows").textContent =
      body.rows_done + " / " + (body.rows_total === null ? "?" : body.rows_total);
    document.getElementById("import-imported").textContent = body.rows_imported;
    document.getElementById("import-failed").textContent = body.rows_failed;
    document.getElementById("import-skipped").textContent = body.rows_skipped;
    document.getElementById("import-status").textContent = body.status;
    if (body.read_as) {
      document.getElementById("import-read-as").textContent = body.read_as;
    }
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        show(body);
        if (body.status === "done" || body.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
