/**
 * Running an experiment from the editor: the server runs `hpo run` in its own process;
 * this side shows a cancellable progress notification, the trial log and the results.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  type Disposable as LspDisposable,
  ExecuteCommandRequest,
  type LanguageClient,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  type WorkDoneProgressReport,
  type WorkDoneProgressEnd,
} from "vscode-languageclient/node";
import { randomBytes } from "node:crypto";
import { chartFigures } from "./charts";
import { ClientCommands, Notifications, ServerCommands, type ExperimentOutput, type RunInfo, type RunSummary, type TrialFinished } from "./protocol";
import { renderResultsHead, renderResultsHtml, renderResultsTables, sortTrials, trialLogLine, formatValue } from "./render";

/** Shortest pause between two live refreshes of the results view during a run (ms). */
export const LIVE_REFRESH_MS = 1500;

/** `command:` URI for a link in the results webview. */
function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

/** "2026-12-01 21:03 UTC" for a run's start (Unix seconds). */
function when(run: RunInfo): string {
  return run.started_at ? new Date(run.started_at * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "unknown time";
}

interface ActiveRun {
  uri: string;
  token: string;
  cancelled: boolean;
  /** The manifest's file name (results view title). */
  name: string;
  /** The run's results root, once the server has named it (first finished trial). */
  resultsDir?: string;
  timer?: ReturnType<typeof setTimeout>;
  lastRefresh: number;
  /** Whether the results view was brought to the front for this run (once, without focus). */
  revealed?: boolean;
}

/** The run the results view shows (for "HPO: Open dashboard"). */
export interface ShownRun {
  resultsDir: string;
  manifest?: string;
}

export class ExperimentRunner implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private active: ActiveRun | undefined;
  private panel: vscode.WebviewPanel | undefined;
  private subscriptions: LspDisposable[] = [];
  private counter = 0;
  /** The run the results view shows. */
  shown: ShownRun | undefined;
  /** Whether the results view's script has said it listens (it loses messages before that). */
  private panelReady = false;
  /** The newest update of the results view: sent once its script is ready (again after it was hidden). */
  private latest: unknown;

  constructor(
    private readonly log: vscode.OutputChannel,
    private readonly extensionUri: vscode.Uri,
  ) {}

  setClient(client: LanguageClient): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.client = client;
    this.subscriptions = [
      client.onNotification(Notifications.trialFinished, (t: TrialFinished) => {
        this.log.appendLine(trialLogLine(t, t.objective_name));
        const run = this.active;
        if (run && t.uri === run.uri && t.results_dir) {
          run.resultsDir = t.results_dir;
          this.scheduleRefresh(run);
        }
      }),
      client.onNotification(Notifications.experimentOutput, (o: ExperimentOutput) => {
        this.log.appendLine(o.line);
      }),
    ];
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /** Runs the manifest; with `resume`, continues the run stored in that results folder. */
  async run(doc: vscode.TextDocument, reference?: string, resume?: string): Promise<RunSummary | undefined> {
    const client = this.client;
    if (!client) return undefined;
    if (this.active) {
      void vscode.window.showWarningMessage("HPO: an experiment is already running. Stop it first (HPO: Stop experiment).");
      return undefined;
    }
    const uri = client.code2ProtocolConverter.asUri(doc.uri);
    const token = `hpo-run-${process.pid}-${Date.now()}-${++this.counter}`;
    const name = path.basename(doc.fileName);
    const run: ActiveRun = { uri, token, cancelled: false, name, lastRefresh: 0 };
    this.active = run;
    await vscode.commands.executeCommand("setContext", "hpo.experimentRunning", true);
    this.log.show(true);
    this.log.appendLine(`--- ${new Date().toISOString()} ${resume ? "resuming" : "running"} ${doc.fileName}${reference ? ` (reference ${reference})` : ""}${resume ? ` in ${resume}` : ""}`);
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `HPO: ${name}`, cancellable: true },
        async (progress, cancel) => {
          let last = 0;
          const sub = client.onProgress(WorkDoneProgress.type, token, (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
            if (value.kind === "end") {
              if (value.message) this.log.appendLine(value.message);
              return;
            }
            const pct = typeof value.percentage === "number" ? value.percentage : undefined;
            const increment = pct !== undefined ? Math.max(0, pct - last) : undefined;
            if (pct !== undefined) last = pct;
            progress.report({ message: value.message, increment });
          });
          cancel.onCancellationRequested(() => void this.cancel(run));
          try {
            return (await client.sendRequest(ExecuteCommandRequest.type, {
              command: ServerCommands.run,
              // The token goes in both places: pygls hands commands their arguments only.
              arguments: [uri, reference ?? null, resume ? { workDoneToken: token, resume } : { workDoneToken: token }],
              workDoneToken: token,
            })) as RunSummary | null;
          } finally {
            sub.dispose();
            if (run.timer) clearTimeout(run.timer);
            run.timer = undefined;
          }
        },
      );
      this.active = undefined; // no live refresh after the final summary
      if (!summary) {
        this.log.appendLine("The server did not start a run.");
        return undefined;
      }
      if (summary.state === "invalid") {
        // the server's one message says why; no results view for a run that did not happen
        this.log.appendLine(summary.message ?? `${name} was not run.`);
        return summary;
      }
      this.logSummary(summary);
      this.showResults(summary, name);
      const best = summary.best;
      const text = best
        ? `HPO: ${name} ${summary.state}: ${summary.trials.length} trials, best ${summary.objective ?? "objective"} = ${formatValue(best.objective)} (trial ${best.number}).`
        : `HPO: ${name} ${summary.state}: ${summary.trials.length} trials, no objective recorded.`;
      if (summary.state === "complete") void vscode.window.showInformationMessage(text);
      else void vscode.window.showWarningMessage(text);
      return summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.appendLine(`Run failed: ${message}`);
      void vscode.window.showErrorMessage(`HPO: the experiment did not run: ${message}`);
      return undefined;
    } finally {
      this.active = undefined;
      await vscode.commands.executeCommand("setContext", "hpo.experimentRunning", false);
    }
  }

  /** Refreshes the results view with what the run has stored so far, at most every LIVE_REFRESH_MS. */
  private scheduleRefresh(run: ActiveRun): void {
    if (run.timer) return;
    const wait = Math.max(0, run.lastRefresh + LIVE_REFRESH_MS - Date.now());
    run.timer = setTimeout(() => void this.refresh(run), wait);
  }

  private async refresh(run: ActiveRun): Promise<void> {
    const client = this.client;
    run.lastRefresh = Date.now();
    try {
      if (!client || !run.resultsDir || this.active !== run) return;
      const summary = (await client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.results, arguments: [run.uri, run.resultsDir] })) as RunSummary | null;
      if (summary && summary.trials?.length && this.active === run) {
        this.showResults({ ...summary, state: "running" }, run.name, !run.revealed);
        run.revealed = true;
      }
    } catch (error) {
      this.log.appendLine(`Live results not refreshed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      run.timer = undefined;
    }
  }

  private async cancel(run: ActiveRun): Promise<void> {
    if (!this.client || run.cancelled) return;
    run.cancelled = true;
    this.log.appendLine("Stopping the experiment ...");
    await this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: run.token });
    await this.client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.cancel, arguments: [run.uri] }).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (!this.active) {
      void vscode.window.showInformationMessage("HPO: no experiment is running.");
      return;
    }
    await this.cancel(this.active);
  }

  /** Every run of the manifest, newest first. */
  async runs(doc: vscode.TextDocument): Promise<RunInfo[]> {
    const client = this.client;
    if (!client) return [];
    const runs = await client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.runs, arguments: [client.code2ProtocolConverter.asUri(doc.uri)] });
    return Array.isArray(runs) ? (runs as RunInfo[]) : [];
  }

  /** A quick pick of the manifest's runs (time, state, trials, best): the results folder picked. */
  async chooseRun(doc: vscode.TextDocument, placeHolder = "Pick a run to show its results"): Promise<string | undefined> {
    const runs = await this.runs(doc);
    if (!runs.length) {
      void vscode.window.showInformationMessage(`HPO: no runs yet for ${path.basename(doc.fileName)}.`);
      return undefined;
    }
    const items = runs.map((run) => ({
      label: `${run.state === "complete" ? "$(pass)" : "$(debug-pause)"} ${when(run)}`,
      description: `${run.state} · ${run.trials}/${run.budget} trials${run.best && run.best.objective !== null ? ` · best ${run.objective ?? "objective"} = ${formatValue(run.best.objective)}` : ""}${run.editor ? "" : " · hpo run"}`,
      detail: run.results_dir,
      run,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: `Runs of ${path.basename(doc.fileName)}`, placeHolder, matchOnDetail: true });
    return picked?.run.results_dir;
  }

  /** A quick pick of the manifest's runs; shows the one picked. */
  async pickRun(doc: vscode.TextDocument): Promise<void> {
    const dir = await this.chooseRun(doc);
    if (dir) await this.showStoredResults(doc, dir);
  }

  async showStoredResults(doc: vscode.TextDocument, resultsDir?: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    const uri = client.code2ProtocolConverter.asUri(doc.uri);
    const summary = (await client.sendRequest(ExecuteCommandRequest.type, {
      command: ServerCommands.results,
      arguments: resultsDir ? [uri, resultsDir] : [uri],
    })) as RunSummary | null;
    if (!summary || !summary.trials?.length) {
      void vscode.window.showInformationMessage(`HPO: no results yet for ${path.basename(doc.fileName)}. Run the experiment first (HPO: Run experiment).`);
      return;
    }
    this.showResults(summary, path.basename(doc.fileName));
  }

  private logSummary(summary: RunSummary): void {
    const sorted = sortTrials(summary.trials ?? [], summary.maximize ?? true);
    this.log.appendLine(`Run ${summary.state}: ${sorted.length} trials; results in ${summary.results_dir}`);
    if (summary.message) this.log.appendLine(summary.message);
    if (summary.best) this.log.appendLine(`Best: ${trialLogLine(summary.best, summary.objective)}`);
  }

  /** Shows `summary` in the results view; `reveal`: bring it to the front (without focus) even while running. */
  private showResults(summary: RunSummary, title: string, reveal = false): void {
    const media = [vscode.Uri.joinPath(this.extensionUri, "media"), vscode.Uri.joinPath(this.extensionUri, "dist", "media")];
    let created = false;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("hpo.results", `Results: ${title}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: true,
        enableFindWidget: true,
        localResourceRoots: media,
        enableCommandUris: [ClientCommands.pickRun, ClientCommands.resume, ClientCommands.dashboard],
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.shown = undefined;
        this.latest = undefined;
      });
      this.panel.webview.onDidReceiveMessage((message: { type?: string }) => {
        if (message?.type !== "ready") return;
        this.panelReady = true;
        if (this.latest) void this.panel?.webview.postMessage(this.latest);
      });
      // a hidden webview is unloaded; shown again, it reloads its page and says "ready"
      this.panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.panelReady = false;
      });
      created = true;
    } else {
      this.panel.title = `Results: ${title}`;
      if (summary.state !== "running" || reveal) this.panel.reveal(undefined, true);
    }
    const panel = this.panel;
    this.shown = { resultsDir: summary.results_dir, manifest: summary.manifest };
    const doc = summary.manifest ? vscode.Uri.file(summary.manifest).toString() : summary.uri;
    const links = {
      pickRun: commandUri(ClientCommands.pickRun, [doc]),
      resume: summary.run?.resume ? commandUri(ClientCommands.resume, [doc, summary.run.results_dir]) : undefined,
      dashboard: commandUri(ClientCommands.dashboard, [doc, summary.results_dir]),
    };
    if (!created) {
      // in place: the charts are redrawn with Plotly.react (zoom and hover stay)
      this.latest = { type: "update", head: renderResultsHead(summary, { title, links }), tables: renderResultsTables(summary), figures: chartFigures(summary.charts) };
      if (this.panelReady) void panel.webview.postMessage(this.latest);
      return;
    }
    this.panelReady = false;
    this.latest = undefined;
    const webview = panel.webview;
    const scripts = [vscode.Uri.joinPath(this.extensionUri, "dist", "media", "plotly-strict.min.js"), vscode.Uri.joinPath(this.extensionUri, "media", "results.js")].map((u) => webview.asWebviewUri(u).toString());
    webview.html = renderResultsHtml(summary, { title, cspSource: webview.cspSource, nonce: randomBytes(16).toString("base64"), scripts, links });
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.panel?.dispose();
  }
}
