import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { RunSummary, SpaceJson, TrialRow } from "../src/protocol";
import { contentSecurityPolicy, displayValue, escapeHtml, formatValue, normalizePreview, pruningText, renderPreviewHtml, renderResultsHtml, scriptJson, sortTrials, trialLogLine } from "../src/render";

// What hpo_engine's SearchSpace.to_json() gives for the seed manifest (trimmed to two dimensions).
const space: SpaceJson = {
  dimensions: [
    { name: "learning_rate", kind: "double_range", count: 6, values: [0.005, 0.006, 0.007, 0.008, 0.009, 0.01], values_truncated: false, summary: "6 values" },
    { name: "fc", kind: "int_range", count: 6, values: [32, 64, 128, 256, 512, 1024], values_truncated: false, summary: "2^5 .. 2^10" },
  ],
  size: 36,
  finite_size: 36,
  is_finite: true,
  size_text: "36 combinations",
  points: [
    { learning_rate: 0.005, fc: 32 },
    { learning_rate: 0.005, fc: 64 },
    { learning_rate: 0.005, fc: 128 },
  ],
  points_are_samples: false,
};

test("escapeHtml escapes the five HTML characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  assert.equal(escapeHtml(3), "3");
});

test("formatValue writes strings quoted and floats short", () => {
  assert.equal(formatValue("relu"), '"relu"');
  assert.equal(formatValue(0.1 + 0.2), "0.3");
  assert.equal(formatValue(1024), "1024");
  assert.equal(formatValue(null), "—");
});

test("normalizePreview accepts a bare space, a references list and nested spaces", () => {
  assert.equal(normalizePreview(space)[0].name, "search space");
  const refs = normalizePreview({ references: [{ name: "model1", method: { name: "random" }, ...space }, { name: "m2", space }] });
  assert.deepEqual(refs.map((r) => r.name), ["model1", "m2"]);
  assert.equal(refs[0].method, "random");
  assert.deepEqual(normalizePreview([{ name: "x", search_space: space }]).map((r) => r.name), ["x"]);
  assert.deepEqual(normalizePreview(null), []);
  assert.deepEqual(normalizePreview({ references: [{ name: "broken" }] }), []);
});

test("the preview shows the values table, the count and the first points", () => {
  const html = renderPreviewHtml({ references: [{ name: "model1", ...space }] }, { title: "seed.yaml", maxPoints: 2 });
  assert.match(html, /<h2>model1<\/h2>/);
  assert.match(html, /36 combinations/);
  assert.match(html, /<td><code>learning_rate<\/code><\/td><td>double_range<\/td><td class="num">6<\/td><td>0\.005, 0\.006, 0\.007, 0\.008, 0\.009, 0\.01<\/td>/);
  assert.match(html, /First 2 points/);
  assert.equal((html.match(/<tr><td class="num">\d+<\/td><td class="num">/g) ?? []).length, 2);
  assert.match(html, /Content-Security-Policy/);
  assert.doesNotMatch(html, /<script/);
});

test("continuous dimensions show bounds, an infinite count and sampled points", () => {
  const continuous: SpaceJson = {
    dimensions: [{ name: "lr", kind: "double_range", count: null, bounds: [0.001, 0.1], scale: "log" }],
    size: null,
    points: [{ lr: 0.01 }],
    points_are_samples: true,
  };
  const html = renderPreviewHtml(continuous, { title: "t" });
  assert.match(html, /\[0\.001, 0\.1\] \(log scale\)/);
  assert.match(html, /∞/);
  assert.match(html, /infinite/);
  assert.match(html, /1 sampled points/);
});

test("manifest text is escaped in the preview", () => {
  const evil: SpaceJson = {
    dimensions: [{ name: "<img src=x onerror=alert(1)>", kind: "string_values", count: 1, values: ["</td><script>x</script>"] }],
    size: 1,
    points: [{ "<img src=x onerror=alert(1)>": "</td><script>x</script>" }],
  };
  const html = renderPreviewHtml({ references: [{ name: "<b>r</b>", ...evil }] }, { title: "<t>" });
  assert.doesNotMatch(html, /<img|<script|<b>r/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
});

test("the server's sections shape is read, errors included", () => {
  const json = {
    uri: "file:///w/a.yaml",
    version: 3,
    sections: [
      { path: ["training_references", 0, "hyper_parameters_optimization"], reference: "model1", method: "random", num_optimizer_steps: 4, title: "36 combinations", ...space },
      { path: ["training_references", 1, "hyper_parameters_optimization"], reference: "model2", method: "grid", error: "min_value > max_value <here>" },
    ],
  };
  const refs = normalizePreview(json);
  assert.deepEqual(refs.map((r) => r.name), ["model1", "model2"]);
  assert.equal(refs[0].method, "random");
  assert.equal(refs[0].num_optimizer_steps, 4);
  const html = renderPreviewHtml(json, { title: "a.yaml" });
  assert.match(html, /method <code>random<\/code> · 4 optimizer steps/);
  assert.match(html, /No search space: min_value &gt; max_value &lt;here&gt;/);
});

test("a bare number as size text gets its unit", () => {
  assert.match(renderPreviewHtml({ ...space, size_text: "144" }, { title: "t" }), /<strong>144 combinations<\/strong>/);
});

test("a preview without hyper-parameters says so", () => {
  assert.match(renderPreviewHtml({ references: [] }, { title: "t" }), /No search space to show/);
});

const trials: TrialRow[] = [
  { reference: "m", number: 0, values: { lr: 0.1 }, state: "complete", objective: 0.5 },
  { reference: "m", number: 1, values: { lr: 0.01 }, state: "failed", objective: null },
  { reference: "m", number: 2, values: { lr: 0.001 }, state: "complete", objective: 0.9 },
  { reference: "m", number: 3, values: { lr: 0.05 }, state: "complete", objective: 0.7 },
];

test("sortTrials puts the best first in the objective's direction, trials without objective last", () => {
  assert.deepEqual(sortTrials(trials, true).map((t) => t.number), [2, 3, 0, 1]);
  assert.deepEqual(sortTrials(trials, false).map((t) => t.number), [0, 3, 2, 1]);
});

test("the results page shows the best configuration and every trial sorted", () => {
  const summary: RunSummary = { uri: "file:///w/a.yaml", results_dir: "/w/hpo-results/x", state: "complete", objective: "accuracy", maximize: true, trials, best: null };
  const html = renderResultsHtml(summary, { title: "a.yaml" });
  assert.match(html, /Best configuration/);
  assert.match(html, /<tr><th>accuracy<\/th><td class="num">0\.9<\/td><\/tr>/);
  const order = [...html.matchAll(/<tr class="[a-z]*"><td>m<\/td><td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
  assert.deepEqual(order, [2, 3, 0, 1]);
  assert.match(html, /<tr class="best"><td>m<\/td><td class="num">2<\/td>/);
  assert.match(html, /4 trials, 3 complete/);
});

test("the results page without any objective says so", () => {
  const html = renderResultsHtml({ uri: "u", results_dir: "d", state: "failed", trials: [trials[1]], best: null }, { title: "t" });
  assert.match(html, /No trial recorded an objective/);
});

test("trialLogLine is one readable line", () => {
  assert.equal(trialLogLine(trials[2], "accuracy"), "[m] trial 2 complete accuracy=0.9 lr=0.001");
  assert.equal(trialLogLine(trials[1]), "[m] trial 1 failed lr=0.01");
});

test("results and the trial log print strings bare, as the CLI does", () => {
  assert.equal(displayValue("relu"), "relu");
  assert.equal(displayValue(0.1 + 0.2), "0.3");
  const row = { reference: "m", number: 0, values: { activation: "relu" }, state: "complete", objective: 0.5 };
  assert.equal(trialLogLine(row, "accuracy"), "[m] trial 0 complete accuracy=0.5 activation=relu");
  const html = renderResultsHtml({ uri: "u", results_dir: "d", state: "stored", trials: [row], best: row }, { title: "t" });
  assert.match(html, /<td class="num">relu<\/td>/);
  assert.doesNotMatch(html, /&quot;relu&quot;/);
});

test("the results page names its run, links the picker and offers Resume for an unfinished run", () => {
  const run = {
    results_dir: "/w/hpo-results/editor/a/20261201-210300-000", started_at: 1796158980, state: "incomplete", trials: 1, budget: 5,
    editor: true, label: "run of 2026-12-01 21:03 UTC, incomplete, 1 trial", objective: "accuracy", best: null,
    resume: { command: ["hpo", "run", "/w/a.yaml", "--results", "/w/hpo-results/editor/a/20261201-210300-000", "--resume"], text: "hpo run /w/a.yaml --results /w/hpo-results/editor/a/20261201-210300-000 --resume" },
  };
  const summary = { uri: "u", results_dir: run.results_dir, state: "stored", trials: [], best: null, run, runs: 2 };
  const html = renderResultsHtml(summary, { title: "a.yaml", links: { pickRun: "command:hpo.editor.pickRun?x", resume: "command:hpo.editor.resumeRun?y" } });
  assert.match(html, /Showing the run of 2026-12-01 21:03 UTC, incomplete, 1 trial/);
  assert.match(html, /<a class="pick-run" href="command:hpo.editor.pickRun\?x">Pick a run… \(2\)<\/a>/);
  assert.match(html, /<a class="button resume" role="button" href="command:hpo.editor.resumeRun\?y">Resume<\/a>/);
  assert.match(html, /<code class="resume-command">hpo run \/w\/a.yaml --results \/w\/hpo-results\/editor\/a\/20261201-210300-000 --resume<\/code>/);
  const complete = renderResultsHtml({ ...summary, run: { ...run, state: "complete", resume: null } }, { title: "a.yaml", links: { pickRun: "p" } });
  assert.doesNotMatch(complete, /Resume/);
});

test("a preview of a manifest with a syntax error names the error", () => {
  const html = renderPreviewHtml({ uri: "u", sections: [], error: "line 3: could not parse" }, { title: "t" });
  assert.match(html, /the manifest has an error, line 3: could not parse/);
});

const pruned: TrialRow = { reference: "m", number: 7, values: { lr: 0.5 }, state: "pruned", objective: 0.41, step_reached: 3, pruned_at: "epoch 3" };

test("pruned trials: state, step reached, count and the epochs saved", () => {
  const summary: RunSummary = {
    uri: "u", results_dir: "d", state: "complete", objective: "accuracy", maximize: true, trials: [...trials, pruned], best: trials[2],
    pruning: { m: { pruned: 1, steps_run: 12, steps_without_stopping: 36, saved_percent: 67, unit: "epochs" } },
  };
  const html = renderResultsHtml(summary, { title: "t" });
  assert.match(html, /5 trials, 3 complete, <span class="pruned-count">1 pruned<\/span>, 1 failed/);
  assert.match(html, /<p class="pruning">1 trial pruned: 12 of 36 epochs run, saved 67% of epochs<\/p>/);
  assert.match(html, /<tr class="pruned muted"><td>m<\/td><td class="num">7<\/td><td class="trial-state">pruned at epoch 3<\/td><td class="num">0\.41<\/td><td class="num step">3<\/td>/);
  assert.match(html, /<th>step reached<\/th>/);
  assert.equal(trialLogLine(pruned, "accuracy"), "[m] trial 7 pruned at epoch 3 accuracy=0.41  lr=0.5");
  assert.equal(pruningText({ pruned: 2, steps_run: null, steps_without_stopping: null, saved_percent: null, unit: "steps" }, "r"), "r: 2 trials pruned");
});

test("the results page with charts: scripts only with the nonce, from the extension, figures as JSON", () => {
  const store = { reference: "m", objective: "accuracy", maximize: true, step_key: null, axes: [{ name: "lr", scale: "linear", categories: [], base: 10 }], trials: trials.map((t) => ({ ...t })), best: 2, running_best: [[0, 0.5], [2, 0.9]] as [number, number][], curves: [], pruning: null };
  const summary: RunSummary = { uri: "u", results_dir: "d", state: "complete", objective: "accuracy", maximize: true, trials, best: trials[2], charts: { stores: [store] } };
  const options = { title: "t", cspSource: "https://x.vscode-cdn.net", nonce: "abc123", scripts: ["https://x.vscode-cdn.net/dist/media/plotly-strict.min.js", "https://x.vscode-cdn.net/media/results.js"] };
  const html = renderResultsHtml(summary, options);
  const csp = contentSecurityPolicy(options);
  assert.equal(csp, "default-src 'none'; style-src https://x.vscode-cdn.net 'unsafe-inline'; img-src https://x.vscode-cdn.net data:; font-src https://x.vscode-cdn.net; script-src 'nonce-abc123';");
  assert.doesNotMatch(csp, /unsafe-eval|http:|\*/);
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 3);
  assert.deepEqual(scripts.filter((a) => a.includes("src=")).map((a) => /nonce="abc123"/.test(a)), [true, true]);
  const block = /<script type="application\/json" id="hpo-figures">(.*?)<\/script>/s.exec(html);
  assert.ok(block);
  const figures = JSON.parse(block[1]) as { id: string }[];
  assert.deepEqual(figures.map((f) => f.id), ["history", "parallel-0"]);
  assert.match(html, /<section id="charts"/);
  // without a nonce: no scripts at all, no charts section
  const plain = renderResultsHtml(summary, { title: "t" });
  assert.doesNotMatch(plain, /<script|id="charts"/);
  assert.match(contentSecurityPolicy({ title: "t" }), /^default-src 'none'; style-src 'self' 'unsafe-inline';$/);
});

test("scriptJson cannot close its script block", () => {
  const text = scriptJson({ name: "</script><script>alert(1)</script>&" });
  assert.doesNotMatch(text, /<|>|&/);
  assert.deepEqual(JSON.parse(text), { name: "</script><script>alert(1)</script>&" });
});
