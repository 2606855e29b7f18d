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
  // Text typed into a form marked data-draft is kept on the server while it
  // is written (a few seconds after typing, and when the page is left), so
  // that a timeout, a crash or a closed tab does not lose it. Leaving the page
  // with text that is not saved asks first. Without this file the server
  // still keeps a form that arrives after the session ended.
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.fetch || !window.URLSearchParams || !window.FormData) return;
    var states = [];
    var leaving = false;
    function params(form) {
      var p = new URLSearchParams(new FormData(form));
      p.set("_draft_action", form.getAttribute("action"));
      p.delete("once");
      return p.toString();
    }
    function show(form, text, urgent) {
      var note = form.querySelector(".draft-status");
      if (!note) {
        note = document.createElement("p");
        note.className = "draft-status";
        form.appendChild(note);
      }
      note.setAttribute("role", urgent ? "alert" : "none");
      note.textContent = text;
    }
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var state = { form: form, dirty: form.hasAttribute("data-draft-restored"), last: null, timer: null, sending: null, submitting: false };
      function save() {
        state.timer = null;
        if (state.submitting || leaving) return;
        var body = params(form);
        if (body === state.last) return;
        state.last = body;
        state.sending = fetch("/drafts", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: body
        })
          .then(function (response) {
            var time = new Date().toTimeString().slice(0, 5);
            if (response.status === 202) {
              show(form, "Du har blivit utloggad. Texten är sparad som utkast: skicka formuläret och logga in igen, så finns den kvar i formuläret.", true);
            } else if (response.ok) {
              show(form, "Texten är sparad som utkast kl. " + time + ". Den hamnar i akten när du skickar formuläret.", false);
            } else {
              state.last = null;
            }
          })
          .catch(function () { state.last = null; })
          .then(function () { state.sending = null; });
      }
      function changed() {
        state.dirty = true;
        if (!state.timer) state.timer = setTimeout(save, 3000);
      }
      form.addEventListener("input", changed);
      form.addEventListener("change", changed);
      form.addEventListener("submit", function (event) {
        // No new copy from now on.
        state.submitting = true;
        clearTimeout(state.timer);
        // A copy on its way could arrive after the form and outlive it: wait for it.
        if (state.sending && !state.waited) {
          event.preventDefault();
          state.waited = true;
          var submitter = event.submitter;
          state.sending.then(function () {
            if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
          });
          return;
        }
      });
      states.push(state);
    });
    if (!states.length) return;
    // Throwing the text away is leaving it on purpose.
    document.querySelectorAll("form[data-draft-discard]").forEach(function (form) {
      form.addEventListener("submit", function () { leaving = true; });
    });
    function unsaved() {
      return !leaving && states.some(function (s) { return s.dirty && !s.submitting; });
    }
    window.addEventListener("beforeunload", function (event) {
      if (unsaved()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    window.addEventListener("pagehide", function () {
      if (!navigator.sendBeacon) return;
      states.forEach(function (s) {
        if (!s.dirty || s.submitting || leaving) return;
        var body = params(s.form);
        if (body !== s.last) navigator.sendBeacon("/drafts", new Blob([body], { type: "application/x-www-form-urlencoded" }));
      });
    });
  });

  // A form is sent once: its buttons rest after the first press. A courtesy
  // only; the server keeps one record per form by its one-time token.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form.querySelector("input[name='once']") || form.hasAttribute("data-submit-once"))) return;
    // After the browser has read the pressed button's name and value.
    setTimeout(function () {
      form.querySelectorAll("button[type='submit'], button:not([type])").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });
  // Back to a page kept by the browser: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form button[disabled]").forEach(function (b) { b.disabled = false; });
  });
})();
