/**
 * "HPO: Open dashboard": `hpo dashboard <results folder>` on 127.0.0.1 with a free port
 * (`--port 0`), run by the Python the language server uses, in its own process group.
 * One dashboard at a time: asking for another folder stops the running one; the same folder
 * opens it again. Stopped when the extension deactivates.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as vscode from "vscode";
import { dashboardCommand, dashboardUrl } from "./python";

/** How long the dashboard may take to print its address and answer (ms). */
const START_TIMEOUT_MS = 60000;

interface Running {
  folder: string;
  url: string;
  process: ChildProcess;
}

/** Resolves when `url` answers an HTTP GET (any status below 500). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 3000 }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) < 500);
    });
    request.on("error", () => resolve(false));
    request.on("timeout", () => {
      request.destroy();
      resolve(false);
    });
  });
}

export class DashboardLauncher implements vscode.Disposable {
  private running: Running | undefined;

  constructor(
    private readonly log: vscode.OutputChannel,
    /** The Python of the language server (null: it is started by `hpo.server.path`). */
    private readonly python: () => { python: string | null; serverPath: string },
  ) {}

  /** The dashboard's URL once it answers; starts it unless it already runs on `folder`. */
  async open(folder: string): Promise<string | undefined> {
    if (this.running && this.running.folder === folder && this.running.process.exitCode === null) {
      await vscode.env.openExternal(vscode.Uri.parse(this.running.url));
      return this.running.url;
    }
    this.stop();
    const { python, serverPath } = this.python();
    const { command, args } = dashboardCommand(python, serverPath, folder, fs.existsSync);
    this.log.appendLine(`--- ${new Date().toISOString()} ${command} ${args.join(" ")}`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
    try {
      const url = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "HPO: starting the dashboard…" },
        () => this.waitForUrl(child),
      );
      this.running = { folder, url, process: child };
      child.once("exit", () => {
        if (this.running?.process === child) this.running = undefined;
      });
      this.log.appendLine(`Dashboard of ${folder} at ${url}`);
      void vscode.window.showInformationMessage(`HPO: dashboard of ${folder} at ${url}`);
      await vscode.env.openExternal(vscode.Uri.parse(url));
      return url;
    } catch (error) {
      stopProcess(child);
      const message = error instanceof Error ? error.message : String(error);
      this.log.appendLine(`Dashboard not started: ${message}`);
      void vscode.window.showErrorMessage(`HPO: the dashboard did not start: ${message}`);
      return undefined;
    }
  }

  private waitForUrl(child: ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
      let stderr = "";
      let settled = false;
      const finish = (error: Error | null, url?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(url as string);
      };
      const timer = setTimeout(() => finish(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s${stderr ? `: ${stderr.trim().split("\n").pop()}` : ""}`)), START_TIMEOUT_MS);
      child.stdout?.setEncoding("utf8");
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (text: string) => {
        stderr += text;
        this.log.append(text);
      });
      child.on("error", (error) => finish(error));
      child.on("exit", (code) => finish(new Error(stderr.trim().split("\n").pop() || `hpo dashboard exited with code ${code}`)));
      let buffer = "";
      child.stdout?.on("data", async (text: string) => {
        buffer += text;
        const url = dashboardUrl(buffer);
        if (!url || settled) return;
        // it prints its address once bound; wait until it answers before opening it
        for (let i = 0; i < 50 && !settled; i++) {
          if (await answers(url)) return finish(null, url);
          await new Promise((r) => setTimeout(r, 200));
        }
      });
    });
  }

  /** The dashboard's URL when one runs. */
  get url(): string | undefined {
    return this.running?.url;
  }

  stop(): void {
    if (!this.running) return;
    this.log.appendLine(`Stopping the dashboard of ${this.running.folder}`);
    stopProcess(this.running.process);
    this.running = undefined;
  }

  dispose(): void {
    this.stop();
  }
}

function stopProcess(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  child.kill("SIGTERM");
}
