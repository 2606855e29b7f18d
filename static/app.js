// Small conveniences; every page works without this file.
(function () {
  "use strict";
  // After a refused form: move focus to the error summary, or the first field in error.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    var first = document.querySelector("[aria-invalid='true']");
    if (first) {
      first.focus();
    } else if (summary) {
      summary.focus();
    }
  });
})();
