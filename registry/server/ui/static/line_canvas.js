// Line charts of many runs drawn on a <canvas>: the chart grid's sweeps of up to 500 runs.
//
// plotly builds an SVG path and hover structures per chart, a few hundred milliseconds for 500
// runs however few points each has; a canvas draws the same lines in a few milliseconds. It takes
// the traces lineChart builds for plotly (one per colour: x and y with a null between runs, the
// run ids in meta, each point's run name in text) and keeps them on the element as plotly would
// (el.data, el.layout.yaxis.type), so what was drawn can be read back the same way. Hovering
// names the nearest run and thickens its line.
var ModelyardLines = (function () {
  "use strict";
  var MARGIN = { l: 52, r: 12, t: 8, b: 36 };
  var HOVER_RADIUS = 24;
  var SI = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "\u00b5"], [1e-9, "n"]];

  // Round steps (1, 2 or 5 times a power of ten) giving about `count` ticks over [lo, hi].
  function linearTicks(lo, hi, count) {
    if (!(hi > lo)) { return [lo]; }
    var raw = (hi - lo) / count;
    var step = Math.pow(10, Math.floor(Math.log10(raw)));
    var ratio = raw / step;
    step *= ratio >= 5 ? 10 : ratio >= 2 ? 5 : ratio >= 1 ? 2 : 1;
    var ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  // Powers of ten inside [lo, hi] (both > 0), with 2 and 5 times them when fewer than three.
  function logTicks(lo, hi) {
    var ticks = [];
    var first = Math.floor(Math.log10(lo)), last = Math.ceil(Math.log10(hi));
    [[1], [1, 2, 5]].some(function (mantissas) {
      ticks = [];
      for (var e = first; e <= last; e++) {
        mantissas.forEach(function (m) {
          var v = m * Math.pow(10, e);
          if (v >= lo && v <= hi) { ticks.push(v); }
        });
      }
      return ticks.length >= 3;
    });
    return ticks.length ? ticks : [lo, hi];
  }

  // 1.5k, 20m, 3µ: plotly's "SI" exponent format, three significant digits at most.
  function si(v) {
    if (v === 0) { return "0"; }
    var size = Math.abs(v);
    for (var i = 0; i < SI.length; i++) {
      if (size >= SI[i][0] * 0.9995) { return String(Number((v / SI[i][0]).toPrecision(3))) + SI[i][1]; }
    }
    return v.toExponential(1);
  }

  function timeLabel(ms, span) {
    var d = new Date(ms);
    var iso = new Date(ms - d.getTimezoneOffset() * 60000).toISOString();
    if (span > 3 * 86400000) { return iso.slice(0, 10); }
    return span > 120000 ? iso.slice(11, 16) : iso.slice(11, 19);
  }

  function extent(traces, log) {
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    traces.forEach(function (t) {
      for (var i = 0; i < t.x.length; i++) {
        var x = t.x[i], y = t.y[i];
        if (x === null || y === null || (log && !(y > 0))) { continue; }
        if (x < x0) { x0 = x; } if (x > x1) { x1 = x; }
        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
      }
    });
    if (x0 === Infinity) { return null; }
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    if (y0 === y1) { var pad = log ? y0 * 0.5 : Math.abs(y0) * 0.1 || 1; y0 -= pad; y1 += pad; }
    if (!log) { var margin = (y1 - y0) * 0.04; y0 -= margin; y1 += margin; }
    return { x0: x0, x1: x1, y0: y0, y1: y1 };
  }

  // Draw `traces` into `plot` (a div): axes, ticks, one path per trace. opts: {log, mode, xTitle}.
  function draw(plot, traces, opts) {
    plot.data = traces;
    plot.layout = { yaxis: { type: opts.log ? "log" : "linear" } };
    var canvas = plot.querySelector("canvas.lines");
    if (!canvas) {
      plot.textContent = "";
      canvas = document.createElement("canvas");
      canvas.className = "lines";
      canvas.setAttribute("role", "img");
      plot.appendChild(canvas);
      var tip = document.createElement("div");
      tip.className = "line-tip";
      tip.hidden = true;
      plot.appendChild(tip);
      canvas.addEventListener("mousemove", function (event) { hover(plot, event); });
      canvas.addEventListener("mouseleave", function () { unhover(plot); });
      if ("ResizeObserver" in window) {
        var width = plot.clientWidth;
        new ResizeObserver(function () {
          if (plot.clientWidth !== width) { width = plot.clientWidth; render(plot); }
        }).observe(plot);
      }
    }
    plot.chart = { traces: traces, opts: opts, hovered: null };
    canvas.setAttribute("aria-label", traces.reduce(function (n, t) { return n + t.meta.length; }, 0) + " runs");
    render(plot);
  }

  function render(plot) {
    var chart = plot.chart, canvas = plot.querySelector("canvas.lines");
    var width = plot.clientWidth || 300, height = plot.clientHeight || 220;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    var log = chart.opts.log, box = extent(chart.traces, log);
    chart.box = box;
    if (!box) { return; }
    var left = MARGIN.l, right = width - MARGIN.r, top = MARGIN.t, bottom = height - MARGIN.b;
    var ly0 = log ? Math.log10(box.y0) : box.y0, ly1 = log ? Math.log10(box.y1) : box.y1;
    chart.px = function (x) { return left + (x - box.x0) / (box.x1 - box.x0) * (right - left); };
    chart.py = function (y) {
      var v = log ? Math.log10(y) : y;
      return bottom - (v - ly0) / (ly1 - ly0) * (bottom - top);
    };
    var color = window.getComputedStyle(document.body).color;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = color;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    // Grid lines and tick labels.
    ctx.globalAlpha = 0.15;
    var yTicks = log ? logTicks(box.y0, box.y1) : linearTicks(box.y0, box.y1, 5);
    var xTicks = linearTicks(box.x0, box.x1, 5);
    ctx.beginPath();
    yTicks.forEach(function (v) { var y = Math.round(chart.py(v)) + 0.5; ctx.moveTo(left, y); ctx.lineTo(right, y); });
    xTicks.forEach(function (v) { var x = Math.round(chart.px(v)) + 0.5; ctx.moveTo(x, top); ctx.lineTo(x, bottom); });
    ctx.stroke();
    ctx.globalAlpha = 0.85;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    yTicks.forEach(function (v) { ctx.fillText(si(v), left - 6, chart.py(v)); });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    var span = box.x1 - box.x0;
    xTicks.forEach(function (v) {
      ctx.fillText(chart.opts.mode === "time" ? timeLabel(v, span) : si(v), chart.px(v), bottom + 4);
    });
    ctx.fillText(chart.opts.xTitle, (left + right) / 2, bottom + 19);
    ctx.globalAlpha = 1;
    // The lines, clipped to the plotting area.
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, right - left, bottom - top);
    ctx.clip();
    ctx.lineWidth = chart.opts.width || 1.2;
    ctx.lineJoin = "round";
    chart.traces.forEach(function (t) { stroke(ctx, chart, t, null); });
    if (chart.hovered) {
      ctx.lineWidth = 3;
      stroke(ctx, chart, chart.hovered.trace, chart.hovered.run);
    }
    ctx.restore();
  }

  // One trace's path; with `run`, only that run's stretch (its index in trace.meta).
  function stroke(ctx, chart, t, run) {
    var segment = 0, pen = false, log = chart.opts.log;
    ctx.strokeStyle = t.line.color;
    ctx.beginPath();
    for (var i = 0; i < t.x.length; i++) {
      var x = t.x[i], y = t.y[i];
      if (x === null) { segment += 1; pen = false; continue; }  // the gap between two runs
      if (run !== null && segment !== run) { continue; }
      if (y === null || (log && !(y > 0))) { pen = false; continue; }  // a NaN: a gap
      if (pen) { ctx.lineTo(chart.px(x), chart.py(y)); } else { ctx.moveTo(chart.px(x), chart.py(y)); pen = true; }
    }
    ctx.stroke();
  }

  // The nearest drawn point to the pointer, within HOVER_RADIUS pixels.
  function nearest(chart, mx, my) {
    var best = null, bestDistance = HOVER_RADIUS * HOVER_RADIUS;
    chart.traces.forEach(function (t) {
      var segment = 0;
      for (var i = 0; i < t.x.length; i++) {
        var x = t.x[i], y = t.y[i];
        if (x === null) { segment += 1; continue; }
        if (y === null || (chart.opts.log && !(y > 0))) { continue; }
        var dx = chart.px(x) - mx, dy = chart.py(y) - my, d = dx * dx + dy * dy;
        if (d < bestDistance) { bestDistance = d; best = { trace: t, run: segment, index: i }; }
      }
    });
    return best;
  }

  function hover(plot, event) {
    var chart = plot.chart;
    if (!chart || !chart.box) { return; }
    var rect = plot.getBoundingClientRect();
    var mx = event.clientX - rect.left, my = event.clientY - rect.top;
    var found = nearest(chart, mx, my);
    var tip = plot.querySelector(".line-tip");
    var same = found && chart.hovered && found.trace === chart.hovered.trace && found.run === chart.hovered.run;
    chart.hovered = found;
    if (!same) { render(plot); }
    if (!found) { tip.hidden = true; return; }
    var t = found.trace, x = t.x[found.index];
    var shownX = chart.opts.mode === "time" ? new Date(x).toISOString().replace("T", " ").slice(0, 19) : si(x);
    tip.textContent = t.text[found.index] + "  \u2022  " + shownX + ": " + Number(t.y[found.index].toPrecision(4));
    tip.style.borderColor = t.line.color;
    tip.hidden = false;
    var tipLeft = Math.min(mx + 12, plot.clientWidth - tip.offsetWidth - 4);
    tip.style.left = Math.max(0, tipLeft) + "px";
    tip.style.top = Math.max(0, my - 28) + "px";
  }

  function unhover(plot) {
    var chart = plot.chart;
    plot.querySelector(".line-tip").hidden = true;
    if (chart && chart.hovered) { chart.hovered = null; render(plot); }
  }

  return { draw: draw, linearTicks: linearTicks, logTicks: logTicks, si: si };
})();
