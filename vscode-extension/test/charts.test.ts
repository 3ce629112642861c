import { strict as assert } from "node:assert";
import { test } from "node:test";
import { chartFigures, coordinate, curvesFigure, historyFigure, parallelFigure, scaler, viridis } from "../src/charts";
import type { StoreCharts } from "../src/protocol";

// What hpo_engine.cli.plots.chart_data.store_charts gives for a grid search with ASHA (trimmed).
const store: StoreCharts = {
  reference: "grid",
  objective: "score",
  maximize: true,
  step_key: "epoch",
  axes: [
    { name: "x", scale: "linear", categories: [], base: 10 },
    { name: "optimizer", scale: "category", categories: ["sgd", "adam"], base: 10 },
    { name: "units", scale: "log", categories: [], base: 2 },
  ],
  trials: [
    { number: 0, state: "complete", objective: 0.93, values: { x: 0.9, optimizer: "sgd", units: 8 }, step_reached: 3, pruned_at: null },
    { number: 1, state: "pruned", objective: 0.11, values: { x: 0.1, optimizer: "adam", units: 32 }, step_reached: 1, pruned_at: "epoch 1" },
    { number: 2, state: "failed", objective: null, values: { x: 0.2, optimizer: "sgd", units: 8 }, step_reached: null, pruned_at: null },
    { number: 3, state: "complete", objective: 0.98, values: { x: 0.95, optimizer: "adam", units: 128 }, step_reached: 3, pruned_at: null },
  ],
  best: 3,
  running_best: [
    [0, 0.93],
    [3, 0.98],
  ],
  curves: [
    { number: 0, state: "complete", points: [[1, 0.91], [2, 0.92], [3, 0.93]] },
    { number: 1, state: "pruned", points: [[1, 0.11]] },
    { number: 3, state: "complete", points: [[1, 0.96], [2, 0.97], [3, 0.98]] },
  ],
  pruning: { pruned: 1, steps_run: 7, steps_without_stopping: 27, saved_percent: 74, unit: "epochs" },
};

type Trace = Record<string, any>;

test("the history shows complete trials, the running best, pruned and failed trials apart", () => {
  const figure = historyFigure([store]);
  assert.ok(figure);
  const byName = new Map(figure.data.map((t) => [t.name as string, t as Trace]));
  assert.deepEqual(byName.get("objective")?.x, [0, 3]);
  assert.deepEqual(byName.get("objective")?.y, [0.93, 0.98]);
  assert.equal(byName.get("best so far")?.line.shape, "hv");
  assert.deepEqual(byName.get("best so far")?.y, [0.93, 0.98]);
  const pruned = byName.get("pruned (1)");
  assert.deepEqual(pruned?.x, [1]);
  assert.deepEqual(pruned?.y, [0.11]); // its last value
  assert.equal(pruned?.marker.symbol, "triangle-down");
  assert.match(pruned?.text[0], /pruned at epoch 1/);
  const failed = byName.get("failed (1)");
  assert.deepEqual(failed?.x, [2]);
  assert.deepEqual(failed?.y, [0.93]); // at the lowest objective
  assert.equal((figure.layout.yaxis as Trace).title.text, "score");
});

test("axes: categories by position, power ranges on a log scale, labelled", () => {
  const [x, optimizer, units] = store.axes;
  assert.equal(coordinate(optimizer, "adam"), 1);
  assert.equal(coordinate(optimizer, "rmsprop"), null);
  assert.equal(coordinate(units, 0), null);
  assert.equal(coordinate(x, "text"), null);
  const log = scaler(units, [8, 32, 128]);
  assert.equal(log.scale(8), 0);
  assert.ok(Math.abs(log.scale(32) - 0.5) < 1e-12); // halfway on a log axis, not 24/120
  assert.equal(log.scale(128), 1);
  assert.deepEqual(log.ticks, [[0, "8"], [1, "128"]]);
  assert.deepEqual(scaler(optimizer, []).ticks, [[0, "sgd"], [1, "adam"]]);
  assert.deepEqual(scaler(x, [0.5, 0.5]).ticks, [[0.5, "0.5"]]);
});

test("parallel coordinates: one axis per hyper-parameter and the objective; best, pruned and failed apart", () => {
  const figure = parallelFigure(store, "parallel-0", "parallel coordinates");
  assert.ok(figure);
  const xaxis = figure.layout.xaxis as Trace;
  assert.deepEqual(xaxis.ticktext, ["x", "optimizer", "units (log)", "score"]);
  const traces = figure.data as Trace[];
  const best = traces.find((t) => t.name === "best");
  assert.ok(best);
  assert.deepEqual(best.y, [1, 1, 1, 1]);
  const pruned = traces.find((t) => t.name === "pruned");
  assert.equal(pruned?.line.dash, "dash");
  assert.ok((pruned?.opacity as number) < 0.5); // dimmed
  assert.equal(pruned?.y.length, 3); // no objective axis point for a trial that did not finish
  assert.equal(traces.find((t) => t.name === "failed")?.line.dash, "dot");
  const labels = (figure.layout.annotations as Trace[]).map((a) => a.text);
  for (const label of ["sgd", "adam", "8", "128", "0.93", "0.98"]) assert.ok(labels.includes(label), label);
  assert.equal(parallelFigure({ ...store, trials: store.trials.filter((t) => t.state !== "complete") }, "p", "p"), null);
});

test("learning curves: per step, pruned curves dimmed and dashed, the best thick", () => {
  const figure = curvesFigure(store, "curves-0", "learning curves");
  assert.ok(figure);
  const traces = figure.data as Trace[];
  assert.equal(traces.length, 3);
  const pruned = traces.find((t) => t.name === "pruned");
  assert.equal(pruned?.mode, "markers"); // one point
  assert.ok((pruned?.opacity as number) < 0.5);
  const best = traces.find((t) => t.name === "best");
  assert.deepEqual(best?.x, [1, 2, 3]);
  assert.equal(best?.line.width, 3);
  assert.equal((figure.layout.xaxis as Trace).title.text, "epoch");
  assert.equal(traces.filter((t) => t.showlegend).length, 3);
  assert.equal(curvesFigure({ ...store, curves: [] }, "c", "c"), null);
});

test("chartFigures: history first, then per store; names the store when several are compared", () => {
  assert.deepEqual(chartFigures({ stores: [store] }).map((f) => f.id), ["history", "parallel-0", "curves-0"]);
  const two = chartFigures({ stores: [store, { ...store, reference: "other" }] });
  assert.deepEqual(two.map((f) => f.title), ["optimization history", "parallel coordinates: grid", "learning curves: grid", "parallel coordinates: other", "learning curves: other"]);
  assert.ok(two[0].data.some((t) => t.name === "other: best so far"));
  assert.deepEqual(chartFigures(undefined), []);
  assert.deepEqual(chartFigures({ stores: [{ ...store, trials: [], running_best: [], curves: [] }] }), []);
});

test("viridis goes from purple to yellow", () => {
  assert.equal(viridis(0), "rgb(68,1,84)");
  assert.equal(viridis(1), "rgb(253,231,37)");
  assert.equal(viridis(Number.NaN), "rgb(68,1,84)");
});
