import { strict as assert } from "node:assert";
import { test } from "node:test";
import { dashboardCommand, dashboardUrl, installCommand, missingPackageMessage, serverCommand, shellQuote, substitute } from "../src/python";

test("the server runs as <python> -m hpo_lsp, python3 by default", () => {
  assert.deepEqual(serverCommand({ interpreterPath: "", serverPath: "", serverArgs: [] }), { command: "python3", args: ["-m", "hpo_lsp"], python: "python3" });
  assert.deepEqual(serverCommand({ interpreterPath: " /v/bin/python ", serverPath: "", serverArgs: ["--x"] }), {
    command: "/v/bin/python",
    args: ["-m", "hpo_lsp", "--x"],
    python: "/v/bin/python",
  });
});

test("hpo.server.path wins over the interpreter", () => {
  assert.deepEqual(serverCommand({ interpreterPath: "/v/bin/python", serverPath: "/v/bin/hpo-lsp", serverArgs: [] }), { command: "/v/bin/hpo-lsp", args: [], python: null });
});

test("settings substitute workspaceFolder, userHome and env variables", () => {
  assert.equal(substitute("${workspaceFolder}/.venv/bin/python", { workspaceFolder: "/w" }), "/w/.venv/bin/python");
  assert.equal(substitute("${userHome}/${env:VENV}/python", { userHome: "/h", env: { VENV: "v" } }), "/h/v/python");
  assert.equal(substitute("${env:MISSING}x", { env: {} }), "x");
});

test("the install hint names the interpreter and quotes paths", () => {
  assert.equal(installCommand("/v/bin/python"), "/v/bin/python -m pip install -e <folder of your hpo checkout>");
  assert.equal(installCommand("/my venv/python", "/src/hpo"), "'/my venv/python' -m pip install -e /src/hpo");
  assert.equal(shellQuote("C:\\Program Files\\py.exe", "win32"), '"C:\\Program Files\\py.exe"');
  assert.equal(shellQuote("it's", "linux"), `'it'\\''s'`);
  assert.match(missingPackageMessage("python3"), /not installed for python3\. Install it from an hpo checkout: python3 -m pip install -e </);
  assert.doesNotMatch(missingPackageMessage("python3"), /pip install hpo/);
});

test("the dashboard runs with the server's Python on 127.0.0.1 and a free port", () => {
  const tail = ["dashboard", "/w/run", "--host", "127.0.0.1", "--port", "0"];
  assert.deepEqual(dashboardCommand("/v/bin/python", "", "/w/run"), { command: "/v/bin/python", args: ["-m", "hpo_engine.cli", ...tail] });
  assert.deepEqual(dashboardCommand(null, "/v/bin/hpo-lsp", "/w/run", (p) => p === "/v/bin/hpo"), { command: "/v/bin/hpo", args: tail });
  assert.deepEqual(dashboardCommand(null, "/v/bin/hpo-lsp", "/w/run", () => false), { command: "python3", args: ["-m", "hpo_engine.cli", ...tail] });
});

test("dashboardUrl reads the address hpo dashboard prints once it listens", () => {
  assert.equal(dashboardUrl("hpo dashboard: tiny/quick at http://127.0.0.1:40123/live/ (optuna-dashboard: http://127.0.0.1:40123/dashboard/; Ctrl-C to stop)\n"), "http://127.0.0.1:40123/live/");
  assert.equal(dashboardUrl("hpo dashboard: starting"), null);
  assert.equal(dashboardUrl("at http://0.0.0.0:80/"), null);
});
