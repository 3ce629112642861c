/**
 * How the language server is started, and what to tell the user when it cannot be.
 * No `vscode` import: unit-tested in node.
 */

export interface ServerSettings {
  interpreterPath: string;
  serverPath: string;
  serverArgs: string[];
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** The Python interpreter that runs the server, when it is started as `python -m hpo_lsp`. */
  python: string | null;
}

/** Replaces `${workspaceFolder}`, `${userHome}` and `${env:NAME}` in a setting value. */
export function substitute(value: string, vars: { workspaceFolder?: string; userHome?: string; env?: Record<string, string | undefined> }): string {
  return value
    .replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder ?? "")
    .replace(/\$\{userHome\}/g, vars.userHome ?? "")
    .replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => vars.env?.[name] ?? "");
}

/** `hpo.server.path` wins; else `<python> -m hpo_lsp`, with `python3` when nothing is set. */
export function serverCommand(settings: ServerSettings): ServerCommand {
  const serverPath = settings.serverPath.trim();
  if (serverPath) {
    return { command: serverPath, args: [...settings.serverArgs], python: null };
  }
  const python = settings.interpreterPath.trim() || "python3";
  return { command: python, args: ["-m", "hpo_lsp", ...settings.serverArgs], python };
}

/** Quotes a path for a POSIX shell or cmd when it has spaces or shell characters. */
export function shellQuote(arg: string, platform: string = process.platform): string {
  if (/^[A-Za-z0-9_\-./:=@+,]+$/.test(arg)) return arg;
  if (platform === "win32") return `"${arg.replace(/"/g, '""')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that installs the server's Python package for `python` from an hpo checkout:
 * the workspace when it is the hpo project, else a placeholder for the checkout's folder
 * (the package is not on PyPI: the PyPI name "hpo" belongs to another project).
 */
export function installCommand(python: string, projectDir?: string | null): string {
  const target = projectDir ? shellQuote(projectDir) : "<folder of your hpo checkout>";
  return `${shellQuote(python)} -m pip install -e ${target}`;
}

/** The one message shown when `python -c "import hpo_lsp"` fails. */
export function missingPackageMessage(python: string, projectDir?: string | null): string {
  return `HPO: the hpo language server (Python module hpo_lsp) is not installed for ${python}. Install it from an hpo checkout: ${installCommand(python, projectDir)} — or set "hpo.python.interpreterPath".`;
}

/**
 * The command that serves `hpo dashboard` on `folder` at 127.0.0.1 on a free port: with the
 * server's Python (`python -m hpo_engine.cli`), else the `hpo` script beside the server command
 * of `hpo.server.path` (a virtual environment's bin folder), else `python3`.
 */
export function dashboardCommand(python: string | null, serverPath: string, folder: string, exists: (p: string) => boolean = () => true): { command: string; args: string[] } {
  const tail = ["dashboard", folder, "--host", "127.0.0.1", "--port", "0"];
  if (python) return { command: python, args: ["-m", "hpo_engine.cli", ...tail] };
  const slash = Math.max(serverPath.lastIndexOf("/"), serverPath.lastIndexOf("\\"));
  const sibling = slash >= 0 ? `${serverPath.slice(0, slash + 1)}hpo` : "";
  if (sibling && exists(sibling)) return { command: sibling, args: tail };
  return { command: "python3", args: ["-m", "hpo_engine.cli", ...tail] };
}

/** The address `hpo dashboard` prints once it listens ("... at http://127.0.0.1:PORT/dashboard/ ..."). */
export function dashboardUrl(output: string): string | null {
  const match = /\bat (http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d+\/\S*)/.exec(output);
  return match ? match[1] : null;
}
