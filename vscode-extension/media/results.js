// The results webview's only script (loaded with the page's nonce): draws the figures that
// the extension built (src/charts.ts) with the bundled plotly.js, first from the page's JSON
// block, then from each "update" message of a live run (head and tables replaced, charts
// redrawn in place with Plotly.react, so zoom and hover survive a refresh). It says "ready"
// once it listens; the extension then sends the newest update.
(function () {
  "use strict";
  const charts = document.getElementById("charts");
  const head = document.getElementById("head");
  const tables = document.getElementById("tables");

  function themed(layout) {
    const style = getComputedStyle(document.body);
    const color = style.getPropertyValue("--vscode-foreground").trim() || "#444";
    const family = style.getPropertyValue("--vscode-font-family").trim() || "sans-serif";
    const grid = "rgba(128,128,128,0.25)";
    return Object.assign({}, layout, {
      font: Object.assign({}, layout.font || {}, { color: color, family: family }),
      xaxis: Object.assign({ gridcolor: grid, zerolinecolor: grid }, layout.xaxis || {}),
      yaxis: Object.assign({ gridcolor: grid, zerolinecolor: grid }, layout.yaxis || {}),
    });
  }

  function draw(figures) {
    if (!charts) return;
    if (typeof Plotly === "undefined") {
      charts.innerHTML = '<p class="chart-error">The charting library did not load.</p>';
      return;
    }
    const wanted = new Set(figures.map(function (f) { return "chart-" + f.id; }));
    Array.from(charts.children).forEach(function (el) {
      if (!wanted.has(el.id)) {
        if (el.classList.contains("chart")) Plotly.purge(el);
        el.remove();
      }
    });
    if (!figures.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = "No finished trial yet: nothing to chart.";
      charts.appendChild(empty);
    }
    figures.forEach(function (figure) {
      let el = document.getElementById("chart-" + figure.id);
      if (!el) {
        el = document.createElement("div");
        el.id = "chart-" + figure.id;
        el.className = "chart";
        el.setAttribute("data-chart", figure.id);
        charts.appendChild(el);
      }
      Plotly.react(el, figure.data, themed(figure.layout), { displaylogo: false, responsive: true });
    });
    charts.setAttribute("data-rendered", String(figures.length));
  }

  window.addEventListener("message", function (event) {
    const message = event.data;
    if (!message || message.type !== "update") return;
    if (head && typeof message.head === "string") head.innerHTML = message.head;
    if (tables && typeof message.tables === "string") tables.innerHTML = message.tables;
    draw(Array.isArray(message.figures) ? message.figures : []);
  });

  const block = document.getElementById("hpo-figures");
  draw(block ? JSON.parse(block.textContent || "[]") : []);
  // the extension sends updates only after this (messages sent earlier would be lost)
  acquireVsCodeApi().postMessage({ type: "ready" });
})();
