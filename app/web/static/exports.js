// Export progress: poll the page's JSON status once a second and update the
// status, bar and count; reload when the job finishes (the page then shows the
// download link or the failure). Without JavaScript the page works by reload.
(function () {
  "use strict";
  var box = document.getElementById("export");
  if (!box || box.dataset.finished === "true") { return; }
  var url = box.dataset.statusUrl;
  var statusEl = document.getElementById("export-status");
  var bar = document.getElementById("export-bar");
  var count = document.getElementById("export-count");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (v) {
        statusEl.textContent = v.status;
        statusEl.className = "badge job-" + v.status;
        bar.value = v.percent;
        count.textContent = v.done + (v.total ? " of " + v.total : "") +
          " rows processed (" + v.percent + " %)";
        if (v.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
