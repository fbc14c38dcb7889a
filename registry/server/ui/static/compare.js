// Compare page: the "only rows that differ" switch and the two charts.
(function () {
  "use strict";
  var toggle = document.getElementById("only-differing");
  toggle.addEventListener("change", function () {
    document.querySelectorAll("#compare-table tr.same").forEach(function (row) {
      row.hidden = toggle.checked;
    });
  });
  if (document.getElementById("history-chart")) {
    ModelyardCharts.history("history-chart", "compare-data", "chart-controls");
  }
  if (document.getElementById("relation-chart")) {
    ModelyardCharts.relation("relation-chart", "compare-data", "relation-controls");
  }
})();
