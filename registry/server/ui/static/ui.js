// Small progressive enhancements shared by every page. Pages work without them.
(function () {
  "use strict";
  // Ask before any form (or button) marked data-confirm changes something.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Show times in the reader's own time zone; the server renders UTC.
  document.querySelectorAll("time[data-ms]").forEach(function (el) {
    var date = new Date(Number(el.dataset.ms));
    el.title = date.toISOString();
    el.textContent = date.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  });
})();
