// Copies plotly.js (its strict, CSP-safe build: no eval, SVG traces) and its licence into the
// package (dist/media/), for the results webview: the charts load from the extension, never a CDN.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve("plotly.js-strict-dist-min/package.json"));
const target = join(here, "..", "dist", "media");
mkdirSync(target, { recursive: true });
for (const [from, to] of [["plotly-strict.min.js", "plotly-strict.min.js"], ["LICENSE", "plotly-LICENSE"]]) {
  const source = join(packageDir, from);
  if (!existsSync(source)) {
    console.error(`copy-plotly: ${source} is missing (npm ci)`);
    process.exit(1);
  }
  copyFileSync(source, join(target, to));
}
console.log(`copy-plotly: ${packageDir} -> ${target}`);
