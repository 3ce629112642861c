/**
 * The messages between this extension and the `hpo_lsp` server. No `vscode` import.
 *
 * Server commands (workspace/executeCommand):
 * - `hpo.previewSearchSpace` [uri, options?] -> PreviewResult (JSON of the expanded search space)
 * - `hpo.runExperiment` [uri, reference?] -> RunSummary, when the run ends; accepts a workDoneToken
 * - `hpo.cancelExperiment` [uri?] -> { cancelled: boolean }
 * - `hpo.experimentResults` [uri, resultsDir?] -> RunSummary | null (that run, else the newest complete run, else the newest)
 * - `hpo.experimentRuns` [uri] -> RunInfo[] (every run of the manifest, newest first)
 * - `hpo.runExperiment` [uri, reference?, {workDoneToken?, resume?: resultsDir}] (resume: continue that run)
 * Server notifications: `hpo/trialFinished` (TrialFinished), `hpo/experimentOutput` (ExperimentOutput).
 * A RunSummary carries `charts` (ChartsJson: history, axes, learning curves per store) and
 * `pruning` (early-stopping savings per reference).
 */

export const ServerCommands = {
  preview: "hpo.previewSearchSpace",
  run: "hpo.runExperiment",
  cancel: "hpo.cancelExperiment",
  results: "hpo.experimentResults",
  runs: "hpo.experimentRuns",
} as const;

export const Notifications = {
  trialFinished: "hpo/trialFinished",
  experimentOutput: "hpo/experimentOutput",
} as const;

/** The extension's own commands (distinct ids: the client registers the server's ids itself). */
export const ClientCommands = {
  preview: "hpo.editor.previewSearchSpace",
  run: "hpo.editor.runExperiment",
  stop: "hpo.editor.stopExperiment",
  results: "hpo.editor.showResults",
  pickRun: "hpo.editor.pickRun",
  dashboard: "hpo.editor.openDashboard",
  resume: "hpo.editor.resumeRun",
  restart: "hpo.editor.restartServer",
} as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One hyper-parameter as `SearchSpace.to_json()` describes it. */
export interface DimensionJson {
  name: string;
  kind: string;
  count: number | null;
  spec?: Record<string, JsonValue>;
  values?: JsonValue[];
  values_truncated?: boolean;
  bounds?: [number, number];
  scale?: string;
  summary?: string;
}

/** `SearchSpace.to_json()`. */
export interface SpaceJson {
  dimensions: DimensionJson[];
  size: number | null;
  finite_size?: number | null;
  is_finite?: boolean;
  size_text?: string;
  points: Record<string, JsonValue>[];
  points_are_samples?: boolean;
}

export interface ReferencePreview extends SpaceJson {
  name: string;
  method?: string;
  objective?: string;
  num_optimizer_steps?: number;
  /** Why this reference has no search space (the section has errors). */
  error?: string;
}

export interface TrialRow {
  reference: string;
  number: number;
  values: Record<string, JsonValue>;
  state: string;
  objective: number | null;
  metrics?: Record<string, JsonValue>;
  started_at?: number | null;
  ended_at?: number | null;
  failure_reason?: string | null;
  /** The step of the last value recorded while it ran (as the program wrote it). */
  step_reached?: number | null;
  /** Where the stopping rule stopped a pruned trial: "epoch 3". */
  pruned_at?: string | null;
}

export interface TrialFinished extends TrialRow {
  uri: string;
  /** The metric that is the objective (e.g. "accuracy"). */
  objective_name?: string;
  /** The results root of the run (for a live results view). */
  results_dir?: string;
}

/** How a hyper-parameter is drawn: `log` for power ranges, `category` with its labels, else `linear`. */
export interface ChartAxis {
  name: string;
  scale: "log" | "category" | "linear" | string;
  categories: string[];
  base: number;
}

export interface ChartTrial {
  number: number;
  state: string;
  objective: number | null;
  values: Record<string, JsonValue>;
  step_reached?: number | null;
  pruned_at?: string | null;
}

/** Early-stopping savings of one store (`hpo run`'s "saved N% of epochs"). */
export interface PruningJson {
  pruned: number;
  steps_run: number | null;
  steps_without_stopping: number | null;
  saved_percent: number | null;
  unit: string;
}

/** One store's chart data (`hpo_engine.cli.plots.chart_data.store_charts`). */
export interface StoreCharts {
  reference: string;
  objective: string;
  maximize: boolean;
  step_key: string | null;
  axes: ChartAxis[];
  trials: ChartTrial[];
  best: number | null;
  /** [trial number, best objective so far] after each complete trial. */
  running_best: [number, number][];
  curves: { number: number; state: string; points: [number, number][] }[];
  pruning: PruningJson | null;
}

export interface ChartsJson {
  stores: StoreCharts[];
}

export interface ExperimentOutput {
  uri: string;
  line: string;
}

/** One run of a manifest (`run_results.run_json`). */
export interface RunInfo {
  results_dir: string;
  started_at: number | null;
  state: string;
  trials: number;
  budget: number;
  editor: boolean;
  label: string;
  objective: string | null;
  best: { reference: string; number: number; objective: number | null } | null;
  /** How to continue an incomplete run (`null` for a complete one). */
  resume: { command: string[]; text: string } | null;
}

export interface RunSummary {
  uri: string;
  manifest?: string;
  results_dir: string;
  state: string;
  exit_code?: number | null;
  objective?: string | null;
  maximize?: boolean;
  trials: TrialRow[];
  best: TrialRow | null;
  message?: string | null;
  ran_saved_file?: boolean;
  /** Stored results: the run shown and how many runs the manifest has. */
  run?: RunInfo;
  runs?: number;
  /** An invalid manifest (state "invalid"): its first problems. */
  problems?: string[];
  charts?: ChartsJson;
  /** Reference -> early-stopping savings (`null`: no trial pruned). */
  pruning?: Record<string, PruningJson | null>;
}
