// Drives code-server (a real VS Code) in Debian's chromium through playwright-core, as a
// user would: open the typo example, see the `step"` error in Problems, apply the quick fix,
// preview the search space, run a tiny experiment and see its results. Started by run.sh.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const URL = process.env.E2E_URL;
const WORKSPACE = process.env.E2E_WORKSPACE;
const OUT = process.env.E2E_OUTPUT;
const SHOTS = join(OUT, "screenshots");
mkdirSync(SHOTS, { recursive: true });

const t0 = Date.now();
const steps = [];
const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let page;
let shotCount = 0;
const seenRuns = new Set();

async function shot(name) {
  const path = join(SHOTS, `${String(++shotCount).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path });
  return path;
}

async function step(name, fn) {
  const start = Date.now();
  process.stdout.write(`[e2e ${seconds()}s] ${name} ...\n`);
  try {
    const detail = await fn();
    steps.push({ name, ok: true, seconds: (Date.now() - start) / 1000, detail: detail ?? "" });
  } catch (error) {
    steps.push({ name, ok: false, seconds: (Date.now() - start) / 1000, detail: String(error?.message ?? error).split("\n")[0] });
    throw error;
  }
}

/** Polls `fn` until it returns a truthy value; fails after `timeout` ms with `what`. */
async function until(what, fn, timeout = 30000, interval = 200) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}${last instanceof Error ? ` (${last.message.split("\n")[0]})` : ""}`);
}

async function quickPick(opener, text, rowText = text) {
  await page.keyboard.press(opener);
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible", timeout: 15000 });
  await input.pressSequentially(text, { delay: 10 });
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: rowText }).first();
  await row.waitFor({ state: "visible", timeout: 15000 });
  await page.keyboard.press("Enter");
}

async function runCommand(title) {
  await quickPick("F1", title.replace(/^HPO: /, "HPO: "), title);
}

async function openFile(name) {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  // Quick open lists fuzzy matches (files under hpo-results/ too): click the row whose file name
  // is exactly `name` instead of taking the first row with Enter.
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget .quick-input-box input");
  await input.waitFor({ state: "visible", timeout: 15000 });
  await input.pressSequentially(name, { delay: 10 });
  const row = page
    .locator(".quick-input-list .monaco-list-row")
    .filter({ has: page.locator(".label-name", { hasText: exact }) })
    .first();
  await row.waitFor({ state: "visible", timeout: 15000 });
  await row.click();
  await page.locator(".tabs-container .tab.active .label-name", { hasText: exact }).first().waitFor({ timeout: 15000 });
  await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 15000 });
}

async function problemRows() {
  return page.locator(".markers-panel .monaco-list-row").allInnerTexts();
}

async function editorText() {
  return (await page.locator(".editor-instance .monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
}

/** The frame (webview content) in which `selector` exists. */
async function frameWith(selector, predicate = async () => true) {
  for (const frame of page.frames()) {
    try {
      const handle = await frame.$(selector);
      if (handle && (await predicate(frame))) return frame;
    } catch {
      // frame navigated away
    }
  }
  return null;
}

const browser = await chromium.launchPersistentContext(process.env.E2E_BROWSER_PROFILE, {
  executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1500, height: 950 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const consoleLog = [];
let failed = false;
try {
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => consoleLog.push(`[pageerror] ${e.message}`));

  await step("VS Code workbench loads", async () => {
    await page.goto(URL);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "seed-typo.yaml" }).waitFor({ timeout: 60000 });
    return "explorer lists seed-typo.yaml";
  });

  const typoText = readFileSync(join(WORKSPACE, "seed-typo.yaml"), "utf8").split("\n");
  const typoLine = typoText.findIndex((l) => l.includes('step":')) + 1;
  const typoColumn = typoText[typoLine - 1].indexOf("step") + 2;

  await step('the step" typo is an error in the Problems panel', async () => {
    await openFile("seed-typo.yaml");
    await until("an error squiggle in the editor", () => page.locator(".monaco-editor .squiggly-error").count(), 60000);
    await page.keyboard.press("Control+Shift+M");
    await page.locator(".markers-panel").waitFor({ timeout: 15000 });
    const row = await until('a problem about step"', async () => (await problemRows()).find((t) => t.includes('step"')), 30000);
    await shot("typo-in-problems");
    return row.replace(/\s+/g, " ").trim();
  });

  await step("the quick fix (Ctrl+.) replaces step\" with step and the error goes", async () => {
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget .quick-input-box input").waitFor({ state: "visible" });
    await page.keyboard.type(`${typoLine}:${typoColumn}`);
    await page.keyboard.press("Enter");
    await sleep(300);
    await page.keyboard.press("Control+Period");
    const fix = page.locator(".action-widget .monaco-list-row", { hasText: /step/ }).first();
    await fix.waitFor({ state: "visible", timeout: 15000 });
    const title = (await fix.getAttribute("aria-label")) ?? (await fix.innerText()).trim();
    await shot("quick-fix-menu");
    // Keyboard, as a user would: move the focus to the fix, then Enter (the menu's pointer
    // block swallows synthetic clicks).
    for (let i = 0; i < 10; i++) {
      const focused = page.locator(".action-widget .monaco-list-row.focused").first();
      if (((await focused.getAttribute("aria-label").catch(() => "")) ?? "") === title) break;
      await page.keyboard.press("ArrowDown");
      await sleep(100);
    }
    await page.keyboard.press("Enter");
    await until("the fixed text in the editor", async () => (await editorText()).includes("step: 0.001"), 15000);
    await until('the step" problem to go', async () => !(await problemRows()).some((t) => t.includes('step"')), 30000);
    await until("no error squiggle", async () => (await page.locator(".monaco-editor .squiggly-error").count()) === 0, 30000);
    await shot("typo-fixed");
    return `applied "${title}"`;
  });

  await step("HPO: Preview search space shows the values table", async () => {
    await runCommand("HPO: Preview search space");
    const frame = await until(
      "the preview webview with its table",
      () => frameWith("table.dimensions", async (f) => (await f.locator("table.dimensions").innerText()).includes("learning_rate")),
      30000,
    );
    const size = (await frame.locator("p.size").first().innerText()).trim();
    const rows = await frame.locator("table.dimensions tbody tr").count();
    const points = await frame.locator("table.points tbody tr").count();
    if (rows !== 4) throw new Error(`expected 4 hyper-parameters in the table, got ${rows}`);
    if (!size.includes("144 combinations")) throw new Error(`expected 6 x 2 x 2 x 6 = 144 combinations, got "${size}"`);
    await shot("preview");
    return `${rows} hyper-parameters, "${size}", ${points} points shown`;
  });

  await step("HPO: Run experiment runs 3 trials with progress and shows the results", async () => {
    await openFile("tiny.hpo.yaml");
    await runCommand("HPO: Run experiment");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "tiny.hpo.yaml" }).first();
    await toast.waitFor({ timeout: 30000 });
    await shot("run-progress");
    const frame = await until(
      "the results webview",
      () => frameWith("table.trials", async (f) => (await f.locator("table.trials tbody tr").count()) === 3),
      120000,
      500,
    );
    const state = (await frame.locator(".summary .state").innerText()).trim();
    if (state !== "complete") throw new Error(`run state ${state}`);
    const best = (await frame.locator("table.best").innerText()).replace(/\s+/g, " ").trim();
    await until("the finished notification", () => page.locator(".notifications-toasts .notification-toast", { hasText: /complete: 3 trials/ }).count(), 15000);
    await shot("results");
    return `state ${state}; best: ${best}`;
  });

  await step("after the run, hover on a hyper-parameter shows the best value found", async () => {
    await openFile("tiny.hpo.yaml");
    const word = page.locator(".editor-instance .monaco-editor .view-line span", { hasText: /^learning_rate$/ }).first();
    await word.waitFor({ timeout: 15000 });
    const text = await until(
      "a hover with the best value",
      async () => {
        await page.mouse.move(0, 0);
        await word.hover();
        return page.locator(".monaco-hover").filter({ hasText: "best value found" }).first().innerText({ timeout: 3000 }).catch(() => "");
      },
      30000,
      500,
    );
    await shot("hover-best-value");
    await page.keyboard.press("Escape");
    return text.split("\n").find((l) => l.includes("best value found"))?.trim();
  });

  await step("the trial log is in the HPO Experiments output channel", async () => {
    const text = await until(
      "trial lines in the output",
      async () => {
        const t = (await page.locator(".part.panel .monaco-editor .view-lines").allInnerTexts().catch(() => [])).join("\n").replace(/\u00a0/g, " ");
        return /trial \d complete accuracy=/.test(t) ? t : null;
      },
      15000,
    );
    await shot("trial-log");
    return text.split("\n").filter((l) => /trial \d/.test(l)).length + " trial lines";
  });
  for (const [how, stop] of [
    ["HPO: Stop experiment", () => runCommand("HPO: Stop experiment")],
    ["the progress notification's Cancel button", () => page.locator(".notifications-toasts .notification-toast", { hasText: "slow.hpo.yaml" }).getByRole("button", { name: "Cancel" }).first().click()],
  ]) {
    await step(`${how} stops a running experiment`, async () => {
      await openFile("slow.hpo.yaml");
      await runCommand("HPO: Run experiment");
      await until("the first trial to start", async () => (await page.locator(".notifications-toasts .notification-toast", { hasText: "slow.hpo.yaml: 0/5 trials (1 running)" }).count()) > 0, 30000);
      await shot("slow-run-progress");
      const started = Date.now();
      await stop();
      const frame = await until(
        "the results of the stopped run",
        () =>
          frameWith(".summary .state", async (f) => {
            const state = (await f.locator(".summary .state").innerText()).trim();
            const title = await f.locator("h1").innerText();
            const dir = await f.locator(".summary code").last().innerText();
            return state === "cancelled" && title.includes("slow.hpo.yaml") && !seenRuns.has(dir) && (seenRuns.add(dir), true);
          }),
        30000,
        300,
      );
      const rows = await frame.locator("table.trials tbody tr").allInnerTexts();
      if (!rows.some((r) => r.includes("interrupted"))) throw new Error(`expected an interrupted trial, got ${JSON.stringify(rows)}`);
      await shot("stopped");
      return `stopped after ${((Date.now() - started) / 1000).toFixed(1)}s; trials: ${rows.map((r) => r.replace(/\s+/g, " ").trim()).join(" | ")}`;
    });
  }

  await step("HPO: Show results shows the stored results of a manifest", async () => {
    await openFile("tiny.hpo.yaml");
    await runCommand("HPO: Show results");
    const frame = await until(
      "the stored results of tiny.hpo.yaml",
      () => frameWith(".summary .state", async (f) => (await f.locator("h1").innerText()).includes("tiny.hpo.yaml") && (await f.locator(".summary .state").innerText()).trim() === "stored"),
      20000,
      300,
    );
    const rows = await frame.locator("table.trials tbody tr").count();
    if (rows !== 3) throw new Error(`expected 3 trials, got ${rows}`);
    await shot("stored-results");
    return `${rows} trials, best ${(await frame.locator("table.best").innerText()).replace(/\s+/g, " ").trim()}`;
  });

  await step("a Python without the hpo package gets one clear message with the install command", async () => {
    // As a user would: the Settings editor, search the setting, type the other interpreter.
    await runCommand("Preferences: Open User Settings");
    await page.locator(".settings-editor").waitFor({ timeout: 15000 });
    await sleep(500);
    await page.keyboard.type("hpo.python.interpreterPath");
    // A machine-overridable setting: in code-server it lives in the Remote (server) settings.
    await page.locator(".settings-editor .settings-tabs-widget .action-label", { hasText: "Remote" }).first().click();
    const input = page.locator('.settings-editor .setting-item-contents:has-text("Interpreter Path") .monaco-inputbox input').first();
    await input.waitFor({ timeout: 15000 });
    await input.fill(process.env.E2E_PYTHON_WITHOUT_HPO);
    await input.press("Tab");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "is not installed for" }).first();
    await toast.waitFor({ timeout: 30000 });
    const text = (await toast.innerText()).replace(/\s+/g, " ").trim();
    if (!text.includes("-m pip install")) throw new Error(`no install command in "${text}"`);
    await shot("missing-package");
    return text;
  });
} catch (error) {
  failed = true;
  console.error(`[e2e] FAILED: ${error?.stack ?? error}`);
  if (page) await shot("failure").catch(() => undefined);
} finally {
  writeFileSync(join(OUT, "browser-console.log"), consoleLog.join("\n") + "\n");
  await browser.close().catch(() => undefined);
}

const summary = { passed: !failed && steps.every((s) => s.ok), seconds: Number(seconds()), steps, screenshots: SHOTS };
writeFileSync(join(OUT, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
console.log("\nE2E summary");
for (const s of steps) console.log(`  ${s.ok ? "PASS" : "FAIL"}  ${s.name}  (${s.seconds.toFixed(1)}s)${s.detail ? `  — ${s.detail}` : ""}`);
console.log(`  ${summary.passed ? "PASSED" : "FAILED"} in ${summary.seconds}s; screenshots in ${SHOTS}`);
process.exit(summary.passed ? 0 : 1);
