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
    } else if (flash && document.querySelector("form[data-live-search]")) {
      // At the reception desk the next visitor is typed at once: back to the search field.
      document.getElementById("f-q").focus();
    } else if (flash) {
      flash.focus();
    }
  });

  // Dagens besök: the matches appear while typing. The form still works by
  // Enter alone; this only asks the server for the list of hits.
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-live-search]");
    var target = document.getElementById("hits");
    if (!form || !target || !window.fetch || !window.URLSearchParams) return;
    var input = form.querySelector("input[name='q']");
    var timer;
    var latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++latest;
        if (input.value.replace(/\s/g, "").length < 2) {
          target.innerHTML = "";
          return;
        }
        fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-Live-Search": "1", "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(new FormData(form)).toString()
        })
          .then(function (response) { return response.ok ? response.text() : ""; })
          .then(function (html) { if (mine === latest) target.innerHTML = html; })
          .catch(function () {});
      }, 200);
    });
  });
})();
