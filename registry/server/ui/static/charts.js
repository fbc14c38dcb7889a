// Charts on plotly (served by the server from the installed plotly package).
// Data comes from <script type="application/json"> blocks rendered with Jinja's tojson.
//
// Metric histories are small multiples: one chart per metric, each with its own y axis, one line
// per run, a run's colour the same in every chart of the page (derived from its id, so the grid,
// compare and the run page agree unless two runs of a page collide: see PALETTE). A run that
// lacks a metric draws nothing in that chart; a NaN value is a gap. Each chart element carries
// data-key and data-runs (the run ids it draws) and plotly keeps the drawn values on the element
// (el.data), for tests and for curious readers.
var ModelyardCharts = (function () {
  "use strict";
  var LEGEND_OPEN_MAX = 10;
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var font = { family: "system-ui, sans-serif", size: 11 };
  var clear = "rgba(0,0,0,0)";

  // Charts follow the page's theme (dark mode included): transparent, text in the page's colour.
  function themed(layout) {
    var color = window.getComputedStyle(document.body).color;
    layout.paper_bgcolor = clear;
    layout.plot_bgcolor = clear;
    layout.font = Object.assign({}, layout.font || font, { color: color });
    return layout;
  }

  // plotly reads a subset of HTML in labels; show run names and keys literally instead.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function shorten(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1) + "\u2026" : text;
  }

  function readJSON(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  // A colour per run id from a palette of 24. A fixed palette lets a chart draw all runs of one
  // colour as one trace: 500 runs are 24 paths, not 500. A run's colour is its id's FNV-1a hash
  // into the palette, so a run keeps its colour from page to page, unless an earlier run of the
  // page (in id order) hashes to the same colour: then it takes the next colour no run of the
  // page has (assignColors). So up to 24 runs on a page all differ, and only the runs that
  // collided change colour. Without that, two compared runs shared a colour one time in 24.
  var PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173", "#e6550d", "#3182bd",
    "#31a354", "#843c39", "#5254a3", "#d6616b", "#8ca252", "#ce6dbd", "#bd9e39", "#0f6b5c",
  ];
  var pageColors = {};
  function hashedSlot(runId) {
    var h = 2166136261;
    for (var i = 0; i < runId.length; i++) {
      h ^= runId.charCodeAt(i);
      h = Math.imul(h, 16777619) >>> 0;
    }
    return h % PALETTE.length;
  }
  // The page's runs: called with the same runs, in any order, it gives each the same colour.
  function assignColors(runIds) {
    var taken = {}, free = PALETTE.length, collided = [];
    pageColors = {};
    runIds.slice().sort().forEach(function (runId) {
      var slot = hashedSlot(runId);
      if (taken[slot]) { collided.push(runId); return; }
      taken[slot] = true;
      free -= 1;
      pageColors[runId] = PALETTE[slot];
    });
    collided.forEach(function (runId) {
      var slot = hashedSlot(runId);
      if (free > 0) {  // past 24 runs, colliding runs keep their hashed colour
        while (taken[slot]) { slot = (slot + 1) % PALETTE.length; }
        taken[slot] = true;
        free -= 1;
      }
      pageColors[runId] = PALETTE[slot];
    });
  }
  function colorOf(runId) {
    return pageColors[runId] || PALETTE[hashedSlot(runId)];
  }

  function xValues(points, mode) {
    if (mode === "step") { return points.step; }
    if (mode === "time") { return points.time.map(function (t) { return new Date(t); }); }
    var start = points.time[0];
    return points.time.map(function (t) { return (t - start) / 1000; });
  }

  // Exponential moving average with a debiased start (as TensorBoard does); gaps stay gaps.
  function smooth(values, weight) {
    if (!weight) { return values; }
    var last = 0, count = 0;
    return values.map(function (v) {
      if (v === null) { return null; }
      last = last * weight + (1 - weight) * v;
      count += 1;
      return last / (1 - Math.pow(weight, count));
    });
  }

  function isSingle(byRun) {
    return Object.keys(byRun).every(function (runId) { return byRun[runId].value.length <= 1; });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // The page's one legend: open up to 10 runs, folded past that (hover a line to identify it).
  function legend(container, runIds, names) {
    var box = el("details", "chart-legend");
    box.open = runIds.length <= LEGEND_OPEN_MAX;
    box.appendChild(el("summary", "", runIds.length + " run" + (runIds.length === 1 ? "" : "s")));
    var list = el("ul");
    runIds.forEach(function (runId) {
      var item = el("li");
      item.dataset.run = runId;
      var swatch = el("span", "swatch");
      swatch.style.background = colorOf(runId);
      item.appendChild(swatch);
      item.appendChild(el("span", "legend-name", names[runId] || runId.slice(0, 8)));
      item.title = (names[runId] || "") + " (" + runId + ")";
      list.appendChild(item);
    });
    box.appendChild(list);
    container.appendChild(box);
  }

  function axisTitle(mode) {
    return mode === "step" ? "step" : mode === "time" ? "time" : "seconds";
  }

  // One trace per colour: the runs of a colour are joined with gaps (null) between them, and
  // each point carries its run's name for the hover. trace.meta lists the trace's run ids.
  // Past LEGEND_OPEN_MAX runs the lines go on a canvas (line_canvas.js, where the page loads
  // it): plotly's SVG costs hundreds of milliseconds a chart at 500 runs.
  function lineChart(cell, key, byRun, names, runIds, opts) {
    var drawn = runIds.filter(function (runId) { return byRun[runId]; });
    var many = drawn.length > LEGEND_OPEN_MAX;
    var onCanvas = many && !!window.ModelyardLines;
    var groups = {};
    drawn.forEach(function (runId) {
      var color = colorOf(runId);
      var group = groups[color];
      if (!group) { group = groups[color] = { runs: [], x: [], y: [], text: [] }; }
      var points = byRun[runId];
      var name = names[runId] || runId.slice(0, 8);
      if (!onCanvas) { name = esc(name); }  // the canvas writes names as text, not HTML
      if (group.runs.length) { group.x.push(null); group.y.push(null); group.text.push(""); }
      group.runs.push(runId);
      var x = onCanvas && opts.mode === "time" ? points.time : xValues(points, opts.mode);
      Array.prototype.push.apply(group.x, x);
      Array.prototype.push.apply(group.y, smooth(points.value, opts.smoothing));
      points.value.forEach(function () { group.text.push(name); });
    });
    // Markers mark sparse lines of a few runs; on hundreds of runs they are noise, and slow.
    var markers = !many && drawn.every(function (runId) { return byRun[runId].value.length <= 60; });
    var traces = Object.keys(groups).map(function (color) {
      var group = groups[color];
      return {
        type: "scatter", mode: markers ? "lines+markers" : "lines",
        name: group.runs.length === 1 ? group.text[0] : group.runs.length + " runs",
        x: group.x, y: group.y, text: group.text, connectgaps: false, meta: group.runs,
        line: { color: color, width: many ? 1.2 : 1.8 }, marker: { size: 4, color: color },
        hovertemplate: "%{text}<br>%{x}: %{y:.4g}<extra></extra>",
      };
    });
    cell.dataset.runs = JSON.stringify(drawn);
    var plot = cell.querySelector(".plot");
    if (onCanvas) {
      if (plot._fullLayout) { plot = replacePlot(cell, plot); }
      ModelyardLines.draw(plot, traces, { log: opts.log, mode: opts.mode, xTitle: axisTitle(opts.mode) });
      return;
    }
    if (plot.chart) { plot = replacePlot(cell, plot); }
    var layout = {
      margin: { l: 52, r: 12, t: 8, b: 36 }, font: font, showlegend: false,
      hovermode: many ? "closest" : "x unified",
      xaxis: { title: { text: axisTitle(opts.mode), standoff: 4 }, nticks: 6 },
      yaxis: { type: opts.log ? "log" : "linear", nticks: 6, exponentformat: "SI" },
    };
    Plotly.react(plot, traces, themed(layout), config);
  }

  // A fresh plot element in place of one the other renderer drew into.
  function replacePlot(cell, plot) {
    if (plot._fullLayout && window.Plotly) { Plotly.purge(plot); }
    var fresh = el("div", "plot");
    cell.replaceChild(fresh, plot);
    return fresh;
  }

  // A metric every run logged once: a value (one run) or one bar per run, never a dot at step 0.
  function singleValue(cell, key, byRun, names, runIds) {
    var drawn = runIds.filter(function (runId) { return byRun[runId] && byRun[runId].value.length; });
    cell.dataset.runs = JSON.stringify(drawn);
    cell.classList.add("single");
    var plot = cell.querySelector(".plot");
    if (drawn.length === 1) {
      var v = byRun[drawn[0]].value[0];
      plot.className = "plot metric-value";
      plot.textContent = v === null ? "NaN" : Number(v).toPrecision(6).replace(/\.?0+$/, "");
      return;
    }
    Plotly.react(plot, [{
      type: "bar", orientation: "h",
      // Bars sit at their index: runs with the same (or same-prefixed) name get a bar each.
      y: drawn.map(function (runId, i) { return i; }),
      x: drawn.map(function (runId) { return byRun[runId].value[0]; }),
      customdata: drawn.map(function (runId) { return esc(names[runId] || runId.slice(0, 8)); }),
      marker: { color: drawn.map(colorOf) }, meta: drawn,
      hovertemplate: "%{customdata}: %{x:.4g}<extra></extra>",
    }], themed({
      margin: { l: 110, r: 12, t: 8, b: 28 }, font: font, showlegend: false,
      yaxis: {
        automargin: false, autorange: "reversed", tickmode: "array",
        tickvals: drawn.map(function (runId, i) { return i; }),
        ticktext: drawn.map(function (runId) {
          return esc(shorten(names[runId] || runId.slice(0, 8), 18));
        }),
      },
      xaxis: { nticks: 5 },
    }), config);
  }

  // Small multiples of metric histories.
  // data: {series: {key: {runId: {step, time, value}}}, names: {runId: name}, runs: [runId...]}
  function histories(gridId, dataId, controlsId) {
    var data = readJSON(dataId);
    var grid = document.getElementById(gridId);
    var controls = document.getElementById(controlsId);
    var runIds = data.runs || Object.keys(data.names);
    assignColors(runIds);
    var legendBox = document.getElementById(gridId + "-legend");
    if (legendBox && runIds.length > 1) { legend(legendBox, runIds, data.names); }
    var smoothing = controls.querySelector("input[name=smoothing]");
    var shown = controls.querySelector(".smoothing-value");
    function chosenKeys() {
      var boxes = controls.querySelectorAll("input[name=metric]");
      if (!boxes.length) { return Object.keys(data.series).sort(); }
      return Array.prototype.filter.call(boxes, function (b) { return b.checked; })
        .map(function (b) { return b.value; });
    }
    var cells = {};
    function draw() {
      var opts = {
        mode: controls.querySelector("select[name=x]").value,
        log: controls.querySelector("input[name=log]").checked,
        smoothing: smoothing ? Number(smoothing.value) : 0,
      };
      if (shown) { shown.textContent = opts.smoothing.toFixed(2); }
      // Cells are kept and redrawn in place (plotly.react); only unpicked metrics are removed.
      var keys = chosenKeys().filter(function (key) { return data.series[key]; });
      Object.keys(cells).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          var plot = cells[key].querySelector(".plot");
          if (plot._fullLayout) { Plotly.purge(plot); }
          cells[key].remove();
          delete cells[key];
        }
      });
      keys.forEach(function (key) {
        var byRun = data.series[key];
        var cell = cells[key];
        if (!cell) {
          cell = cells[key] = el("figure", "chart-cell");
          cell.dataset.key = key;
          var caption = el("figcaption", "", key);
          caption.title = key;
          cell.appendChild(caption);
          cell.appendChild(el("div", "plot"));
        }
        grid.appendChild(cell);  // in the picked order
        if (isSingle(byRun)) {
          singleValue(cell, key, byRun, data.names, runIds);
        } else {
          lineChart(cell, key, byRun, data.names, runIds, opts);
        }
      });
      grid.dataset.drawn = String(Date.now());
    }
    controls.addEventListener("change", draw);
    if (smoothing) { smoothing.addEventListener("input", draw); }
    draw();
    return draw;
  }

  // The chart grid: the page carries the runs and the metric keys only; each chart fetches its
  // metric (downsampled by the server to about its width in points) when it scrolls into view,
  // a few at a time. Timestamps are asked for only once a time axis is chosen.
  // data: {keys: [key...], names: {runId: name}, runs: [runId...], source: url with the table's
  // query, plotly: the URL of plotly.js}. The grid gets data-drawn when every fetched chart has
  // been drawn.
  var FETCHES_AT_ONCE = 3;
  var POINTS_PER_CHART = 60000, MIN_POINTS = 12;
  function lazyHistories(gridId, dataId, controlsId) {
    var data = readJSON(dataId);
    var grid = document.getElementById(gridId);
    var controls = document.getElementById(controlsId);
    var runIds = data.runs;
    assignColors(runIds);
    var legendBox = document.getElementById(gridId + "-legend");
    if (legendBox && runIds.length > 1) { legend(legendBox, runIds, data.names); }
    var smoothing = controls.querySelector("input[name=smoothing]");
    var shown = controls.querySelector(".smoothing-value");
    var cells = {}, loaded = {}, wanted = {}, queue = [], running = 0;
    function options() {
      return {
        mode: controls.querySelector("select[name=x]").value,
        log: controls.querySelector("input[name=log]").checked,
        smoothing: smoothing ? Number(smoothing.value) : 0,
      };
    }
    // Drawn: every chart has been told whether it is in view, and no fetch is under way.
    function settled() {
      var unseen = Object.keys(cells).some(function (key) { return !(key in wanted); });
      if (!running && !queue.length && !unseen) { grid.dataset.drawn = String(Date.now()); }
      else { delete grid.dataset.drawn; }
    }
    function drawCell(key) {
      var cell = cells[key], byRun = loaded[key] && loaded[key].series;
      if (!cell || !byRun) { return; }
      var single = isSingle(byRun);
      var plotted = single || Object.keys(byRun).length <= LEGEND_OPEN_MAX || !window.ModelyardLines;
      if (plotted && !window.Plotly) {
        if (plotlyFailed) { cell.querySelector(".plot").textContent = "Could not load the chart library."; }
        else { loadPlotly(function () { drawCell(key); }); }
        return;
      }
      if (single) {
        singleValue(cell, key, byRun, data.names, runIds);
      } else {
        lineChart(cell, key, byRun, data.names, runIds, options());
      }
    }
    // plotly (a few MB) is fetched only when a chart needs it: single values, or few runs.
    var plotlyWaiting = null, plotlyFailed = false;
    function loadPlotly(then) {
      if (plotlyWaiting) { plotlyWaiting.push(then); return; }
      plotlyWaiting = [then];
      running += 1;
      var script = document.createElement("script");
      script.src = data.plotly;
      script.onload = script.onerror = function () {
        plotlyFailed = !window.Plotly;
        var waiting = plotlyWaiting;
        plotlyWaiting = null;
        running -= 1;
        waiting.forEach(function (call) { call(); });
        settled();
      };
      document.head.appendChild(script);
    }
    function pump() {
      while (running < FETCHES_AT_ONCE && queue.length) { fetchKey(queue.shift()); }
      settled();
    }
    function fetchKey(key) {
      var withTime = options().mode !== "step";
      var plot = cells[key] && cells[key].querySelector(".plot");
      var width = plot ? plot.clientWidth : 300;
      // About 0.4 points per pixel, within a budget for the whole chart (500 lines of 300
      // points are more than 500 overlapping lines show), in steps of 20 so that windows of
      // about the same width share the lines the server keeps (store.metric_previews).
      var budget = Math.floor(POINTS_PER_CHART / Math.max(1, runIds.length));
      var wide = Math.min(300, Math.round(width * 0.4), budget);
      var points = Math.max(MIN_POINTS, wide - wide % 20);
      var url = data.source + "&key=" + encodeURIComponent(key) + "&points=" + points +
        (withTime ? "&time=1" : "");
      running += 1;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (body.series) { loaded[key] = { series: body.series, time: withTime }; drawCell(key); }
          else if (cells[key]) { cells[key].querySelector(".plot").textContent = body.message || "Could not load."; }
        })
        .catch(function () {
          if (cells[key]) { cells[key].querySelector(".plot").textContent = "Could not load."; }
        })
        .then(function () { running -= 1; pump(); });
    }
    // Ask for a metric (again, when a time axis needs timestamps it was fetched without).
    function want(key) {
      var have = loaded[key], needTime = options().mode !== "step";
      if (have && (have.time || !needTime)) { drawCell(key); return; }
      if (queue.indexOf(key) < 0) { queue.push(key); }
      pump();
    }
    var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var key = entry.target.dataset.key;
        wanted[key] = entry.isIntersecting;
        if (entry.isIntersecting) { want(key); }
      });
      settled();
    }, { rootMargin: "200px" }) : null;
    function chosenKeys() {
      var boxes = controls.querySelectorAll("input[name=metric]");
      if (!boxes.length) { return data.keys.slice(); }
      return Array.prototype.filter.call(boxes, function (b) { return b.checked; })
        .map(function (b) { return b.value; });
    }
    function draw() {
      var opts = options();
      if (shown) { shown.textContent = opts.smoothing.toFixed(2); }
      var keys = chosenKeys();
      Object.keys(cells).forEach(function (key) {
        if (keys.indexOf(key) < 0) {
          var plot = cells[key].querySelector(".plot");
          if (plot._fullLayout) { Plotly.purge(plot); }
          if (observer) { observer.unobserve(cells[key]); }
          cells[key].remove();
          delete cells[key];
          delete wanted[key];
        }
      });
      keys.forEach(function (key) {
        var cell = cells[key];
        if (!cell) {
          cell = cells[key] = el("figure", "chart-cell");
          cell.dataset.key = key;
          var caption = el("figcaption", "", key);
          caption.title = key;
          cell.appendChild(caption);
          cell.appendChild(el("div", "plot"));
          grid.appendChild(cell);
          if (observer) { observer.observe(cell); } else { wanted[key] = true; }
        }
        grid.appendChild(cell);  // in the picked order
        if (wanted[key]) { want(key); }
      });
      settled();
    }
    controls.addEventListener("change", draw);
    if (smoothing) { smoothing.addEventListener("input", draw); }
    draw();
    return draw;
  }

  return {
    colorOf: colorOf, assignColors: assignColors, esc: esc, themed: themed, shorten: shorten, readJSON: readJSON, histories: histories,
    lazyHistories: lazyHistories,
  };
})();
