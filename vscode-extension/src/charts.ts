/**
 * The charts of the results view as plotly figures (data + layout), built from the server's
 * chart data (`RunSummary.charts`, read by the engine's own readers). No `vscode` import and
 * no plotly import: unit-tested in node; the webview (media/results.js) hands the figures to
 * the bundled plotly.js (its strict, CSP-safe build: SVG traces only, no eval).
 *
 * - history: objective per trial (complete trials as dots, the running best as a step line,
 *   pruned trials as grey triangles at their last value, failed ones as red crosses at the bottom);
 * - parallel coordinates: one vertical axis per hyper-parameter and one for the objective,
 *   each scaled to 0..1 (log for power ranges, by position for categories, with their labels);
 *   complete trials colored by objective, pruned dashed grey, failed dotted red;
 * - learning curves: objective per step of every trial, pruned curves dimmed, the best thick.
 * Trial numbers are the store's (0-based); steps are as the program wrote them.
 */
import type { ChartAxis, ChartsJson, ChartTrial, JsonValue, StoreCharts } from "./protocol";

export interface ChartFigure {
  id: string;
  title: string;
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

const BEST = "#2ca02c";
const PRUNED = "#8c8c8c";
const FAILED = "#d62728";
/** Viridis at 0, 0.25, 0.5, 0.75, 1 (the objective's color in parallel coordinates). */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
const STORE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"];

/** The color at `t` (0..1) of the viridis scale, as `rgb(r,g,b)`. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(",")})`;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function short(value: number): string {
  return Number(value.toPrecision(3)).toString();
}

function baseLayout(title: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 14 } },
    margin: { l: 60, r: 20, t: 40, b: 40 },
    height: 360,
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    ...extra,
  };
}

/** Where a value sits on its axis before scaling: the value, or a category's 0-based position. */
export function coordinate(axis: ChartAxis, value: JsonValue | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (axis.scale === "category") {
    const i = axis.categories.indexOf(String(value));
    return i >= 0 ? i : null;
  }
  if (!isNumber(value)) return null;
  if (axis.scale === "log" && value <= 0) return null;
  return value;
}

/** value -> 0..1 on `axis` (log for power ranges) and the labelled ticks beside the axis. */
export function scaler(axis: ChartAxis, seen: number[]): { scale: (x: number) => number; ticks: [number, string][] } {
  if (axis.scale === "category") {
    const span = Math.max(1, axis.categories.length - 1);
    return { scale: (x) => (axis.categories.length > 1 ? x / span : 0.5), ticks: axis.categories.map((c, i) => [axis.categories.length > 1 ? i / span : 0.5, c]) };
  }
  const log = axis.scale === "log";
  const data = seen.map((v) => (log ? Math.log(v) : v));
  const low = data.length ? Math.min(...data) : 0;
  const high = data.length ? Math.max(...data) : 1;
  const span = high - low || 1;
  const flat = high === low;
  const ends = log ? [Math.exp(low), Math.exp(high)] : [low, high];
  return {
    scale: (x) => (flat ? 0.5 : ((log ? Math.log(x) : x) - low) / span),
    ticks: flat ? [[0.5, short(ends[0])]] : [[0, short(ends[0])], [1, short(ends[1])]],
  };
}

function prefix(store: StoreCharts, many: boolean): string {
  return many ? `${store.reference}: ` : "";
}

/** The optimization history of every store in one figure. */
export function historyFigure(stores: StoreCharts[]): ChartFigure | null {
  const many = stores.length > 1;
  const data: Record<string, unknown>[] = [];
  stores.forEach((store, index) => {
    const color = many ? STORE_COLORS[index % STORE_COLORS.length] : "#1f77b4";
    const complete = store.trials.filter((t) => t.state === "complete" && isNumber(t.objective));
    const floor = complete.length ? Math.min(...complete.map((t) => t.objective as number)) : 0;
    const pruned = store.trials.filter((t) => t.state === "pruned");
    const failed = store.trials.filter((t) => t.state === "failed");
    if (complete.length) {
      data.push({ type: "scatter", mode: "markers", name: `${prefix(store, many)}objective`, x: complete.map((t) => t.number), y: complete.map((t) => t.objective), marker: { color, size: 7 }, text: complete.map((t) => `trial ${t.number}`) });
    }
    if (store.running_best.length) {
      data.push({ type: "scatter", mode: "lines", line: { shape: "hv", color: many ? color : "#d62728", width: 2 }, name: `${prefix(store, many)}best so far`, x: store.running_best.map(([n]) => n), y: store.running_best.map(([, b]) => b) });
    }
    if (pruned.length) {
      data.push({
        type: "scatter", mode: "markers", name: `${prefix(store, many)}pruned (${pruned.length})`,
        x: pruned.map((t) => t.number), y: pruned.map((t) => (isNumber(t.objective) ? t.objective : floor)),
        marker: { color: PRUNED, symbol: "triangle-down", size: 9, opacity: 0.7 },
        text: pruned.map((t) => `trial ${t.number} pruned at ${t.pruned_at ?? "?"}`),
      });
    }
    if (failed.length) {
      data.push({ type: "scatter", mode: "markers", name: `${prefix(store, many)}failed (${failed.length})`, x: failed.map((t) => t.number), y: failed.map(() => floor), marker: { color: FAILED, symbol: "x", size: 9 }, text: failed.map((t) => `trial ${t.number} failed`) });
    }
  });
  if (!data.length) return null;
  const objective = stores[0]?.objective ?? "objective";
  return { id: "history", title: "optimization history", data, layout: baseLayout("optimization history", { xaxis: { title: { text: "trial" }, rangemode: "tozero" }, yaxis: { title: { text: objective } } }) };
}

/** Parallel coordinates of one store (null without a complete trial). */
export function parallelFigure(store: StoreCharts, id: string, title: string): ChartFigure | null {
  const complete = store.trials.filter((t) => t.state === "complete" && isNumber(t.objective));
  if (!complete.length || !store.axes.length) return null;
  const columns = store.axes.map((axis) => {
    const seen = store.trials.map((t) => coordinate(axis, t.values[axis.name])).filter((x): x is number => x !== null);
    return { axis, ...scaler(axis, seen) };
  });
  const objectives = complete.map((t) => t.objective as number);
  const low = Math.min(...objectives);
  const high = Math.max(...objectives);
  const span = high - low || 1;
  const position = (v: number) => (high === low ? 0.5 : (v - low) / span);
  const xs = [...columns.map((_, i) => i), columns.length];
  const line = (t: ChartTrial, withObjective: boolean): number[] | null => {
    const ys: number[] = [];
    for (const c of columns) {
      const x = coordinate(c.axis, t.values[c.axis.name]);
      if (x === null) return null;
      ys.push(c.scale(x));
    }
    if (withObjective) ys.push(isNumber(t.objective) ? position(t.objective) : NaN);
    return ys;
  };
  const data: Record<string, unknown>[] = [];
  const legend = new Set<string>();
  const add = (t: ChartTrial, group: string, style: Record<string, unknown>, withObjective: boolean) => {
    const ys = line(t, withObjective);
    if (!ys) return;
    data.push({ type: "scatter", mode: "lines+markers", x: xs.slice(0, ys.length), y: ys, line: style, marker: { size: 4, color: style.color }, opacity: style.opacity ?? 0.8, name: group, legendgroup: group, showlegend: !legend.has(group), hovertemplate: `trial ${t.number}<extra></extra>` });
    legend.add(group);
  };
  for (const t of store.trials.filter((x) => x.state === "pruned")) add(t, "pruned", { color: PRUNED, width: 1, dash: "dash", opacity: 0.45 }, false);
  for (const t of store.trials.filter((x) => x.state === "failed")) add(t, "failed", { color: FAILED, width: 1, dash: "dot", opacity: 0.6 }, false);
  for (const t of [...complete].sort((a, b) => (store.maximize ? (a.objective as number) - (b.objective as number) : (b.objective as number) - (a.objective as number)))) {
    const best = t.number === store.best;
    add(t, best ? "best" : "complete", { color: best ? BEST : viridis(position(t.objective as number)), width: best ? 3 : 1.5 }, true);
  }
  const ticks = [...columns.map((c) => c.ticks), (high === low ? [[0.5, short(low)]] : [[0, short(low)], [1, short(high)]]) as [number, string][]];
  const annotations = ticks.flatMap((list, i) => list.map(([y, text]) => ({ x: i, y, text, xanchor: "left", xshift: 4, showarrow: false, font: { size: 10 } })));
  const shapes = xs.map((x) => ({ type: "line", x0: x, x1: x, y0: 0, y1: 1, line: { color: "rgba(128,128,128,0.8)", width: 1 } }));
  const labels = [...columns.map((c) => c.axis.name + (c.axis.scale === "log" ? " (log)" : "")), store.objective];
  return {
    id,
    title,
    data,
    layout: baseLayout(title, {
      xaxis: { tickvals: xs, ticktext: labels, range: [-0.2, xs.length - 0.5], showgrid: false, zeroline: false },
      yaxis: { visible: false, range: [-0.05, 1.05] },
      annotations,
      shapes,
    }),
  };
}

/** Learning curves of one store (null when no trial recorded values per step). */
export function curvesFigure(store: StoreCharts, id: string, title: string): ChartFigure | null {
  if (!store.curves.some((c) => c.points.length)) return null;
  const data: Record<string, unknown>[] = [];
  const legend = new Set<string>();
  const order = (state: string) => (state === "pruned" ? 0 : state === "failed" ? 1 : 2);
  for (const curve of [...store.curves].sort((a, b) => order(a.state) - order(b.state) || a.number - b.number)) {
    const best = curve.number === store.best;
    const group = best ? "best" : curve.state === "pruned" ? "pruned" : curve.state === "failed" ? "failed" : curve.state === "complete" ? "complete" : curve.state;
    const line =
      group === "best" ? { color: BEST, width: 3 } :
      group === "pruned" ? { color: PRUNED, width: 1, dash: "dash" } :
      group === "failed" ? { color: FAILED, width: 1, dash: "dot" } : { color: "#1f77b4", width: 1.5 };
    data.push({
      type: "scatter", mode: curve.points.length > 1 ? "lines" : "markers", x: curve.points.map(([s]) => s), y: curve.points.map(([, v]) => v),
      line, marker: { color: line.color, size: 5 }, opacity: group === "pruned" ? 0.4 : group === "best" ? 1 : 0.7,
      name: group, legendgroup: group, showlegend: !legend.has(group), hovertemplate: `trial ${curve.number} (${curve.state})<br>%{x}: %{y}<extra></extra>`,
    });
    legend.add(group);
  }
  return { id, title, data, layout: baseLayout(title, { xaxis: { title: { text: store.step_key ?? "step" } }, yaxis: { title: { text: store.objective } } }) };
}

/** Every figure of the results view: the history, then per store parallel coordinates and curves. */
export function chartFigures(charts: ChartsJson | undefined | null): ChartFigure[] {
  const stores = charts?.stores ?? [];
  const many = stores.length > 1;
  const figures: (ChartFigure | null)[] = [historyFigure(stores)];
  stores.forEach((store, i) => {
    const suffix = many ? `: ${store.reference}` : "";
    figures.push(parallelFigure(store, `parallel-${i}`, `parallel coordinates${suffix}`));
    figures.push(curvesFigure(store, `curves-${i}`, `learning curves${suffix}`));
  });
  return figures.filter((f): f is ChartFigure => f !== null);
}
