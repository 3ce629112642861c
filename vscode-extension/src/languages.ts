/**
 * One answer per question beside Red Hat YAML (and any other YAML extension).
 *
 * Red Hat YAML serves every document in language `yaml`. While the hpo language server
 * runs, manifests get this extension's own language `hpo-yaml` ("HPO manifest": the YAML
 * grammar, hpo's checks): `*.hpo.yaml` files by their name (contributes.languages), other
 * YAML files with a manifest's top-level keys when they are opened or become manifests.
 * Red Hat YAML then does not see them, so each problem, hover, completion item, quick fix
 * and outline comes once, from hpo. A document the user switches back to `yaml` stays so.
 *
 * Without the server (it did not start: no Python, no hpo package), manifests go back to
 * `yaml` and the manifest schema is handed to Red Hat YAML through its schema-contributor
 * API, for manifests only and only while hpo's server is not running: a user without the
 * server still gets schema checks, completion and hover from Red Hat YAML.
 * There is no static `yamlValidation` contribution (it would make both servers answer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { MANIFEST_LANGUAGE, isManifest } from "./manifest";

const SCHEMA_URI = "hpo-schema://schemas/hpo-manifest.schema.json";
const RED_HAT_YAML = "redhat.vscode-yaml";

/** Red Hat YAML's exported API (the part used here). */
interface YamlApi {
  registerContributor(
    schema: string,
    requestSchema: (resource: string) => string | undefined,
    requestSchemaContent: (uri: string) => Promise<string> | string,
    label?: string,
  ): boolean;
}

export class ManifestLanguage implements vscode.Disposable {
  private serverRunning = false;
  /** Documents this extension moved to hpo-yaml (to notice a user moving one back). */
  private readonly adopted = new Set<string>();
  /** Documents the user moved back to yaml: left alone. */
  private readonly released = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private contributorRegistered = false;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.OutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((doc) => void this.consider(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => void this.consider(e.document)),
    );
  }

  private enabled(): boolean {
    return vscode.workspace.getConfiguration("hpo").get<boolean>("editor.manifestLanguage", true);
  }

  /** The server is running (true) or could not start (false): move open documents accordingly. */
  async setServerRunning(running: boolean): Promise<void> {
    this.serverRunning = running;
    if (!running) await this.registerSchemaWithRedHat();
    for (const doc of vscode.workspace.textDocuments) await this.consider(doc);
  }

  private async consider(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    if (doc.uri.scheme !== "file" && doc.uri.scheme !== "untitled") return;
    if (this.serverRunning && this.enabled()) {
      if (doc.languageId === MANIFEST_LANGUAGE) {
        this.adopted.add(key);
        return;
      }
      if (doc.languageId !== "yaml") return;
      if (this.adopted.has(key)) {
        // it was ours and is yaml again: the user chose yaml
        this.adopted.delete(key);
        this.released.add(key);
        return;
      }
      if (this.released.has(key) || !isManifest(doc.fileName, doc.languageId, doc.getText())) return;
      this.adopted.add(key);
      await this.switchTo(doc, MANIFEST_LANGUAGE);
    } else if (doc.languageId === MANIFEST_LANGUAGE) {
      // no hpo server (or the setting is off): manifests are plain YAML for other extensions
      this.adopted.delete(key);
      await this.switchTo(doc, "yaml");
    }
  }

  private async switchTo(doc: vscode.TextDocument, language: string): Promise<void> {
    try {
      await vscode.languages.setTextDocumentLanguage(doc, language);
    } catch (error) {
      this.log.appendLine(`HPO: could not set the language of ${doc.uri.fsPath} to ${language}: ${String(error)}`);
    }
  }

  /** Hands the manifest schema to Red Hat YAML (once), for manifests while hpo's server is not running. */
  private async registerSchemaWithRedHat(): Promise<void> {
    if (this.contributorRegistered) return;
    const extension = vscode.extensions.getExtension<YamlApi>(RED_HAT_YAML);
    if (!extension) return;
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      if (!api || typeof api.registerContributor !== "function") return;
      const schemaFile = path.join(this.extensionPath, "schemas", "hpo-manifest.schema.json");
      this.contributorRegistered = api.registerContributor(
        "hpo",
        (resource) => {
          if (this.serverRunning) return undefined;
          const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === resource);
          const fileName = doc?.fileName ?? vscode.Uri.parse(resource).fsPath;
          return isManifest(fileName, doc?.languageId ?? "yaml", doc?.getText() ?? "") ? SCHEMA_URI : undefined;
        },
        (uri) => (uri === SCHEMA_URI ? fs.promises.readFile(schemaFile, "utf8") : ""),
        "HPO manifest",
      );
      this.log.appendLine("HPO: the language server is not running; Red Hat YAML checks manifests against the manifest schema.");
    } catch (error) {
      this.log.appendLine(`HPO: could not hand the schema to Red Hat YAML: ${String(error)}`);
    }
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}
