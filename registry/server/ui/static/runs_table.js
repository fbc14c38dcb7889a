// Runs table: remembered columns, columns applied without a reload, select and bulk actions,
// folded child runs (the fold state kept per experiment), filter autocomplete.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("table-config").textContent);
  var columnsKey = "modelyard.columns." + config.experiment_id;
  var expandedKey = "modelyard.expanded." + config.experiment_id;
  var params = new URLSearchParams(window.location.search);

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  if (config.chosen) {
    save(columnsKey, config.columns.join(","));
  } else {
    var saved = load(columnsKey);
    if (saved !== null) {
      params.set("cols", saved);
      window.location.replace(window.location.pathname + "?" + params.toString());
      return;
    }
  }

  // --- Fold state: the ids of the parents the reader unfolded (folded is the default). ---
  function expandedSet() {
    try { return new Set(JSON.parse(load(expandedKey) || "[]")); } catch (e) { return new Set(); }
  }
  function showFolds(table) {
    var stack = [];
    table.querySelectorAll("tbody tr[data-depth]").forEach(function (row) {
      var depth = Number(row.dataset.depth);
      while (stack.length && stack[stack.length - 1].depth >= depth) { stack.pop(); }
      row.hidden = stack.some(function (level) { return !level.open; });
      var toggle = row.querySelector("button.toggle");
      if (toggle) { stack.push({ depth: depth, open: toggle.getAttribute("aria-expanded") === "true" }); }
    });
  }
  function setToggle(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "\u25be" : "\u25b8";
  }

  // --- Everything inside the table region (replaced when the columns change). ---
  function initRegion() {
    var table = document.getElementById("runs-table");
    var boxes = table.querySelectorAll("input[name=run]");
    var counter = document.getElementById("selection-count");
    var bulk = document.querySelectorAll("#runs-form [data-needs-selection]");
    function count() {
      var n = table.querySelectorAll("input[name=run]:checked").length;
      counter.textContent = n ? n + " selected" : "";
      bulk.forEach(function (button) { button.disabled = n === 0; });
    }
    boxes.forEach(function (box) { box.addEventListener("change", count); });
    var all = document.getElementById("select-all");
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { if (!box.closest("tr").hidden) { box.checked = all.checked; } });
      count();
    });
    count();

    var expanded = expandedSet();
    table.querySelectorAll("button.toggle").forEach(function (button) {
      var runId = button.closest("tr").dataset.run;
      setToggle(button, expanded.has(runId));
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        setToggle(button, open);
        var now = expandedSet();
        if (open) { now.add(runId); } else { now.delete(runId); }
        save(expandedKey, JSON.stringify(Array.from(now).slice(-500)));
        showFolds(table);
      });
    });
    showFolds(table);

    // Compare is a read: open it with GET, so that a reader (who may not delete) can compare
    // too. Past 100 runs the URL grows too long and the form posts instead.
    document.getElementById("runs-form").addEventListener("submit", function (event) {
      if (!event.submitter || event.submitter.value !== "compare") { return; }
      var ids = Array.prototype.map.call(
        table.querySelectorAll("input[name=run]:checked"), function (box) { return box.value; });
      if (ids.length === 0 || ids.length > 100) { return; }
      event.preventDefault();
      window.location.assign(config.compare_url + "?runs=" + ids.map(encodeURIComponent).join(","));
    });
  }
  initRegion();

  // --- Column picker: search, and each change applied in place. ---
  var columnsForm = document.getElementById("columns-form");
  var choices = columnsForm.querySelectorAll(".column-choice");
  var search = document.getElementById("column-search");
  document.getElementById("columns-apply").hidden = true;
  search.addEventListener("input", function () {
    var needle = search.value.trim().toLowerCase();
    choices.forEach(function (box) {
      box.closest("label").hidden = needle !== "" && box.value.toLowerCase().indexOf(needle) < 0;
    });
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }
  });
  var pending = null;
  function applyColumns() {
    var chosen = Array.prototype.filter.call(choices, function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    save(columnsKey, chosen.join(","));
    document.getElementById("cols-value").value = chosen.join(",");
    document.getElementById("columns-count").textContent = String(chosen.length);
    var query = new URLSearchParams(window.location.search);
    query.set("cols", chosen.join(","));
    var url = window.location.pathname + "?" + query.toString();
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(url, { signal: pending.signal, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("table-region");
        if (!fresh) { window.location.assign(url); return; }
        document.getElementById("table-region").replaceWith(fresh);
        window.history.replaceState(null, "", url);
        var filterCols = document.querySelector(".filter-form input[name=cols]");
        if (!filterCols) {
          filterCols = document.createElement("input");
          filterCols.type = "hidden";
          filterCols.name = "cols";
          document.querySelector(".filter-form").appendChild(filterCols);
        }
        filterCols.value = chosen.join(",");
        initRegion();
        document.dispatchEvent(new CustomEvent("modelyard:table-updated"));
      })
      .catch(function (error) { if (error.name !== "AbortError") { window.location.assign(url); } });
  }
  choices.forEach(function (box) { box.addEventListener("change", applyColumns); });
  columnsForm.addEventListener("submit", function (event) { event.preventDefault(); applyColumns(); });

  // --- Filter autocomplete: keys of this experiment, then operators, then "and". ---
  var input = document.getElementById("filter");
  var list = document.getElementById("filter-suggestions");
  var ATTRIBUTES = ["run_name", "run_id", "status", "user_id", "start_time", "end_time", "artifact_uri"];
  var NUMBER_OPS = ["=", "!=", "<", "<=", ">", ">="];
  var TEXT_OPS = ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];
  var NULL_OPS = ["IS NULL", "IS NOT NULL"];
  var allKeys = [];
  [["metrics", "metrics"], ["params", "params"], ["tags", "tags"]].forEach(function (pair) {
    (config.keys[pair[0]] || []).forEach(function (key) {
      allKeys.push(pair[1] + "." + (/^[\w.\-/:]+$/.test(key) ? key : "`" + key.replace(/`/g, "") + "`"));
    });
  });
  ATTRIBUTES.forEach(function (name) { allKeys.push("attributes." + name); });
  var active = -1;
  var current = { start: 0, end: 0, items: [] };

  function tokenAt(text, caret) {
    var start = caret;
    while (start > 0 && !/\s/.test(text[start - 1])) { start -= 1; }
    return { start: start, word: text.slice(start, caret) };
  }
  function suggestionsFor(text, caret) {
    var token = tokenAt(text, caret);
    var before = text.slice(0, token.start).trim();
    var previous = before.split(/\s+/).pop() || "";
    var word = token.word.toLowerCase();
    var items;
    if (/^(metrics|params|tags|attributes)\./.test(previous)) {
      var ops = previous.indexOf("metrics.") === 0 ? NUMBER_OPS.concat(NULL_OPS)
        : previous.indexOf("attributes.") === 0 ? NUMBER_OPS.concat(["LIKE", "ILIKE", "IN", "NOT IN"])
        : TEXT_OPS.concat(NULL_OPS);
      items = ops.filter(function (op) { return op.toLowerCase().indexOf(word) === 0; });
    } else if (before !== "" && /['"\d)]$|NULL$/i.test(previous) && !/^(and|or)$/i.test(previous)) {
      items = ["and"].filter(function (w) { return w.indexOf(word) === 0; });
    } else {
      items = allKeys.filter(function (key) { return key.toLowerCase().indexOf(word) >= 0; });
    }
    return { start: token.start, end: caret, items: items.slice(0, 12) };
  }
  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function render() {
    list.textContent = "";
    current.items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "filter-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.textContent = item;
      li.addEventListener("mousedown", function (event) { event.preventDefault(); accept(i); });
      list.appendChild(li);
    });
    if (active >= 0) { input.setAttribute("aria-activedescendant", "filter-suggestion-" + active); }
    var open = current.items.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function suggest() {
    if (document.activeElement !== input) { return; }
    current = suggestionsFor(input.value, input.selectionStart || 0);
    var word = input.value.slice(current.start, current.end);
    if (current.items.length === 1 && current.items[0] === word) { current.items = []; }
    active = -1;
    render();
  }
  function accept(i) {
    var item = current.items[i];
    var text = input.value;
    var rest = text.slice(current.end).replace(/^\S*/, "");
    var insert = item + " ";
    input.value = text.slice(0, current.start) + insert + rest.replace(/^\s+/, "");
    var caret = current.start + insert.length;
    input.setSelectionRange(caret, caret);
    input.focus();
    suggest();
  }
  input.addEventListener("input", suggest);
  input.addEventListener("focus", suggest);
  input.addEventListener("click", suggest);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", function (event) {
    if (list.hidden) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var n = current.items.length;
      active = event.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape") {
      event.preventDefault();  // a search field would clear itself
      close();
    }
  });
})();
