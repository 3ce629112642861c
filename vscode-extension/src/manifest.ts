/**
 * Which YAML documents are HPO manifests. No `vscode` import: unit-tested in node.
 */

/** Top-level keys that only HPO manifests have (the detection rule). */
export const MANIFEST_MARKERS = ["training_references", "hyper_parameters_optimization"] as const;

const MARKER_RE = /(^|[\s{,])["']?(training_references|hyper_parameters_optimization)["']?\s*:/m;
const NAME_RE = /\.hpo\.ya?ml$/i;
const YAML_RE = /\.ya?ml$/i;

/** True for `*.hpo.yaml` / `*.hpo.yml` file names (any folder, any case). */
export function hasManifestName(fileName: string): boolean {
  return NAME_RE.test(fileName);
}

/**
 * True when `text` uses one of {@link MANIFEST_MARKERS} as a mapping key.
 * A marker inside a comment or a longer word does not count.
 */
export function hasManifestMarkers(text: string): boolean {
  for (const line of text.split(/\r?\n/)) {
    const code = stripComment(line);
    if (MARKER_RE.test(code)) {
      return true;
    }
  }
  return false;
}

/** The language this extension gives manifests (YAML highlighting; only hpo answers for it). */
export const MANIFEST_LANGUAGE = "hpo-yaml";

/**
 * A YAML document is a manifest when its name says so or its text has a marker key;
 * a document in {@link MANIFEST_LANGUAGE} always is.
 */
export function isManifest(fileName: string, languageId: string, text: string): boolean {
  if (languageId === MANIFEST_LANGUAGE) return true;
  const yaml = languageId === "yaml" || YAML_RE.test(fileName);
  if (!yaml) {
    return false;
  }
  return hasManifestName(fileName) || hasManifestMarkers(text);
}

function stripComment(line: string): string {
  // A '#' starts a comment at the line start or after whitespace, outside quotes.
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}
