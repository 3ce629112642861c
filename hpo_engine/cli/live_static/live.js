// hpo dashboard's live page (served at /live/ by hpo_engine/cli/live_page.py): polls data.json
// every poll_ms (1 s) with If-None-Match (304 while no store changed) and draws, per store, the
// state counts, the best configuration, the optimization history, parallel coordinates,
// learning curves and hyper-parameter importance (plotly.js, SVG traces; redrawn in place with Plotly.react so zoom and hover
// survive a refresh) and the trial table. Colors as in the VS Code results view: best green,
// pruned grey and dashed, failed red, running orange. Trial numbers are the store's (0-based).
// A large store: the table shows 200 rows, parallel coordinates the best and the newest 1,000
// finished trials, learning curves those the server sent (at most live_page.MAX_CURVES); the counts
// and the table are painted before the charts, and charts that took long to draw wait for
// twice their drawing time before the next redraw.
(function () {
  "use strict";
  const TABLE_ROWS = 200;
  const MAX_LINES = 1000; // parallel coordinates: the newest trials (and the best) beyond this
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const COLORS = { best: "#2ca02c", pruned: "#8c8c8c", failed: "#d62728", running: "#ff7f0e", complete: "#1f77b4" };
  const main = document.getElementById("stores");
  const status = document.getElementById("status");
  const sortBest = {}; // store index -> the table sorted best first
  let etag = null;
  let last = null;
  let pollMs = 1000;
  let drawn = 0; // answers rendered so far: a chart drawing queued for an older one is skipped
  let chartsAllowedAt = 0; // performance.now() before which the charts are not drawn again

  function isNumber(v) { return typeof v === "number" && Number.isFinite(v); }
  function short(v) { return isNumber(v) ? Number(v.toPrecision(4)).toString() : String(v); }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== null && v !== undefined) node.setAttribute(k, v); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function viridis(t) {
    const x = Math.min(1, Math.max(0, isNumber(t) ? t : 0)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
    const f = x - i;
    return "rgb(" + VIRIDIS[i].map((v, k) => Math.round(v + (VIRIDIS[i + 1][k] - v) * f)).join(",") + ")";
  }
  function layout(title, extra) {
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    const grid = "rgba(128,128,128,0.25)";
    return Object.assign({
      title: { text: title, font: { size: 14 }, x: 0.01, xanchor: "left" }, height: 340, margin: { l: 60, r: 20, t: 40, b: 40 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: { color: dark ? "#ddd" : "#333" },
      legend: { orientation: "h", x: 0, y: -0.25, yanchor: "top" },
    }, extra, {
      xaxis: Object.assign({ gridcolor: grid, zerolinecolor: grid }, (extra || {}).xaxis),
      yaxis: Object.assign({ gridcolor: grid, zerolinecolor: grid }, (extra || {}).yaxis),
    });
  }

  // -- figures -------------------------------------------------------------------------
  function history(store) {
    const complete = store.trials.filter((t) => t.state === "complete" && isNumber(t.objective));
    const floor = complete.length ? Math.min(...complete.map((t) => t.objective)) : 0;
    const data = [];
    if (complete.length) data.push({ type: "scatter", mode: "markers", name: "objective", x: complete.map((t) => t.number), y: complete.map((t) => t.objective), marker: { color: COLORS.complete, size: 6 }, hovertemplate: "trial %{x}: %{y}<extra></extra>" });
    if (store.running_best.length) data.push({ type: "scatter", mode: "lines", name: "best so far", x: store.running_best.map((p) => p[0]), y: store.running_best.map((p) => p[1]), line: { shape: "hv", color: COLORS.failed, width: 2 } });
    [["pruned", "triangle-down"], ["failed", "x"]].forEach(([state, symbol]) => {
      const some = store.trials.filter((t) => t.state === state);
      if (some.length) data.push({ type: "scatter", mode: "markers", name: state + " (" + some.length + ")", x: some.map((t) => t.number), y: some.map((t) => (isNumber(t.objective) ? t.objective : floor)), marker: { color: COLORS[state], symbol, size: 8, opacity: 0.7 }, hovertemplate: "trial %{x} " + state + "<extra></extra>" });
    });
    return data.length ? { data, layout: layout("optimization history", { xaxis: { title: { text: "trial" }, rangemode: "tozero" }, yaxis: { title: { text: store.objective } } }) } : null;
  }

  function axisScale(axis, values) {
    if (axis.scale === "category") {
      const span = Math.max(1, axis.categories.length - 1);
      return { at: (v) => { const i = axis.categories.indexOf(String(v)); return i < 0 ? null : (axis.categories.length > 1 ? i / span : 0.5); }, ticks: axis.categories.map((c, i) => [axis.categories.length > 1 ? i / span : 0.5, c]) };
    }
    const log = axis.scale === "log";
    const f = (v) => (isNumber(v) && (!log || v > 0) ? (log ? Math.log(v) : v) : null);
    const seen = values.map(f).filter((v) => v !== null);
    const low = seen.length ? Math.min(...seen) : 0;
    const high = seen.length ? Math.max(...seen) : 1;
    const back = (v) => (log ? Math.exp(v) : v);
    return { at: (v) => { const x = f(v); return x === null ? null : (high === low ? 0.5 : (x - low) / (high - low)); }, ticks: high === low ? [[0.5, short(back(low))]] : [[0, short(back(low))], [1, short(back(high))]] };
  }

  /** The newest `limit` of `items` (by trial number), with those `keep` says must stay. */
  function newest(items, limit, keep) {
    if (items.length <= limit) return items;
    const kept = items.filter(keep);
    const rest = items.filter((t) => !keep(t)).sort((a, b) => b.number - a.number).slice(0, Math.max(0, limit - kept.length));
    return kept.concat(rest).sort((a, b) => a.number - b.number);
  }

  function shownOf(shown, all) {
    return shown < all ? " (" + shown + " of " + all + " trials: the best and the newest)" : "";
  }

  function parallel(store) {
    const finished = store.trials.filter((t) => t.state !== "running");
    const trials = newest(finished, MAX_LINES, (t) => t.number === store.best);
    const complete = trials.filter((t) => t.state === "complete" && isNumber(t.objective));
    if (!complete.length || !store.axes.length) return null;
    const columns = store.axes.map((a) => Object.assign({ axis: a }, axisScale(a, trials.map((t) => t.values[a.name]))));
    const objective = axisScale({ scale: "linear" }, complete.map((t) => t.objective));
    const n = columns.length;
    const groups = new Map(); // name -> {xs, ys, line}
    function add(name, line, t, withObjective) {
      const ys = columns.map((c) => c.at(t.values[c.axis.name]));
      if (ys.some((y) => y === null)) return;
      if (withObjective) ys.push(objective.at(t.objective));
      if (!groups.has(name)) groups.set(name, { xs: [], ys: [], line });
      const g = groups.get(name);
      ys.forEach((y, i) => { g.xs.push(i); g.ys.push(y); });
      g.xs.push(null); g.ys.push(null);
    }
    trials.filter((t) => t.state === "pruned").forEach((t) => add("pruned", { color: COLORS.pruned, width: 1, dash: "dash" }, t, false));
    trials.filter((t) => t.state === "failed").forEach((t) => add("failed", { color: COLORS.failed, width: 1, dash: "dot" }, t, false));
    complete.forEach((t) => {
      if (t.number === store.best) return;
      const bin = Math.min(4, Math.floor(objective.at(t.objective) * 5));
      add("objective " + (bin + 1) + "/5", { color: viridis(bin / 4), width: 1.2 }, t, true);
    });
    complete.filter((t) => t.number === store.best).forEach((t) => add("best", { color: COLORS.best, width: 3 }, t, true));
    const data = Array.from(groups.entries()).map(([name, g]) => ({ type: "scatter", mode: "lines", name, x: g.xs, y: g.ys, line: g.line, opacity: name === "pruned" ? 0.45 : 0.85, connectgaps: false, hoverinfo: "skip" }));
    const xs = columns.map((_, i) => i).concat([n]);
    const ticks = columns.map((c) => c.ticks).concat([objective.ticks]);
    const annotations = ticks.flatMap((list, i) => list.map(([y, text]) => ({ x: i, y, text: String(text), xanchor: "left", xshift: 4, showarrow: false, font: { size: 10 } })));
    const shapes = xs.map((x) => ({ type: "line", x0: x, x1: x, y0: 0, y1: 1, line: { color: "rgba(128,128,128,0.8)", width: 1 } }));
    const labels = columns.map((c) => c.axis.name + (c.axis.scale === "log" ? " (log)" : "")).concat([store.objective]);
    return { data, layout: layout("parallel coordinates" + shownOf(trials.length, finished.length), { xaxis: { tickvals: xs, ticktext: labels, range: [-0.2, n + 0.5], showgrid: false, zeroline: false }, yaxis: { visible: false, range: [-0.05, 1.05] }, annotations, shapes }) };
  }

  function curves(store) {
    if (!store.curves.some((c) => c.points.length)) return null;
    const groups = new Map();
    store.curves.forEach((c) => { // the server chose them (chart_data.curve_trials)
      const name = c.number === store.best ? "best" : c.state;
      if (!groups.has(name)) groups.set(name, { xs: [], ys: [] });
      const g = groups.get(name);
      c.points.forEach((p) => { g.xs.push(p[0]); g.ys.push(p[1]); });
      g.xs.push(null); g.ys.push(null);
    });
    const order = ["pruned", "failed", "complete", "running", "best"];
    const data = Array.from(groups.entries()).sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([name, g]) => ({
      type: "scatter", mode: "lines+markers", name, x: g.xs, y: g.ys, connectgaps: false, marker: { size: 3, color: COLORS[name] || COLORS.complete },
      line: { color: COLORS[name] || COLORS.complete, width: name === "best" ? 3 : 1.2, dash: name === "pruned" ? "dash" : name === "failed" ? "dot" : "solid" },
      opacity: name === "pruned" ? 0.45 : name === "best" ? 1 : 0.75,
    }));
    return { data, layout: layout("learning curves" + shownOf(store.curves.length, Math.max(store.curves_total || 0, store.curves.length)), { xaxis: { title: { text: store.step_key || "step" } }, yaxis: { title: { text: store.objective } } }) };
  }

  function importance(store) {
    const values = store.importance;
    if (!values || !Object.keys(values).length) return null;
    const names = Object.keys(values).sort((a, b) => values[a] - values[b]); // largest at the top
    return {
      data: [{ type: "bar", orientation: "h", x: names.map((n) => values[n]), y: names, marker: { color: COLORS.complete }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>", name: "importance" }],
      layout: layout("hyper-parameter importance (PED-ANOVA, " + store.importance_trials + " complete trials)", { showlegend: false, margin: { l: 110, r: 20, t: 40, b: 40 }, xaxis: { range: [0, 1], title: { text: "importance" } } }),
    };
  }

  // -- page ----------------------------------------------------------------------------
  function section(store) {
    const id = "store-" + store.index;
    let node = document.getElementById(id);
    if (!node) {
      node = el("section", { id, class: "store" });
      node.appendChild(el("h2"));
      node.appendChild(el("div", { class: "summary" }));
      node.appendChild(el("div", { class: "best" }));
      const charts = el("div", { class: "charts" });
      ["history", "parallel", "curves", "importance"].forEach((kind) => charts.appendChild(el("div", { class: "chart", id: id + "-" + kind, "data-chart": kind })));
      node.appendChild(charts);
      node.appendChild(el("div", { class: "table" }));
      main.appendChild(node);
    }
    return node;
  }

  function summary(store, node) {
    const counts = { complete: 0, pruned: 0, failed: 0, running: 0 };
    store.trials.forEach((t) => { counts[t.state] = (counts[t.state] || 0) + 1; });
    const finished = counts.complete + counts.pruned + counts.failed;
    node.setAttribute("data-trials", String(store.trials.length));
    node.setAttribute("data-finished", String(finished));
    node.querySelector("h2").textContent = store.experiment + " / " + store.reference;
    const box = node.querySelector(".summary");
    box.replaceChildren();
    const parts = [["method", store.method], ["objective", (store.maximize ? "maximize " : "minimize ") + store.objective], ["finished", finished + " of " + store.budget]];
    ["complete", "pruned", "failed", "running"].forEach((s) => { if (counts[s]) parts.push([s, String(counts[s])]); });
    parts.forEach(([k, v]) => { const span = el("span", { class: "count count-" + k }, k + " "); span.appendChild(el("b", {}, v)); box.appendChild(span); });
    if (store.pruning && store.pruning.saved_percent !== null) box.appendChild(el("span", { class: "count" }, "early stopping saved " + store.pruning.saved_percent + "% of " + store.pruning.unit));
    if (store.study_url) { const a = el("a", { href: store.study_url }, "slice, contour, timeline in optuna-dashboard \u2192"); box.appendChild(a); }
    const best = node.querySelector(".best");
    best.replaceChildren();
    const trial = store.trials.find((t) => t.number === store.best);
    if (!trial) { best.appendChild(el("span", { class: "note" }, "No complete trial yet.")); return; }
    best.appendChild(el("b", {}, "best: trial " + trial.number + "  " + store.objective + " = " + short(trial.objective) + "  "));
    best.appendChild(el("code", { class: "best-config" }, JSON.stringify(trial.values)));
  }

  function table(store, node) {
    const box = node.querySelector(".table");
    box.replaceChildren();
    const names = store.axes.map((a) => a.name);
    const byBest = !!sortBest[store.index];
    const sign = store.maximize ? -1 : 1;
    const rows = store.trials.slice().sort(byBest
      ? (a, b) => (isNumber(a.objective) ? 0 : 1) - (isNumber(b.objective) ? 0 : 1) || sign * ((a.objective || 0) - (b.objective || 0)) || a.number - b.number
      : (a, b) => b.number - a.number);
    const toggle = el("button", { class: "link", type: "button" }, byBest ? "newest first" : "best first");
    toggle.addEventListener("click", () => { sortBest[store.index] = !byBest; table(store, node); });
    const note = el("p", { class: "note" }, (rows.length > TABLE_ROWS ? "The " + TABLE_ROWS + " " + (byBest ? "best" : "newest") + " of " + rows.length + " trials, " : rows.length + " trials, ") + (byBest ? "best first. " : "newest first. "));
    note.appendChild(toggle);
    box.appendChild(note);
    const tableNode = el("table", { class: "trials" });
    const head = el("tr");
    ["trial", "state", store.objective, "step reached", "duration (s)"].concat(names).concat(["logs"]).forEach((h) => head.appendChild(el("th", {}, h)));
    tableNode.appendChild(head);
    rows.slice(0, TABLE_ROWS).forEach((t) => {
      const tr = el("tr", { class: t.number === store.best ? "is-best" : null, "data-trial": String(t.number) });
      tr.appendChild(el("td", { class: "num" }, String(t.number)));
      tr.appendChild(el("td", { class: "state-" + t.state }, t.state + (t.pruned_at ? " at " + t.pruned_at : "") + (t.attempts > 1 ? " (" + t.attempts + " attempts)" : "")));
      tr.appendChild(el("td", { class: "num" }, isNumber(t.objective) ? short(t.objective) : ""));
      tr.appendChild(el("td", { class: "num" }, t.step_reached === null || t.step_reached === undefined ? "" : short(t.step_reached)));
      tr.appendChild(el("td", { class: "num" }, isNumber(t.duration) ? t.duration.toFixed(1) : ""));
      names.forEach((n) => tr.appendChild(el("td", {}, t.values[n] === undefined ? "" : short(t.values[n]))));
      const logs = el("td");
      ["stdout", "stderr"].forEach((s, i) => { if (i) logs.appendChild(document.createTextNode(" ")); logs.appendChild(el("a", { href: "log/" + store.index + "/" + t.number + "/" + s, target: "_blank" }, s)); });
      tr.appendChild(logs);
      tableNode.appendChild(tr);
    });
    box.appendChild(tableNode);
  }

  // Each chart drawn is a performance measure "hpo-chart-<kind>" (the benchmark reads them).
  function draw(store, node) {
    [["history", history], ["parallel", parallel], ["curves", curves], ["importance", importance]].forEach(([kind, build]) => {
      const started = performance.now();
      const target = node.querySelector('[data-chart="' + kind + '"]');
      const figure = build(store);
      target.style.display = figure ? "" : "none";
      if (figure && typeof Plotly !== "undefined") {
        Plotly.react(target, figure.data, figure.layout, { displaylogo: false, responsive: true });
        target.setAttribute("data-rendered", "1");
      }
      performance.measure("hpo-chart-" + kind, { start: started });
    });
  }

  function render(data) {
    const started = performance.now();
    last = data;
    pollMs = data.poll_ms || pollMs;
    if (!data.stores.length) {
      main.replaceChildren(el("p", { class: "empty" }, "No result store here yet: it appears when hpo run starts writing one."));
      return;
    }
    const empty = main.querySelector("p.empty");
    if (empty) empty.remove();
    const wanted = new Set(data.stores.map((s) => "store-" + s.index));
    Array.from(main.querySelectorAll("section.store")).forEach((s) => { if (!wanted.has(s.id)) s.remove(); });
    const nodes = data.stores.map((store) => {
      const node = section(store);
      summary(store, node);
      table(store, node);
      return node;
    });
    const total = data.stores.reduce((n, s) => n + s.trials.length, 0);
    document.body.setAttribute("data-trials", String(total));
    performance.measure("hpo-table", { start: started });
    // the counts and the table are painted first (the frame after this one); the charts (the slow
    // part on a large store) after that, skipped when a newer answer came meanwhile
    const generation = ++drawn;
    const wait = Math.max(0, chartsAllowedAt - performance.now());
    window.requestAnimationFrame(() => window.setTimeout(() => {
      if (generation !== drawn) return; // a newer answer is drawn instead
      const started = performance.now();
      data.stores.forEach((store, i) => draw(store, nodes[i]));
      // charts that took long (a large store) are redrawn at most every 3x their time: the
      // counts and the table, cheap, still follow every answer
      const took = performance.now() - started;
      chartsAllowedAt = took > 100 ? performance.now() + 2 * took : 0;
    }, wait));
  }

  function say(text, state) {
    status.textContent = text;
    status.setAttribute("data-state", state);
  }

  async function poll() {
    try {
      const response = await fetch("data.json", { cache: "no-store", headers: etag ? { "If-None-Match": etag } : {} });
      if (response.status === 200) {
        etag = response.headers.get("ETag");
        render(await response.json());
      } else if (response.status !== 304) {
        throw new Error(response.status + " " + (await response.text()).trim());
      }
      say("updated " + new Date().toLocaleTimeString() + " \u00b7 every " + pollMs / 1000 + " s", "live");
    } catch (error) {
      say("cannot reach hpo dashboard (" + error.message + "); trying again", "error");
    }
    window.setTimeout(poll, pollMs);
  }

  window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { if (last) render(last); });
  poll();
})();
