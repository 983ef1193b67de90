// Show the Print button on the report (it needs JavaScript; Ctrl+P works anyway).
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
