// Cầu Nối: small enhancements only; every page works without JavaScript.
(function () {
  "use strict";
  // Move keyboard and screen-reader focus to the error summary when a form comes back with errors.
  var alert = document.getElementById("loi");
  if (alert) { alert.focus(); }
  // A second click on "Gửi" while the first is on its way does nothing (the server also refuses duplicates).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-once]");
      if (button) {
        if (button.getAttribute("aria-disabled") === "true") { return; }
        setTimeout(function () { button.setAttribute("aria-disabled", "true"); button.disabled = true; }, 0);
      }
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.classList.remove("print-only-js");
    button.addEventListener("click", function () { window.print(); });
  });
})();
