/**
 * The HPO extension: starts the `hpo_lsp` language server for manifests and adds the
 * preview, run, stop and results commands. Editor-free logic lives in manifest.ts,
 * render.ts and python.ts (unit-tested); this file only wires it to VS Code.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { DashboardLauncher } from "./dashboard";
import { ExperimentRunner } from "./experiments";
import { ManifestLanguage } from "./languages";
import { MANIFEST_LANGUAGE, isManifest } from "./manifest";
import { ClientCommands, ServerCommands } from "./protocol";
import { missingPackageMessage, installCommand, serverCommand, substitute, type ServerSettings } from "./python";
import { renderPreviewHtml } from "./render";

let client: LanguageClient | undefined;
let startError: string | undefined;
let runner: ExperimentRunner | undefined;
let dashboards: DashboardLauncher | undefined;
let languages: ManifestLanguage | undefined;

export function isManifestDocument(doc: vscode.TextDocument): boolean {
  return isManifest(doc.fileName, doc.languageId, doc.getText());
}

function settings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration("hpo");
  const vars = {
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    userHome: os.homedir(),
    env: process.env,
  };
  return {
    interpreterPath: substitute(cfg.get<string>("python.interpreterPath", ""), vars),
    serverPath: substitute(cfg.get<string>("server.path", ""), vars),
    serverArgs: cfg.get<string[]>("server.args", []).map((a) => substitute(a, vars)),
  };
}

function initializationOptions(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration("hpo");
  return {
    validation: { debounceMs: cfg.get<number>("validation.debounceMs", 60) },
    preview: { maxPoints: cfg.get<number>("preview.maxPoints", 20) },
  };
}

/** The workspace folder that is the hpo project itself (for the install hint), if any. */
function projectDir(): string | null {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    // the checkout: a pyproject.toml beside the hpo_lsp package (whatever the distribution's name)
    const root = folder.uri.fsPath;
    if (fs.existsSync(path.join(root, "pyproject.toml")) && fs.existsSync(path.join(root, "hpo_lsp", "__init__.py"))) return root;
  }
  return null;
}

/** `null` when `python` can import hpo_lsp; else whether Python itself is missing, and why. */
function checkPythonPackage(python: string): Promise<{ noPython: boolean; detail: string } | null> {
  return new Promise((resolve) => {
    execFile(python, ["-c", "import hpo_lsp"], { timeout: 30000 }, (error, _stdout, stderr) => {
      if (!error) return resolve(null);
      const noPython = (error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "EACCES";
      resolve({ noPython, detail: String(stderr || error.message).trim() });
    });
  });
}

/** Only manifests reach the server: other YAML files (compose files, CI files ...) are left alone. */
function manifestMiddleware(
  sent: Set<string>,
  getClient: () => LanguageClient | undefined,
  onPreview: (uri: string, json: unknown) => void,
): Middleware {
  const known = (doc: vscode.TextDocument) => sent.has(doc.uri.toString());
  return {
    // The server's code lens runs hpo.previewSearchSpace itself: show its answer in the preview.
    executeCommand: async (command, args, next) => {
      const result = await next(command, args);
      if (command === ServerCommands.preview && typeof args[0] === "string" && result) onPreview(args[0], result);
      return result;
    },
    didOpen: async (doc, next) => {
      if (!isManifestDocument(doc)) return;
      sent.add(doc.uri.toString());
      return next(doc);
    },
    didChange: async (event, next) => {
      if (known(event.document)) return next(event);
      if (!isManifestDocument(event.document)) return;
      // The document just became a manifest: open it on the server with its whole text.
      const c = getClient();
      if (!c) return;
      sent.add(event.document.uri.toString());
      await c.sendNotification(DidOpenTextDocumentNotification.type, {
        textDocument: {
          uri: c.code2ProtocolConverter.asUri(event.document.uri),
          languageId: event.document.languageId,
          version: event.document.version,
          text: event.document.getText(),
        },
      });
    },
    willSave: async (event, next) => (known(event.document) ? next(event) : undefined),
    willSaveWaitUntil: async (event, next) => (known(event.document) ? next(event) : []),
    didSave: async (doc, next) => (known(doc) ? next(doc) : undefined),
    didClose: async (doc, next) => {
      if (!sent.delete(doc.uri.toString())) return;
      return next(doc);
    },
    provideCompletionItem: (doc, pos, ctx, token, next) => (known(doc) ? next(doc, pos, ctx, token) : undefined),
    provideHover: (doc, pos, token, next) => (known(doc) ? next(doc, pos, token) : undefined),
    provideCodeActions: (doc, range, ctx, token, next) => (known(doc) ? next(doc, range, ctx, token) : undefined),
    provideDocumentSymbols: (doc, token, next) => (known(doc) ? next(doc, token) : undefined),
    provideCodeLenses: (doc, token, next) => (known(doc) ? next(doc, token) : undefined),
    provideDefinition: (doc, pos, token, next) => (known(doc) ? next(doc, pos, token) : undefined),
    provideDocumentFormattingEdits: (doc, opts, token, next) => (known(doc) ? next(doc, opts, token) : undefined),
    provideInlayHints: (doc, range, token, next) => (known(doc) ? next(doc, range, token) : undefined),
  };
}

async function startClient(context: vscode.ExtensionContext, log: vscode.OutputChannel, previews: PreviewPanels): Promise<void> {
  const s = settings();
  const cmd = serverCommand(s);
  if (cmd.python) {
    const problem = await checkPythonPackage(cmd.python);
    if (problem !== null && problem.noPython) {
      startError = `HPO: no Python interpreter at "${cmd.python}". Set "hpo.python.interpreterPath" to a Python that has the hpo package.`;
      log.appendLine(startError);
      log.appendLine(problem.detail);
      void vscode.window.showErrorMessage(startError, "Open settings").then(async (choice) => {
        if (choice) await vscode.commands.executeCommand("workbench.action.openSettings", "hpo.python.interpreterPath");
      });
      await languages?.setServerRunning(false);
      return;
    }
    if (problem !== null) {
      startError = missingPackageMessage(cmd.python, projectDir());
      log.appendLine(startError);
      log.appendLine(problem.detail);
      const copy = "Copy install command";
      const open = "Open settings";
      void vscode.window.showErrorMessage(startError, copy, open).then(async (choice) => {
        if (choice === copy) await vscode.env.clipboard.writeText(installCommand(cmd.python as string, projectDir()));
        if (choice === open) await vscode.commands.executeCommand("workbench.action.openSettings", "hpo.python.interpreterPath");
      });
      await languages?.setServerRunning(false);
      return;
    }
  }
  startError = undefined;
  const serverOptions: ServerOptions = {
    command: cmd.command,
    args: cmd.args,
    transport: TransportKind.stdio,
    options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
  };
  const sent = new Set<string>();
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "yaml" },
      { scheme: "untitled", language: "yaml" },
      { scheme: "file", pattern: "**/*.hpo.{yaml,yml}" },
      { scheme: "file", language: MANIFEST_LANGUAGE },
      { scheme: "untitled", language: MANIFEST_LANGUAGE },
    ],
    outputChannelName: "HPO Language Server",
    initializationOptions: initializationOptions(),
    synchronize: { configurationSection: "hpo" },
    middleware: manifestMiddleware(sent, () => client, (uri, json) => previews.showJson(vscode.Uri.parse(uri), json, true)),
  };
  const c = new LanguageClient("hpo", "HPO Language Server", serverOptions, clientOptions);
  client = c;
  runner?.setClient(c);
  c.onDidChangeState((e) => {
    if (e.newState === State.Stopped) sent.clear();
  });
  try {
    await c.start();
    log.appendLine(`HPO language server started: ${cmd.command} ${cmd.args.join(" ")}`);
    await languages?.setServerRunning(true);
  } catch (error) {
    startError = `HPO: the language server did not start (${cmd.command} ${cmd.args.join(" ")}): ${String(error)}`;
    log.appendLine(startError);
    void vscode.window.showErrorMessage(startError);
    await languages?.setServerRunning(false);
  }
  context.subscriptions.push({ dispose: () => void c.stop() });
}

function activeManifest(uri?: vscode.Uri): vscode.TextDocument | undefined {
  const doc = uri
    ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())
    : vscode.window.activeTextEditor?.document;
  if (!doc || !isManifestDocument(doc)) {
    void vscode.window.showWarningMessage("HPO: open an HPO manifest (a YAML file with training_references) first.");
    return undefined;
  }
  return doc;
}

/** The manifest at `uri` (a Uri, or a string from a webview's command link), opened if needed; else the active one. */
async function manifestFor(uri?: vscode.Uri | string): Promise<vscode.TextDocument | undefined> {
  if (typeof uri === "string") {
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
      return activeManifest(doc.uri);
    } catch {
      return activeManifest();
    }
  }
  return activeManifest(uri);
}

function readyClient(): LanguageClient | undefined {
  if (client && client.state === State.Running) return client;
  void vscode.window.showErrorMessage(startError ?? "HPO: the language server is not running yet.");
  return undefined;
}

class PreviewPanels {
  private panels = new Map<string, vscode.WebviewPanel>();
  private timers = new Map<string, NodeJS.Timeout>();

  async show(doc: vscode.TextDocument, reveal = true): Promise<void> {
    const c = readyClient();
    if (!c) return;
    const maxPoints = vscode.workspace.getConfiguration("hpo").get<number>("preview.maxPoints", 20);
    let json: unknown;
    try {
      json = await c.sendRequest(ExecuteCommandRequest.type, {
        command: ServerCommands.preview,
        arguments: [{ uri: c.code2ProtocolConverter.asUri(doc.uri), maxPoints }],
      });
    } catch (error) {
      void vscode.window.showErrorMessage(`HPO: preview failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.showJson(doc.uri, json, reveal);
  }

  showJson(uri: vscode.Uri, json: unknown, reveal: boolean): void {
    const key = uri.toString();
    const maxPoints = vscode.workspace.getConfiguration("hpo").get<number>("preview.maxPoints", 20);
    let panel = this.panels.get(key);
    const title = path.basename(uri.path);
    if (!panel) {
      panel = vscode.window.createWebviewPanel("hpo.preview", `Search space: ${title}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        enableFindWidget: true,
      });
      this.panels.set(key, panel);
      panel.onDidDispose(() => this.panels.delete(key));
    } else if (reveal) {
      panel.reveal(undefined, true);
    }
    panel.webview.html = renderPreviewHtml(json, { title, cspSource: panel.webview.cspSource, maxPoints });
  }

  /** Refreshes an open preview a moment after its manifest changed. */
  documentChanged(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    if (!this.panels.has(key)) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => void this.show(doc, false), 600));
  }
}

function updateManifestContext(): void {
  const doc = vscode.window.activeTextEditor?.document;
  void vscode.commands.executeCommand("setContext", "hpo.isManifest", !!doc && isManifestDocument(doc));
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("HPO");
  const trialLog = vscode.window.createOutputChannel("HPO Experiments");
  context.subscriptions.push(log, trialLog);
  runner = new ExperimentRunner(trialLog, context.extensionUri);
  dashboards = new DashboardLauncher(trialLog, () => {
    const s = settings();
    return { python: serverCommand(s).python, serverPath: s.serverPath };
  });
  languages = new ManifestLanguage(context.extensionPath, log);
  context.subscriptions.push(runner, dashboards, languages);
  const previews = new PreviewPanels();

  context.subscriptions.push(
    vscode.commands.registerCommand(ClientCommands.preview, async (uri?: vscode.Uri) => {
      const doc = activeManifest(uri);
      if (doc) await previews.show(doc);
    }),
    vscode.commands.registerCommand(ClientCommands.run, async (uri?: vscode.Uri, reference?: string) => {
      const doc = activeManifest(uri);
      if (doc && readyClient()) await runner?.run(doc, reference);
    }),
    vscode.commands.registerCommand(ClientCommands.stop, async () => {
      if (readyClient()) await runner?.stop();
    }),
    vscode.commands.registerCommand(ClientCommands.results, async (uri?: vscode.Uri) => {
      const doc = activeManifest(uri);
      if (doc && readyClient()) await runner?.showStoredResults(doc);
    }),
    vscode.commands.registerCommand(ClientCommands.pickRun, async (uri?: vscode.Uri | string) => {
      const doc = await manifestFor(uri);
      if (doc && readyClient()) await runner?.pickRun(doc);
    }),
    vscode.commands.registerCommand(ClientCommands.resume, async (uri?: vscode.Uri | string, resultsDir?: string) => {
      const doc = await manifestFor(uri);
      if (!doc || !readyClient()) return;
      const dir = resultsDir ?? (await runner?.runs(doc))?.find((r) => r.resume)?.results_dir;
      if (!dir) {
        void vscode.window.showInformationMessage(`HPO: ${path.basename(doc.fileName)} has no unfinished run to resume.`);
        return;
      }
      await runner?.run(doc, undefined, dir);
    }),
    vscode.commands.registerCommand(ClientCommands.dashboard, async (uri?: vscode.Uri | string, resultsDir?: string) => {
      // the run given (the results view's link), else the one the results view shows, else pick one
      let dir = typeof resultsDir === "string" ? resultsDir : runner?.shown?.resultsDir;
      if (!dir) {
        const doc = await manifestFor(uri);
        if (doc && readyClient()) dir = await runner?.chooseRun(doc, "Pick a run to open in the dashboard");
      }
      if (dir) await dashboards?.open(dir);
      else void vscode.window.showInformationMessage("HPO: no results to open in the dashboard. Run the experiment first (HPO: Run experiment).");
    }),
    vscode.commands.registerCommand(ClientCommands.restart, async () => {
      const old = client;
      client = undefined;
      if (old) await old.stop().catch(() => undefined);
      await startClient(context, log, previews);
    }),
    vscode.window.onDidChangeActiveTextEditor(updateManifestContext),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) updateManifestContext();
      previews.documentChanged(e.document);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("hpo.python") || e.affectsConfiguration("hpo.server")) {
        await vscode.commands.executeCommand(ClientCommands.restart);
      }
      if (e.affectsConfiguration("hpo.editor.manifestLanguage")) {
        await languages?.setServerRunning(client?.state === State.Running);
      }
    }),
  );
  updateManifestContext();
  await startClient(context, log, previews);
}

export async function deactivate(): Promise<void> {
  dashboards?.dispose();
  await runner?.stop();
  if (client) await client.stop();
}
