/**
 * HTML for the preview and results webviews, built from the server's JSON.
 * No `vscode` import: unit-tested in node. Everything from the manifest is escaped.
 */
import { chartFigures } from "./charts";
import type { DimensionJson, JsonValue, PruningJson, ReferencePreview, RunSummary, SpaceJson, TrialRow } from "./protocol";

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A value as the manifest would write it: strings quoted, numbers as they are. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return JSON.stringify(value);
}

/** A value as the CLI prints it in results and logs: strings bare, numbers short. */
export function displayValue(value: unknown): string {
  if (typeof value === "string") return value;
  return formatValue(value);
}

function isSpace(value: unknown): value is SpaceJson {
  return typeof value === "object" && value !== null && Array.isArray((value as SpaceJson).dimensions);
}

/**
 * The preview JSON as a list of references. Accepts `SearchSpace.to_json()` itself,
 * `{references: [{name, ...to_json}]}`, `{references: [{name, space: to_json}]}` or a list.
 */
export function normalizePreview(json: unknown): ReferencePreview[] {
  if (json === null || json === undefined) return [];
  if (Array.isArray(json)) return json.flatMap((item, i) => normalizeReference(item, `reference ${i}`));
  if (typeof json !== "object") return [];
  const obj = json as Record<string, unknown>;
  for (const key of ["sections", "references"]) {
    const list = obj[key];
    if (Array.isArray(list)) return list.flatMap((item, i) => normalizeReference(item, `reference ${i}`));
  }
  return normalizeReference(obj, String(obj.name ?? obj.reference ?? "search space"));
}

function normalizeReference(item: unknown, fallbackName: string): ReferencePreview[] {
  if (typeof item !== "object" || item === null) return [];
  const obj = item as Record<string, unknown>;
  const space = isSpace(obj) ? obj : isSpace(obj.space) ? obj.space : isSpace(obj.search_space) ? obj.search_space : null;
  const name = String(obj.name ?? obj.reference ?? fallbackName);
  if (!space) {
    // A section whose search space cannot be built: show why.
    if (typeof obj.error !== "string") return [];
    return [{ name, dimensions: [], size: null, points: [], error: obj.error }];
  }
  const method = (obj.method && typeof obj.method === "object" ? (obj.method as Record<string, unknown>).name : obj.method) as string | undefined;
  return [
    {
      ...space,
      points: Array.isArray(space.points) ? space.points : [],
      name,
      method: method === undefined ? undefined : String(method),
      objective: obj.objective === undefined ? undefined : String(obj.objective),
      num_optimizer_steps: typeof obj.num_optimizer_steps === "number" ? obj.num_optimizer_steps : undefined,
    },
  ];
}

export function sizeText(space: SpaceJson): string {
  if (space.size_text) return /^[\d,.\s]+$/.test(space.size_text) ? `${space.size_text} combinations` : space.size_text;
  if (space.size === null || space.size === undefined) return "infinite (continuous dimensions)";
  return `${space.size.toLocaleString("en-US")} combinations`;
}

function dimensionValues(d: DimensionJson): string {
  if (Array.isArray(d.values)) {
    const shown = d.values.map(formatValue).join(", ");
    return d.values_truncated ? `${shown}, …` : shown;
  }
  if (Array.isArray(d.bounds)) {
    return `[${formatValue(d.bounds[0])}, ${formatValue(d.bounds[1])}]${d.scale === "log" ? " (log scale)" : ""}`;
  }
  return d.summary ?? "";
}

export interface PageOptions {
  title: string;
  /** Content-Security-Policy source of the webview (`webview.cspSource`). */
  cspSource?: string;
  /** Nonce of the page's scripts (the only scripts the policy allows). */
  nonce?: string;
  /** Webview URIs of the scripts to load (the extension's own files), in order. */
  scripts?: string[];
}

/** The page's Content-Security-Policy: nothing but the extension's files and scripts with the nonce. */
export function contentSecurityPolicy(options: PageOptions): string {
  const source = options.cspSource ?? "'self'";
  let csp = `default-src 'none'; style-src ${source} 'unsafe-inline';`;
  if (options.nonce && options.scripts?.length) csp += ` img-src ${source} data:; font-src ${source}; script-src 'nonce-${options.nonce}';`;
  return csp;
}

function page(options: PageOptions, body: string): string {
  const csp = contentSecurityPolicy(options);
  const scripts = options.nonce ? (options.scripts ?? []).map((src) => `<script nonce="${escapeHtml(options.nonce)}" src="${escapeHtml(src)}"></script>`).join("\n") : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(options.title)}</title>
<style>
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid var(--vscode-panel-border, #8884); padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: var(--vscode-editorWidget-background, #8881); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: bold; }
.muted { opacity: 0.75; }
code { font-family: var(--vscode-editor-font-family); }
a.button { display: inline-block; padding: 2px 12px; color: var(--vscode-button-foreground); background: var(--vscode-button-background); text-decoration: none; border-radius: 2px; }
a.button:hover { background: var(--vscode-button-hoverBackground); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 0.5em 1em; margin: 0.5em 0 1em; }
.chart { min-height: 360px; border: 1px solid var(--vscode-panel-border, #8884); }
.chart-error { color: var(--vscode-errorForeground); }
</style>
</head>
<body>
${body}
${scripts}
</body>
</html>`;
}

/** The preview page: per reference the values table, the combination count and the first points. */
export function renderPreviewHtml(json: unknown, options: PageOptions & { maxPoints?: number }): string {
  const references = normalizePreview(json);
  const parts: string[] = [`<h1>Search space — ${escapeHtml(options.title)}</h1>`];
  if (references.length === 0) {
    const error = typeof json === "object" && json !== null ? (json as { error?: unknown }).error : undefined;
    parts.push(
      typeof error === "string"
        ? `<p class="empty error">No search space to show: the manifest has an error, ${escapeHtml(error)}</p>`
        : `<p class="empty">No search space to show: the manifest has no <code>hyper_parameters_optimization</code> section.</p>`,
    );
  }
  for (const ref of references) {
    if (ref.error !== undefined) {
      parts.push(`<section class="reference" data-reference="${escapeHtml(ref.name)}"><h2>${escapeHtml(ref.name)}</h2>`);
      parts.push(`<p class="error">No search space: ${escapeHtml(ref.error)}</p></section>`);
      continue;
    }
    const names = ref.dimensions.map((d) => d.name);
    const points = ref.points.slice(0, options.maxPoints ?? ref.points.length);
    const meta: string[] = [];
    if (ref.method) meta.push(`method <code>${escapeHtml(ref.method)}</code>`);
    if (ref.objective) meta.push(`objective <code>${escapeHtml(ref.objective)}</code>`);
    if (ref.num_optimizer_steps !== undefined) meta.push(`${escapeHtml(ref.num_optimizer_steps)} optimizer steps`);
    parts.push(`<section class="reference" data-reference="${escapeHtml(ref.name)}">`);
    parts.push(`<h2>${escapeHtml(ref.name)}</h2>`);
    parts.push(`<p class="size"><strong>${escapeHtml(sizeText(ref))}</strong>${meta.length ? ` · ${meta.join(" · ")}` : ""}</p>`);
    parts.push(`<table class="dimensions"><thead><tr><th>hyper-parameter</th><th>kind</th><th>count</th><th>values</th></tr></thead><tbody>`);
    for (const d of ref.dimensions) {
      parts.push(
        `<tr><td><code>${escapeHtml(d.name)}</code></td><td>${escapeHtml(d.kind)}</td>` +
          `<td class="num">${d.count === null || d.count === undefined ? "∞" : escapeHtml(d.count)}</td>` +
          `<td>${escapeHtml(dimensionValues(d))}</td></tr>`,
      );
    }
    parts.push(`</tbody></table>`);
    if (points.length) {
      const label = ref.points_are_samples ? `${points.length} sampled points` : `First ${points.length} points`;
      parts.push(`<h3>${escapeHtml(label)}</h3>`);
      parts.push(`<table class="points"><thead><tr><th>#</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")}</tr></thead><tbody>`);
      points.forEach((p, i) => {
        parts.push(`<tr><td class="num">${i}</td>${names.map((n) => `<td class="num">${escapeHtml(formatValue(p[n]))}</td>`).join("")}</tr>`);
      });
      parts.push(`</tbody></table>`);
    }
    parts.push(`</section>`);
  }
  return page(options, parts.join("\n"));
}

/** Trials with an objective first, best first; then the others by number. */
export function sortTrials(trials: TrialRow[], maximize: boolean): TrialRow[] {
  return [...trials].sort((a, b) => {
    const ao = typeof a.objective === "number" && Number.isFinite(a.objective);
    const bo = typeof b.objective === "number" && Number.isFinite(b.objective);
    if (ao && bo) {
      const d = (a.objective as number) - (b.objective as number);
      if (d !== 0) return maximize ? -d : d;
    } else if (ao !== bo) {
      return ao ? -1 : 1;
    }
    return a.reference === b.reference ? a.number - b.number : a.reference < b.reference ? -1 : 1;
  });
}

/** Links of the results page (command URIs; the webview allows these commands only). */
export interface ResultsLinks {
  /** `command:` URI that opens the run picker. */
  pickRun?: string;
  /** `command:` URI that resumes the shown run (only used when the run can be resumed). */
  resume?: string;
  /** `command:` URI that opens `hpo dashboard` on the shown run. */
  dashboard?: string;
}

/** "2 trials pruned: 12 of 36 epochs run, saved 67% of epochs" (as `hpo run` prints it). */
export function pruningText(p: PruningJson, reference?: string): string {
  const who = reference ? `${reference}: ` : "";
  const trials = `${p.pruned} trial${p.pruned === 1 ? "" : "s"} pruned`;
  if (p.steps_run === null || !p.steps_without_stopping) return `${who}${trials}`;
  return `${who}${trials}: ${p.steps_run} of ${p.steps_without_stopping} ${p.unit} run, saved ${p.saved_percent}% of ${p.unit}`;
}

/** The state cell of a trial: `pruned at epoch 3` for a pruned one. */
export function stateText(t: TrialRow): string {
  return t.state === "pruned" && t.pruned_at ? `pruned at ${t.pruned_at}` : t.state;
}

/** What the results page shows above the charts: which run, its counts, links, early-stopping savings. */
export function renderResultsHead(summary: RunSummary, options: { title: string; links?: ResultsLinks }): string {
  const maximize = summary.maximize ?? true;
  const trials = summary.trials ?? [];
  const objective = summary.objective ?? "objective";
  const parts: string[] = [`<h1>Results — ${escapeHtml(options.title)}</h1>`];
  const done = trials.filter((t) => t.state === "complete").length;
  const pruned = trials.filter((t) => t.state === "pruned").length;
  const failed = trials.filter((t) => t.state === "failed").length;
  const counts = [`${done} complete`, pruned ? `<span class="pruned-count">${pruned} pruned</span>` : "", failed ? `${failed} failed` : ""].filter(Boolean).join(", ");
  parts.push(
    `<p class="summary">Run <strong class="state">${escapeHtml(summary.state)}</strong>: ${trials.length} trials, ${counts} · ` +
      `${maximize ? "maximize" : "minimize"} <code>${escapeHtml(objective)}</code> · results in <code>${escapeHtml(summary.results_dir)}</code></p>`,
  );
  const savings = Object.entries(summary.pruning ?? {}).filter((e): e is [string, PruningJson] => e[1] !== null);
  for (const [reference, p] of savings) {
    parts.push(`<p class="pruning">${escapeHtml(pruningText(p, savings.length > 1 ? reference : undefined))}</p>`);
  }
  if (summary.message) parts.push(`<p class="message">${escapeHtml(summary.message)}</p>`);
  const links = options.links ?? {};
  if (summary.run) {
    const count = summary.runs ?? 1;
    const pick = links.pickRun ? ` · <a class="pick-run" href="${escapeHtml(links.pickRun)}">Pick a run… (${count})</a>` : "";
    const dashboard = links.dashboard ? ` · <a class="open-dashboard" href="${escapeHtml(links.dashboard)}">Open dashboard</a>` : "";
    parts.push(`<p class="run">Showing the ${escapeHtml(summary.run.label)}${pick}${dashboard}</p>`);
  }
  const resume = summary.run?.resume;
  if (resume && summary.state !== "running") {
    const button = links.resume ? `<a class="button resume" role="button" href="${escapeHtml(links.resume)}">Resume</a> ` : "";
    parts.push(`<p class="resume">${button}This run is not finished; to continue it: <code class="resume-command">${escapeHtml(resume.text)}</code></p>`);
  }
  return parts.join("\n");
}

/** The best configuration and every trial sorted by objective (state, step reached, values). */
export function renderResultsTables(summary: RunSummary): string {
  const maximize = summary.maximize ?? true;
  const trials = sortTrials(summary.trials ?? [], maximize);
  const best = summary.best ?? trials.find((t) => t.state === "complete" && typeof t.objective === "number") ?? null;
  const objective = summary.objective ?? "objective";
  const names = Array.from(new Set(trials.flatMap((t) => Object.keys(t.values ?? {}))));
  const steps = trials.some((t) => t.step_reached !== null && t.step_reached !== undefined);
  const parts: string[] = [];
  if (best) {
    parts.push(`<h2>Best configuration</h2>`);
    parts.push(`<table class="best"><tbody>`);
    parts.push(`<tr><th>reference</th><td>${escapeHtml(best.reference)}</td></tr>`);
    parts.push(`<tr><th>trial</th><td class="num">${escapeHtml(best.number)}</td></tr>`);
    parts.push(`<tr><th>${escapeHtml(objective)}</th><td class="num">${escapeHtml(formatValue(best.objective))}</td></tr>`);
    for (const [k, v] of Object.entries(best.values ?? {})) {
      parts.push(`<tr><th><code>${escapeHtml(k)}</code></th><td class="num">${escapeHtml(displayValue(v))}</td></tr>`);
    }
    parts.push(`</tbody></table>`);
  } else {
    parts.push(`<p class="empty">No trial recorded an objective.</p>`);
  }
  parts.push(`<h2>Trials</h2>`);
  parts.push(
    `<table class="trials"><thead><tr><th>reference</th><th>trial</th><th>state</th><th>${escapeHtml(objective)}</th>` +
      `${steps ? "<th>step reached</th>" : ""}${names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")}</tr></thead><tbody>`,
  );
  for (const t of trials) {
    const isBest = best !== null && t.reference === best.reference && t.number === best.number;
    const cls = [isBest ? "best" : "", t.state === "pruned" ? "pruned muted" : ""].filter(Boolean).join(" ");
    parts.push(
      `<tr class="${cls}"><td>${escapeHtml(t.reference)}</td><td class="num">${escapeHtml(t.number)}</td>` +
        `<td class="trial-state">${escapeHtml(stateText(t))}</td><td class="num">${escapeHtml(formatValue(t.objective))}</td>` +
        `${steps ? `<td class="num step">${escapeHtml(formatValue(t.step_reached))}</td>` : ""}` +
        `${names.map((n) => `<td class="num">${escapeHtml(displayValue((t.values ?? {})[n] as JsonValue))}</td>`).join("")}</tr>`,
    );
  }
  parts.push(`</tbody></table>`);
  return parts.join("\n");
}

/** JSON for a `<script type="application/json">` block (no `</script>` can close it early). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/**
 * The results page: which run, the charts (history, parallel coordinates, learning curves;
 * drawn by the page's scripts from the JSON block `#hpo-figures`), the best configuration,
 * then every trial sorted by objective. Without scripts (no nonce) the charts are left out.
 */
export function renderResultsHtml(summary: RunSummary, options: PageOptions & { links?: ResultsLinks }): string {
  const charts = options.nonce && options.scripts?.length ? chartFigures(summary.charts) : [];
  const parts = [`<div id="head">${renderResultsHead(summary, options)}</div>`];
  if (options.nonce && options.scripts?.length) {
    parts.push(`<section id="charts" class="charts" aria-label="charts"></section>`);
    parts.push(`<script type="application/json" id="hpo-figures">${scriptJson(charts)}</script>`);
  }
  parts.push(`<div id="tables">${renderResultsTables(summary)}</div>`);
  return page(options, parts.join("\n"));
}

/** One line of the output channel's trial log. */
export function trialLogLine(t: TrialRow, objectiveName?: string | null): string {
  const values = Object.entries(t.values ?? {})
    .map(([k, v]) => `${k}=${displayValue(v)}`)
    .join(" ");
  const obj = t.objective === null || t.objective === undefined ? "" : ` ${objectiveName ?? "objective"}=${formatValue(t.objective)}`;
  if (t.state === "pruned") {
    // as `hpo run` prints it: "trial 7 pruned at epoch 3  accuracy=0.41"
    return `[${t.reference}] trial ${t.number} ${stateText(t)} ${obj.trimStart()}  ${values}`.trimEnd();
  }
  return `[${t.reference}] trial ${t.number} ${t.state}${obj} ${values}`.trimEnd();
}
