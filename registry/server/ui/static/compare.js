// Compare page: the table's switches, one chart per metric, and a scatter or parallel-coordinates
// plot on the params and metrics the user picks. A run that lacks a value is never drawn as 0:
// the scatter leaves it out (and says so), parallel coordinates put it on a "missing" tick.
(function () {
  "use strict";
  var C = ModelyardCharts;
  var data = C.readJSON("compare-data");
  var MISSING = "(missing)";
  C.assignColors(data.runs);

  document.querySelectorAll(".swatch[data-run]").forEach(function (swatch) {
    swatch.style.background = C.colorOf(swatch.dataset.run);
  });

  var onlyDiffering = document.getElementById("only-differing");
  var showConstant = document.getElementById("show-constant");
  function foldRows() {
    document.querySelectorAll("#compare-table tbody tr").forEach(function (row) {
      if (row.classList.contains("section")) { return; }
      var hidden = (onlyDiffering.checked && row.classList.contains("same")) ||
        (row.classList.contains("constant") && !(showConstant && showConstant.checked));
      row.hidden = hidden;
    });
    document.querySelectorAll("#relation-controls [data-constant]").forEach(function (node) {
      node.hidden = !(showConstant && showConstant.checked);
    });
  }
  onlyDiffering.addEventListener("change", foldRows);
  if (showConstant) {
    showConstant.addEventListener("change", function () { foldRows(); drawRelation(); });
  }
  // A box ticked before this script ran (plotly loads first), or restored by the browser on
  // going back, is honoured too.
  foldRows();

  if (document.getElementById("compare-charts")) {
    C.histories("compare-charts", "compare-data", "compare-charts-controls");
  }

  var controls = document.getElementById("relation-controls");
  var chart = document.getElementById("relation-chart");
  var note = document.getElementById("relation-note");
  if (!controls) { return; }

  function valuesOf(column) {
    var kind = column.slice(0, column.indexOf("."));
    var key = column.slice(column.indexOf(".") + 1);
    return data.values.map(function (run) {
      var v = run[kind][key];
      return v === undefined || v === null ? null : v;
    });
  }
  function label(column) { return column.slice(column.indexOf(".") + 1); }
  function numeric(values) {
    return values.every(function (v) { return v === null || (v !== "" && !isNaN(Number(v))); });
  }
  function visible(option) { return !option.hidden; }

  // Defaults: a param that varies on x, the first metric on y; parallel coordinates on the
  // varying params (up to 6) and the first metric.
  (function defaults() {
    var xs = Array.prototype.filter.call(controls.querySelectorAll("select[name=x] option"), visible);
    var ys = Array.prototype.filter.call(controls.querySelectorAll("select[name=y] option"), visible);
    var x = xs.find(function (o) { return o.value.indexOf("params.") === 0; }) || xs[0];
    if (x) { x.selected = true; }
    var y = ys.find(function (o) { return o.value.indexOf("metrics.") === 0 && o !== x && o.value !== (x && x.value); });
    if (y) { y.selected = true; }
    var params = 0;
    controls.querySelectorAll("input[name=axis]").forEach(function (box) {
      var isParam = box.value.indexOf("params.") === 0;
      if (isParam && !box.parentNode.hidden && params < 6) { box.checked = true; params += 1; }
      if (!isParam && data.metrics.length && box.value === "metrics." + data.metrics[0]) { box.checked = true; }
    });
  })();

  function categoricalAxis(values) {
    var cats = Array.from(new Set(values.filter(function (v) { return v !== null; }).map(String))).sort();
    if (values.some(function (v) { return v === null; })) { cats.unshift(MISSING); }
    return {
      values: values.map(function (v) { return cats.indexOf(v === null ? MISSING : String(v)); }),
      tickvals: cats.map(function (_, i) { return i; }),
      ticktext: cats.map(function (c) { return C.esc(C.shorten(c, 16)); }),
    };
  }

  function scatter() {
    var xc = controls.querySelector("select[name=x]").value;
    var yc = controls.querySelector("select[name=y]").value;
    var xv = valuesOf(xc), yv = valuesOf(yc);
    var keep = data.values.map(function (_, i) { return xv[i] !== null && yv[i] !== null; });
    var drawn = data.runs.filter(function (_, i) { return keep[i]; });
    function pick(values) { return values.filter(function (_, i) { return keep[i]; }); }
    function axis(values, column) {
      var spec = { title: { text: C.esc(C.shorten(label(column), 40)) } };
      if (numeric(values)) { return { values: values.map(Number), layout: spec }; }
      var cat = categoricalAxis(values);
      spec.tickvals = cat.tickvals;
      spec.ticktext = cat.ticktext;
      return { values: cat.values, layout: spec };
    }
    var xa = axis(pick(xv), xc), ya = axis(pick(yv), yc);
    var names = drawn.map(function (id) { return C.esc(data.names[id]); });
    chart.dataset.runs = JSON.stringify(drawn);
    Plotly.react(chart, [{
      type: "scatter", mode: "markers", x: xa.values, y: ya.values, text: names, meta: drawn,
      marker: { size: 10, color: drawn.map(C.colorOf), line: { width: 1, color: "#fff" } },
      hovertemplate: "%{text}<br>" + C.esc(label(xc)) + " = %{x}<br>" + C.esc(label(yc)) + " = %{y}<extra></extra>",
    }], C.themed({
      margin: { l: 70, r: 20, t: 10, b: 60 }, hovermode: "closest", showlegend: false,
      font: { family: "system-ui, sans-serif", size: 12 }, xaxis: xa.layout, yaxis: ya.layout,
    }), { responsive: true, displaylogo: false });
    var left = data.runs.length - drawn.length;
    note.textContent = left ? left + " of " + data.runs.length + " runs lack " + label(xc) +
      " or " + label(yc) + " and are not drawn." : "";
  }

  function parcoords() {
    var columns = Array.prototype.filter.call(controls.querySelectorAll("input[name=axis]"), function (box) {
      return box.checked && !box.parentNode.hidden;
    }).map(function (box) { return box.value; });
    var dims = columns.map(function (column) {
      var values = valuesOf(column);
      var text = C.esc(C.shorten(label(column), 18));
      if (!numeric(values)) {
        var cat = categoricalAxis(values);
        return { label: text, values: cat.values, tickvals: cat.tickvals, ticktext: cat.ticktext };
      }
      var nums = values.filter(function (v) { return v !== null; }).map(Number);
      if (!values.some(function (v) { return v === null; }) || !nums.length) {
        return { label: text, values: values.map(function (v) { return v === null ? NaN : Number(v); }) };
      }
      // Missing values sit on their own tick below the axis's range, never at 0.
      var lo = Math.min.apply(null, nums), hi = Math.max.apply(null, nums);
      var gap = (hi - lo || Math.abs(hi) || 1) * 0.15;
      var ticks = [lo - gap, lo, hi];
      return {
        label: text, range: [lo - gap, hi],
        values: values.map(function (v) { return v === null ? lo - gap : Number(v); }),
        tickvals: ticks, ticktext: [MISSING, String(+lo.toPrecision(4)), String(+hi.toPrecision(4))],
      };
    });
    var colorColumn = controls.querySelector("select[name=color]").value;
    var line = { color: "#4a6fd6" };
    if (colorColumn) {
      var cv = valuesOf(colorColumn);
      var present = cv.filter(function (v) { return v !== null; });
      if (present.length) {
        var cmin = Math.min.apply(null, present), cmax = Math.max.apply(null, present);
        var below = cmin - (cmax - cmin || 1) * 0.05;
        var edge = (cmin - below) / ((cmax - below) || 1);
        line = {
          color: cv.map(function (v) { return v === null ? below : v; }), cmin: below, cmax: cmax,
          colorscale: [[0, "#b8bec9"], [edge * 0.999, "#b8bec9"], [edge, "#440154"], [(1 + edge) / 2, "#21918c"], [1, "#fde725"]],
          showscale: true, colorbar: { title: { text: C.esc(C.shorten(label(colorColumn), 18)) } },
        };
      }
    }
    chart.dataset.runs = JSON.stringify(data.runs);
    Plotly.react(chart, [{ type: "parcoords", dimensions: dims, line: line, labelangle: -20 }], C.themed({
      margin: { l: 110, r: 90, t: 80, b: 30 }, font: { family: "system-ui, sans-serif", size: 11 },
    }), { responsive: true, displaylogo: false });
    note.textContent = columns.length ? "Axes: " + columns.map(label).join(" · ") + ". Runs that lack a value sit on its (missing) tick." : "Pick the axes.";
  }

  function drawRelation() {
    var kind = controls.querySelector("select[name=plot]").value;
    controls.querySelectorAll(".scatter-only").forEach(function (n) { n.hidden = kind !== "scatter"; });
    controls.querySelectorAll(".parcoords-only").forEach(function (n) { n.hidden = kind !== "parcoords"; });
    chart.dataset.plot = kind;
    if (kind === "scatter") { scatter(); } else { parcoords(); }
  }
  controls.addEventListener("change", drawRelation);
  drawRelation();
})();
