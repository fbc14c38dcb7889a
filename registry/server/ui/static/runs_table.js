// Runs table: remembered columns (localStorage), select-all, collapsing child runs.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("table-config").textContent);
  var storageKey = "modelyard.columns." + config.experiment_id;
  var params = new URLSearchParams(window.location.search);

  function remembered() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function remember(columns) {
    try { window.localStorage.setItem(storageKey, columns.join(",")); } catch (e) { /* private mode */ }
  }

  if (config.chosen) {
    remember(config.columns);
  } else {
    var saved = remembered();
    if (saved !== null) {
      params.set("cols", saved);
      window.location.replace(window.location.pathname + "?" + params.toString());
      return;
    }
  }

  var columnsForm = document.getElementById("columns-form");
  if (columnsForm) {
    columnsForm.addEventListener("submit", function () {
      var chosen = Array.prototype.map.call(
        columnsForm.querySelectorAll(".column-choice:checked"), function (box) { return box.value; });
      document.getElementById("cols-value").value = chosen.join(",");
      remember(chosen);
    });
  }

  var boxes = document.querySelectorAll("#runs-table input[name=run]");
  var counter = document.getElementById("selection-count");
  function count() {
    var n = document.querySelectorAll("#runs-table input[name=run]:checked").length;
    counter.textContent = n ? n + " selected" : "";
  }
  boxes.forEach(function (box) { box.addEventListener("change", count); });
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      count();
    });
  }

  // Compare is a read: open it with GET, so that a reader (who may not delete) can compare too.
  // Past 100 runs the URL grows too long and the form posts instead.
  var runsForm = document.getElementById("runs-form");
  if (runsForm) {
    runsForm.addEventListener("submit", function (event) {
      if (!event.submitter || event.submitter.value !== "compare") { return; }
      var ids = Array.prototype.map.call(
        document.querySelectorAll("#runs-table input[name=run]:checked"), function (box) { return box.value; });
      if (ids.length === 0 || ids.length > 100) { return; }
      event.preventDefault();
      window.location.assign(config.compare_url + "?runs=" + ids.map(encodeURIComponent).join(","));
    });
  }

  // Collapse a parent: hide the rows after it that are nested deeper, up to its next sibling.
  document.querySelectorAll("button.toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
      button.textContent = open ? "\u25b8" : "\u25be";
      var row = button.closest("tr");
      var depth = Number(row.dataset.depth);
      for (var next = row.nextElementSibling; next && Number(next.dataset.depth) > depth;
           next = next.nextElementSibling) {
        next.hidden = open;
      }
    });
  });
})();
