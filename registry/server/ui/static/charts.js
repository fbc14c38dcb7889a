// Charts on plotly (served by the server from the installed plotly package).
// Data comes from <script type="application/json"> blocks rendered with Jinja's tojson.
var ModelyardCharts = (function () {
  "use strict";
  var layoutBase = {
    margin: { l: 60, r: 20, t: 20, b: 50 },
    hovermode: "x unified",
    legend: { orientation: "h", y: -0.2 },
    font: { family: "system-ui, sans-serif", size: 12 },
  };
  var config = { responsive: true, displaylogo: false };

  // plotly reads a subset of HTML in labels; show run names and keys literally instead.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function readJSON(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function checked(controls, name) {
    return Array.prototype.map.call(
      controls.querySelectorAll("input[name=" + name + "]:checked"), function (box) { return box.value; });
  }

  function xValues(points, mode) {
    if (mode === "step") { return points.step; }
    if (mode === "time") { return points.time.map(function (t) { return new Date(t); }); }
    var start = points.time[0];
    return points.time.map(function (t) { return (t - start) / 1000; });
  }

  // Metric histories: one line per (metric, run) for the ticked metrics.
  function history(chartId, dataId, controlsId) {
    var data = readJSON(dataId);
    var controls = document.getElementById(controlsId);
    function draw() {
      var mode = controls.querySelector("select[name=x]").value;
      var log = controls.querySelector("input[name=log]").checked;
      var traces = [];
      var runIds = Object.keys(data.names);
      checked(controls, "metric").forEach(function (key) {
        var byRun = data.series[key] || {};
        runIds.forEach(function (runId) {
          var points = byRun[runId];
          if (!points) { return; }
          var label = esc(runIds.length > 1 ? data.names[runId] + " · " + key : key);
          traces.push({
            type: points.value.length > 1000 ? "scattergl" : "scatter", mode: points.value.length > 1 ? "lines+markers" : "markers",
            name: label, x: xValues(points, mode), y: points.value,
            marker: { size: points.value.length > 200 ? 2 : 5 },
          });
        });
      });
      var layout = Object.assign({}, layoutBase, {
        xaxis: { title: { text: mode === "step" ? "step" : mode === "time" ? "time" : "seconds" } },
        yaxis: { type: log ? "log" : "linear" },
      });
      Plotly.react(chartId, traces, layout, config);
    }
    controls.addEventListener("change", draw);
    draw();
  }

  // Params against a metric: a scatter of one param, or parallel coordinates of all.
  function relation(chartId, dataId, controlsId) {
    var data = readJSON(dataId);
    var controls = document.getElementById(controlsId);
    function numeric(values) {
      return values.every(function (v) { return v === null || v === "" || !isNaN(Number(v)); });
    }
    function column(key, source) {
      return data.runs.map(function (run) {
        var v = run[source][key];
        return v === undefined ? null : v;
      });
    }
    function draw() {
      var kind = controls.querySelector("select[name=plot]").value;
      var metric = controls.querySelector("select[name=y]").value;
      var y = column(metric, "metrics");
      var names = data.runs.map(function (run) { return esc(run.name); });
      if (kind === "scatter") {
        var param = controls.querySelector("select[name=x]").value;
        var x = column(param, "params");
        var trace = {
          type: "scatter", mode: "markers+text", x: numeric(x) ? x.map(Number) : x.map(function (v) { return v === null ? null : esc(v); }),
          y: y,
          text: names, textposition: "top center", marker: { size: 10 },
          hovertemplate: "%{text}<br>" + esc(param) + "=%{x}<br>" + esc(metric) + "=%{y}<extra></extra>",
        };
        Plotly.react(chartId, [trace], Object.assign({}, layoutBase, {
          hovermode: "closest", xaxis: { title: { text: esc(param) } }, yaxis: { title: { text: esc(metric) } },
        }), config);
        return;
      }
      var dimensions = data.params.map(function (key) {
        var values = column(key, "params");
        if (numeric(values)) { return { label: esc(key), values: values.map(Number) }; }
        var labels = Array.from(new Set(values.map(String))).sort();
        return {
          label: esc(key), values: values.map(function (v) { return labels.indexOf(String(v)); }),
          tickvals: labels.map(function (_, i) { return i; }), ticktext: labels.map(esc),
        };
      });
      dimensions.push({ label: esc(metric), values: y });
      Plotly.react(chartId, [{
        type: "parcoords", dimensions: dimensions,
        line: { color: y, colorscale: "Viridis", showscale: true },
      }], Object.assign({}, layoutBase, { margin: { l: 80, r: 80, t: 60, b: 30 } }), config);
    }
    controls.addEventListener("change", draw);
    draw();
  }

  return { history: history, relation: relation };
})();
