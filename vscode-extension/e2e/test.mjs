// Drives code-server (a real VS Code) in Debian's chromium through playwright-core, as a
// user would: open the typo example, see the `step"` error in Problems, apply the quick fix,
// preview the search space, run a tiny experiment and see its results. Started by run.sh.
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
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

// Up to three tries of `attempt(n)` (n 1-based; the last may wait longer): a quick input can close
// or re-sort under a click. `onRetry(n)` runs after a failed try; the third failure propagates.
async function withRetries(attempt, onRetry) {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= 3) throw error;
      await onRetry(n);
    }
  }
}

// A webview that repaints (the live results view) can take the focus and close an open quick
// input, which then holds its rows hidden: the pick is opened again (at most 3 tries).
async function quickPick(opener, text, rowText = text) {
  await withRetries(async (n) => {
    await page.keyboard.press(opener);
    const input = page.locator(".quick-input-widget .quick-input-box input");
    await input.waitFor({ state: "visible", timeout: 15000 });
    await input.pressSequentially(text, { delay: 10 });
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: rowText }).first();
    await row.waitFor({ state: "visible", timeout: n < 3 ? 5000 : 15000 });
  }, async (n) => {
    process.stdout.write(`[e2e ${seconds()}s] quick pick "${text}" closed before its row showed (try ${n}); opening it again\n`);
    await page.keyboard.press("Escape");
  });
  await page.keyboard.press("Enter");
}

async function runCommand(title) {
  await quickPick("F1", title.replace(/^HPO: /, "HPO: "), title);
}

async function openFile(name) {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  const activeTab = page.locator(".tabs-container .tab.active .label-name", { hasText: exact }).first();
  // Quick open lists fuzzy matches (files under hpo-results/ too): click the row whose file name
  // is exactly `name` instead of taking the first row with Enter. The list can re-sort while it
  // fills (recent files first, then the workspace search), so a click may land on a row that
  // moved: check the active tab and try again.
  await withRetries(async (n) => {
    await page.keyboard.press("Control+P");
    const input = page.locator(".quick-input-widget .quick-input-box input");
    await input.waitFor({ state: "visible", timeout: n < 3 ? 20000 : 60000 });
    await input.fill("");
    await input.pressSequentially(name, { delay: 10 });
    const row = page
      .locator(".quick-input-list .monaco-list-row")
      .filter({ has: page.locator(".label-name", { hasText: exact }) })
      .first();
    await row.waitFor({ state: "visible", timeout: n < 3 ? 20000 : 60000 });
    await sleep(500); // let the list settle before clicking
    await row.click();
    await activeTab.waitFor({ timeout: n < 3 ? 15000 : 60000 });
  }, async (n) => {
    process.stdout.write(`[e2e ${seconds()}s] ${name} is not the active tab after quick open (try ${n}); opening it again\n`);
    await page.keyboard.press("Escape");
    await sleep(500);
  });
  await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 60000 });
}

async function languageMode() {
  return (await page.locator("#status\\.editor\\.mode").innerText().catch(() => "")).trim();
}

async function cursorPosition() {
  return (await page.locator("#status\\.editor\\.selection").innerText().catch(() => "")).trim();
}

async function closeAllEditors() {
  await runCommand("View: Close All Editors");
  await sleep(500);
}

async function goTo(line, column = 1) {
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+G");
  await page.locator(".quick-input-widget .quick-input-box input").waitFor({ state: "visible" });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press("Enter");
  await sleep(300);
}

function skipped(name, why) {
  steps.push({ name, ok: true, skipped: true, seconds: 0, detail: `SKIPPED: ${why}` });
  process.stdout.write(`[e2e ${seconds()}s] ${name}: SKIPPED (${why})\n`);
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
  // 1-based line of the first top-level key after the hyper-parameters list (a new item goes before it)
  const afterList = typoText.findIndex((l) => l.startsWith("training_results_reference:")) + 1;
  const KINDS = ["double_range", "double_values", "int_range", "int_values", "string_values"];

  if (process.env.E2E_REDHAT !== "1") {
    skipped("Red Hat YAML runs beside hpo", "no Red Hat YAML vsix (HPO_E2E_REDHAT_YAML)");
  } else {
    await step("Red Hat YAML runs beside hpo: it reports a plain YAML file's syntax error", async () => {
      await openFile("plain-broken.yaml");
      await page.keyboard.press("Control+Shift+M");
      await page.locator(".markers-panel").waitFor({ timeout: 15000 });
      const rows = await until("Red Hat YAML's problem for plain-broken.yaml", async () => {
        const r = (await problemRows()).filter((t) => t.trim() && !t.includes("plain-broken.yaml"));
        return r.length ? r : null;
      }, 60000);
      const mode = await languageMode();
      if (mode !== "YAML") throw new Error(`plain-broken.yaml is in language "${mode}", expected YAML`);
      await shot("redhat-plain-yaml");
      await closeAllEditors();
      return `${rows.map((r) => r.replace(/\s+/g, " ").trim()).join(" | ")} (language ${mode})`;
    });

    for (const name of ["seed-typo.hpo.yaml", "seed-typo.yaml"]) {
      await step(`beside Red Hat YAML, ${name}: one step" problem, one hover, one set of kinds, one quick fix`, async () => {
        await openFile(name);
        const mode = await until("the HPO manifest language", async () => ((await languageMode()) === "HPO manifest" ? "HPO manifest" : null), 30000);
        await page.keyboard.press("Control+Shift+M");
        await page.locator(".markers-panel").waitFor({ timeout: 15000 });
        await until('a problem about step"', async () => (await problemRows()).some((t) => t.includes('step"')), 60000);
        await sleep(4000); // time for a second server to add its own, if one would
        const typo = (await problemRows()).filter((t) => t.includes('step"'));
        if (typo.length !== 1) throw new Error(`expected one step" problem, got ${typo.length}: ${JSON.stringify(typo)}`);
        await shot(`once-problems-${name}`);

        // hover on the hyper-parameter's name
        const word = page.locator(".editor-instance .monaco-editor .view-line span", { hasText: /^learning_rate$/ }).first();
        const hoverText = await until("a hover", async () => {
          await page.mouse.move(0, 0);
          await word.hover();
          return page.locator(".monaco-hover").filter({ hasText: "Name of the hyper-parameter" }).first().innerText({ timeout: 3000 }).catch(() => "");
        }, 30000, 500);
        await sleep(1500);
        const shown = await page.locator(".monaco-hover").filter({ hasText: "Name of the hyper-parameter" }).first().innerText().catch(() => hoverText);
        const descriptions = shown.split("Name of the hyper-parameter").length - 1;
        if (descriptions !== 1 || /Source:|hpo-manifest\.schema\.json/.test(shown)) throw new Error(`expected one hover from hpo, got: ${JSON.stringify(shown)}`);
        await shot(`once-hover-${name}`);
        await page.keyboard.press("Escape");
        await page.mouse.move(0, 0);

        // a new hyper-parameter item: Enter after "- name:" puts the cursor where its kind goes
        await goTo(afterList, 1);
        await page.keyboard.insertText("    - name: dropout\n");
        await page.keyboard.press("ArrowUp");
        await page.keyboard.press("End");
        await page.keyboard.press("Escape");
        await page.keyboard.press("Enter");
        await sleep(300);
        const where = await cursorPosition();
        if (!where.includes(`Ln ${afterList + 1}, Col 7`)) throw new Error(`after Enter the cursor is at "${where}", expected Ln ${afterList + 1}, Col 7`);
        await page.keyboard.press("Control+Space");
        await page.locator(".suggest-widget .monaco-list-row").first().waitFor({ state: "visible", timeout: 15000 });
        await sleep(1500); // a second provider's items would arrive meanwhile
        const labels = (await page.locator(".suggest-widget .monaco-list-row .label-name").allInnerTexts()).map((t) => t.trim());
        const counts = KINDS.map((k) => labels.filter((l) => l === k).length);
        if (counts.some((c) => c !== 1)) throw new Error(`expected each kind once, got ${JSON.stringify(labels)}`);
        await shot(`once-completion-${name}`);
        await page.keyboard.press("Escape");
        await runCommand("File: Revert File");
        await until("the reverted text", async () => !(await editorText()).includes("dropout"), 15000);

        // the quick fix menu on step"
        await goTo(typoLine, typoColumn);
        await page.keyboard.press("Control+Period");
        await page.locator(".action-widget .monaco-list-row").first().waitFor({ state: "visible", timeout: 15000 });
        await sleep(1500);
        const actions = (await page.locator(".action-widget .monaco-list-row.action").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
        await shot(`once-quick-fix-${name}`);
        await page.keyboard.press("Escape");
        if (actions.filter((a) => /step/.test(a)).length !== 1 || actions.some((a) => /power/.test(a))) {
          throw new Error(`expected one quick fix for step", got ${JSON.stringify(actions)}`);
        }
        // the outline: hpo's tree only (model1 > hyper_parameters_optimization > ...), not also
        // a generic YAML outline of every key
        await runCommand("Explorer: Focus on Outline View");
        const outline = await until("the outline", async () => {
          const rows = (await page.locator(".part.sidebar .outline-tree .monaco-list-row").allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, " ").trim());
          return rows.some((r) => r.startsWith("model1")) ? rows : null;
        }, 20000, 300);
        await sleep(1500);
        const outlineRows = (await page.locator(".part.sidebar .outline-tree .monaco-list-row").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
        await shot(`once-outline-${name}`);
        if (outlineRows.filter((r) => r.startsWith("model1")).length !== 1 || outlineRows.some((r) => /^(settings|training_references|training_results_reference)\b/.test(r))) {
          throw new Error(`expected hpo's outline only, got ${JSON.stringify(outlineRows)}`);
        }
        await closeAllEditors();
        return `language ${mode}; problem: ${typo[0].replace(/\s+/g, " ").trim()}; hover sections: ${descriptions}; kinds ${counts.join("/")}; cursor after Enter ${where}; quick fixes: ${actions.join(" | ")}; outline: ${outline.length} rows (${outlineRows.slice(0, 3).join(", ")})`;
      });
    }
  }

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
      () => frameWith("table.trials", async (f) => (await f.locator("table.trials tbody tr").count()) === 3 && (await f.locator(".summary .state").innerText()).trim() === "complete"),
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
    const line = text.split("\n").find((l) => l.includes("best value found"))?.trim() ?? "";
    if (!/run of \d{4}-\d\d-\d\d \d\d:\d\d UTC, complete, 3 trials/.test(line)) throw new Error(`the best value does not name its run: "${line}"`);
    return line;
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

  await step("running an invalid manifest: one message listing the problem, no results view", async () => {
    await runCommand("Notifications: Clear All Notifications");
    await openFile("invalid.hpo.yaml");
    await runCommand("HPO: Run experiment");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "was not run" }).first();
    await toast.waitFor({ timeout: 30000 });
    await sleep(2500);
    const texts = (await page.locator(".notifications-toasts .notification-toast").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
    const mine = texts.filter((t) => t.includes("invalid.hpo.yaml"));
    if (mine.length !== 1) throw new Error(`expected one message about invalid.hpo.yaml, got ${JSON.stringify(texts)}`);
    if (!/line \d+: .*double_valuez/.test(mine[0])) throw new Error(`the message does not list the problem: ${mine[0]}`);
    const results = await frameWith("h1", async (f) => (await f.locator("h1").innerText()).includes("invalid.hpo.yaml"));
    if (results) throw new Error("a results view was opened for a run that did not happen");
    const channel = (await page.locator(".part.panel .monaco-editor .view-lines").allInnerTexts().catch(() => [])).join("\n");
    if (/Run invalid|results in\s*$/m.test(channel)) throw new Error(`garbled output: ${channel.slice(-300)}`);
    await shot("invalid-manifest");
    await runCommand("Notifications: Clear All Notifications");
    return mine[0];
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


  await step("run history: a stopped run does not hide the complete one; Pick a run; Resume continues it", async () => {
    const marker = join(WORKSPACE, ".slow-tiny");
    writeFileSync(marker, "");
    await openFile("tiny.hpo.yaml");
    await runCommand("HPO: Run experiment");
    await until("a running trial", async () => (await page.locator(".notifications-toasts .notification-toast", { hasText: /tiny\.hpo\.yaml: \d\/3 trials \(1 running\)/ }).count()) > 0, 30000);
    await sleep(1000);
    await runCommand("HPO: Stop experiment");
    await until(
      "the stopped run's results",
      () => frameWith(".summary .state", async (f) => (await f.locator(".summary .state").innerText()).trim() === "cancelled" && (await f.locator("h1").innerText()).includes("tiny.hpo.yaml")),
      60000,
      300,
    );
    unlinkSync(marker);
    await runCommand("HPO: Show results");
    const shown = await until(
      "Show results on the complete run",
      () => frameWith("p.run", async (f) => (await f.locator(".summary .state").innerText()).trim() === "stored" && /complete, 3 trials/.test(await f.locator("p.run").innerText())),
      20000,
      300,
    );
    const shownRun = (await shown.locator("p.run").innerText()).trim();
    await shot("history-show-results");
    await runCommand("HPO: Pick a run…");
    const rows = page.locator(".quick-input-list .monaco-list-row");
    await rows.first().waitFor({ state: "visible", timeout: 15000 });
    const picks = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
    if (!picks.some((p) => p.includes("incomplete")) || !picks.some((p) => /complete · 3\/3 trials · best accuracy = /.test(p))) throw new Error(`picker rows: ${JSON.stringify(picks)}`);
    await shot("history-picker");
    await rows.filter({ hasText: "incomplete" }).first().click();
    const stopped = await until(
      "the incomplete run with its Resume button",
      () => frameWith("a.resume", async (f) => /incomplete/.test(await f.locator("p.run").innerText())),
      20000,
      300,
    );
    const command = (await stopped.locator("code.resume-command").innerText()).trim();
    const dir = (await stopped.locator(".summary code").last().innerText()).trim();
    if (!/^hpo run \S*tiny\.hpo\.yaml --results \S*hpo-results\/editor\/tiny\.hpo\/\S+ --resume$/.test(command) || !command.includes(`--results ${dir} `)) {
      throw new Error(`resume command "${command}" for results in ${dir}`);
    }
    await shot("history-resume-button");
    await stopped.locator("a.resume").click();
    const resumed = await until(
      "the resumed run's results",
      () => frameWith(".summary .state", async (f) => (await f.locator(".summary .state").innerText()).trim() === "complete" && (await f.locator(".summary code").last().innerText()).trim() === dir),
      120000,
      500,
    );
    const trialsDone = await resumed.locator("table.trials tbody tr").allInnerTexts();
    await shot("history-resumed");
    return `Show results: "${shownRun}"; picker: ${picks.join(" | ")}; resume: ${command}; after Resume: ${trialsDone.length} trials in the same folder`;
  });
  await step("a run with early stopping: live charts in the results view, pruned trials, epochs saved", async () => {
    await runCommand("Notifications: Clear All Notifications");
    await openFile("curves.hpo.yaml");
    await runCommand("HPO: Run experiment");
    const progress = new Set();
    let live = null;
    const frame = await until(
      "the complete results with charts",
      async () => {
        for (const t of await page.locator(".notifications-toasts .notification-toast", { hasText: "curves.hpo.yaml" }).allInnerTexts().catch(() => [])) progress.add(t.replace(/\s+/g, " ").trim());
        return frameWith("#charts", async (f) => {
          if (!(await f.locator("h1").innerText()).includes("curves.hpo.yaml")) return false;
          const state = (await f.locator(".summary .state").innerText()).trim();
          const charts = await f.locator("#charts .chart .main-svg").count();
          if (state === "running" && charts > 0 && !live) live = `${await f.locator("table.trials tbody tr").count()} trials, ${charts} chart layers`;
          return state === "complete";
        });
      },
      240000,
      400,
    );
    if (!live) throw new Error("the results view never showed charts while the run was going");
    const pruned = [...progress].find((t) => /pruned at epoch \d/.test(t));
    if (!pruned) throw new Error(`no progress line named a pruned trial: ${JSON.stringify([...progress])}`);
    await until("the three charts drawn", async () => (await frame.locator("#charts").getAttribute("data-rendered")) === "3", 20000);
    const charts = {};
    for (const id of ["history", "parallel-0", "curves-0"]) {
      const chart = frame.locator(`#charts .chart[data-chart="${id}"]`);
      charts[id] = { svg: await chart.locator("svg.main-svg").count(), traces: await chart.locator("g.trace").count(), title: (await chart.locator(".gtitle").first().textContent()) ?? "" };
      if (!charts[id].svg || !charts[id].traces) throw new Error(`chart ${id} not rendered: ${JSON.stringify(charts[id])}`);
    }
    const curveLines = await frame.locator('#charts .chart[data-chart="curves-0"] g.trace.scatter path.js-line').count();
    if (curveLines < 5) throw new Error(`expected a learning curve per finished trial, got ${curveLines} lines`);
    const ticks = await frame.locator('#charts .chart[data-chart="parallel-0"] .xtick text').allTextContents();
    if (!ticks.includes("units (log)") || !ticks.includes("optimizer")) throw new Error(`parallel coordinates axes: ${JSON.stringify(ticks)}`);
    const labels = await frame.locator('#charts .chart[data-chart="parallel-0"] .annotation-text').allTextContents();
    if (!labels.includes("adam") || !labels.includes("sgd")) throw new Error(`categorical axis labels: ${JSON.stringify(labels)}`);
    const count = (await frame.locator(".summary .pruned-count").innerText()).trim();
    const saved = (await frame.locator("p.pruning").innerText()).trim();
    if (!/^\d+ pruned$/.test(count) || !/saved \d+% of epochs/.test(saved)) throw new Error(`summary: "${count}", "${saved}"`);
    const rows = await frame.locator("table.trials tr.pruned td.trial-state").allInnerTexts();
    if (!rows.length || !rows.every((r) => /^pruned at epoch \d+$/.test(r.trim()))) throw new Error(`pruned rows: ${JSON.stringify(rows)}`);
    const channel = (await page.locator(".part.panel .monaco-editor .view-lines").allInnerTexts().catch(() => [])).join("\n").replace(/\u00a0/g, " ");
    // the picture for the docs: the results view alone (its tab group maximized, no panel)
    // (double-clicking a tab expands its group; Ctrl+J hides the panel, Ctrl+B the side bar)
    const tab = page.locator(".tabs-container .tab", { hasText: "Results: curves.hpo.yaml" }).first();
    await page.keyboard.press("Control+J");
    await page.keyboard.press("Control+B");
    await tab.dblclick();
    await sleep(2500); // plotly redraws at the new size
    const picture = await shot("results-charts");
    if (process.env.E2E_DOCS_IMAGE) copyFileSync(picture, process.env.E2E_DOCS_IMAGE);
    await tab.dblclick();
    await page.keyboard.press("Control+B");
    return `live: ${live}; progress: "${pruned}"; ${count}, "${saved}"; charts ${JSON.stringify(charts)}; ${curveLines} curves; trial log ${/trial \d pruned at epoch \d/.test(channel) ? "names" : "does not show"} pruned trials`;
  });

  await step("HPO: Open dashboard starts hpo dashboard on 127.0.0.1 for the shown run, and it answers", async () => {
    await runCommand("Notifications: Clear All Notifications");
    const pagesBefore = browser.pages().length;
    await runCommand("HPO: Open dashboard");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: /dashboard of .* at http:\/\/127\.0\.0\.1:\d+\/live\// }).first();
    await toast.waitFor({ timeout: 90000 });
    const text = (await toast.innerText()).replace(/\s+/g, " ").trim();
    const url = /http:\/\/127\.0\.0\.1:\d+\/live\//.exec(text)[0];
    if (!/curves\.hpo/.test(text)) throw new Error(`the dashboard is not of the shown run: ${text}`);
    const response = await fetch(url);
    const body = await response.text();
    if (response.status !== 200 || !/<html/i.test(body)) throw new Error(`${url} answered ${response.status}`);
    const live = await fetch(new globalThis.URL("/live/data.json", url));
    const data = live.ok ? await live.json() : null;
    if (!data || !data.stores.length || !data.stores[0].trials.length) throw new Error(`/live/data.json has no trials: ${live.status}`);
    const api = await fetch(new globalThis.URL("/api/studies", url));
    const studies = api.ok ? await api.json() : null;
    await shot("dashboard-started");
    for (const extra of browser.pages().slice(pagesBefore)) await extra.close().catch(() => undefined);
    return `${url} answered ${response.status} (${body.length} bytes); /live/data.json: ${data.stores[0].trials.length} trials; optuna-dashboard's /api/studies: ${api.status}${studies ? ` ${JSON.stringify(studies).slice(0, 120)}` : ""}`;
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

const summary = { passed: !failed && steps.every((s) => s.ok), skipped: steps.filter((s) => s.skipped).map((s) => s.name), seconds: Number(seconds()), steps, screenshots: SHOTS };
writeFileSync(join(OUT, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
console.log("\nE2E summary");
for (const s of steps) console.log(`  ${s.ok ? "PASS" : "FAIL"}  ${s.name}  (${s.seconds.toFixed(1)}s)${s.detail ? `  — ${s.detail}` : ""}`);
console.log(`  ${summary.passed ? "PASSED" : "FAILED"} in ${summary.seconds}s; screenshots in ${SHOTS}`);
process.exit(summary.passed ? 0 : 1);
