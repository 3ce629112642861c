// Copies the manifest JSON Schema from the repository into the package (contributes.yamlValidation).
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "schemas", "hpo-manifest.schema.json");
const target = join(here, "..", "schemas", "hpo-manifest.schema.json");
if (!existsSync(source)) {
  console.error(`copy-schema: ${source} is missing`);
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
console.log(`copy-schema: ${source} -> ${target}`);
