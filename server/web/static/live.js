// The dashboard's only script. It keeps the parts of a page marked data-live="URL" up to date
// without a reload: every data-every seconds it fetches URL (the same part, drawn and escaped
// by the server) and puts it in place. It also asks before the forms marked data-confirm.
"use strict";

(function () {
  function refresh(region) {
    if (document.hidden || region.dataset.busy === "1") {
      return;
    }
    region.dataset.busy = "1";
    fetch(region.dataset.live, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-HiveMind-Live": "1" },
    })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload(); // signed out meanwhile: the page goes to sign-in
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (typeof html === "string") {
          region.innerHTML = html;
          region.dataset.updated = String(Date.now());
        }
      })
      .catch(function () {
        // The server restarting or the network gone: the next tick tries again.
      })
      .finally(function () {
        region.dataset.busy = "0";
      });
  }

  function start() {
    document.querySelectorAll("[data-live]").forEach(function (region) {
      var seconds = Math.max(1, parseFloat(region.dataset.every || "5"));
      window.setInterval(function () {
        refresh(region);
      }, seconds * 1000);
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
