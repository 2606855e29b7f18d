// Small conveniences; every page works without this file.
(function () {
  "use strict";
  // After a refused form: move focus to the error summary, or the first field in error.
  document.addEventListener("DOMContentLoaded", function () {
    var first = document.querySelector("[aria-invalid='true']");
    var summary = document.querySelector(".error-summary");
    // A confirmation already on the page at load is not announced by every
    // screen reader: moving focus to it makes sure it is read.
    var flash = document.querySelector(".flash");
    if (first) {
      first.focus();
    } else if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    } else if (flash) {
      flash.focus();
    }
  });
})();
