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
import { Notifications, ServerCommands, type ExperimentOutput, type RunSummary, type TrialFinished } from "./protocol";
import { renderResultsHtml, sortTrials, trialLogLine, formatValue } from "./render";

interface ActiveRun {
  uri: string;
  token: string;
  cancelled: boolean;
}

export class ExperimentRunner implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private active: ActiveRun | undefined;
  private panel: vscode.WebviewPanel | undefined;
  private subscriptions: LspDisposable[] = [];
  private counter = 0;

  constructor(private readonly log: vscode.OutputChannel) {}

  setClient(client: LanguageClient): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.client = client;
    this.subscriptions = [
      client.onNotification(Notifications.trialFinished, (t: TrialFinished) => {
        this.log.appendLine(trialLogLine(t, t.objective_name));
      }),
      client.onNotification(Notifications.experimentOutput, (o: ExperimentOutput) => {
        this.log.appendLine(o.line);
      }),
    ];
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  async run(doc: vscode.TextDocument, reference?: string): Promise<RunSummary | undefined> {
    const client = this.client;
    if (!client) return undefined;
    if (this.active) {
      void vscode.window.showWarningMessage("HPO: an experiment is already running. Stop it first (HPO: Stop experiment).");
      return undefined;
    }
    const uri = client.code2ProtocolConverter.asUri(doc.uri);
    const token = `hpo-run-${process.pid}-${Date.now()}-${++this.counter}`;
    const run: ActiveRun = { uri, token, cancelled: false };
    this.active = run;
    await vscode.commands.executeCommand("setContext", "hpo.experimentRunning", true);
    const name = path.basename(doc.fileName);
    this.log.show(true);
    this.log.appendLine(`--- ${new Date().toISOString()} running ${doc.fileName}${reference ? ` (reference ${reference})` : ""}`);
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
              arguments: [uri, reference ?? null, { workDoneToken: token }],
              workDoneToken: token,
            })) as RunSummary | null;
          } finally {
            sub.dispose();
          }
        },
      );
      if (!summary) {
        this.log.appendLine("The server did not start a run.");
        return undefined;
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

  async showStoredResults(doc: vscode.TextDocument): Promise<void> {
    const client = this.client;
    if (!client) return;
    const summary = (await client.sendRequest(ExecuteCommandRequest.type, {
      command: ServerCommands.results,
      arguments: [client.code2ProtocolConverter.asUri(doc.uri)],
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

  private showResults(summary: RunSummary, title: string): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("hpo.results", `Results: ${title}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        enableFindWidget: true,
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.title = `Results: ${title}`;
      this.panel.reveal(undefined, true);
    }
    this.panel.webview.html = renderResultsHtml(summary, { title, cspSource: this.panel.webview.cspSource });
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.panel?.dispose();
  }
}
