// Completion in a dbt model from dbt/catalog: node names inside `{{ ref('`, source names
// then their tables inside `{{ source('`, macros (with their arguments) inside `{{ }}` or
// `{% %}`, and outside Jinja the columns of the relations the model refs or sources.
// `dbtCompletions` is pure (text before the cursor, the whole text, the catalog); the
// CodeMirror source around it asks for the catalog only when a completion may need it.
import type { CompletionContext, CompletionResult, CompletionSource } from "@codemirror/autocomplete";
import type { CatalogResult } from "../generated/protocol";

export interface DbtOption {
  label: string;
  detail?: string;
  info?: string;
  /** Text inserted instead of the label. */
  apply?: string;
  type: "class" | "namespace" | "function" | "property" | "keyword";
}

export interface DbtCompletion {
  /** Offset in the text where the completed word starts. */
  from: number;
  options: DbtOption[];
}

/** dbt's own Jinja context beside the project's macros. */
const BUILTINS: readonly [string, string][] = [
  ["ref", "ref('model')"], ["source", "source('source', 'table')"], ["config", "config(...)"],
  ["var", "var('name', default)"], ["env_var", "env_var('NAME', default)"], ["is_incremental", "is_incremental()"],
  ["this", "the relation being built"], ["target", "the target's settings"],
];

const REF = /\bref\(\s*['"]([\w.-]*)$/;
const SOURCE_NAME = /\bsource\(\s*['"](\w*)$/;
const SOURCE_TABLE = /\bsource\(\s*['"](\w+)['"]\s*,\s*['"](\w*)$/;
const WORD = /\w*$/;

/** Whether `before` ends inside `{{ … }}` or `{% … %}` (not a comment). */
export function insideJinja(before: string): boolean {
  const open = Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%"));
  if (open < 0) return false;
  const close = Math.max(before.lastIndexOf("}}"), before.lastIndexOf("%}"));
  return close < open;
}

export function dbtCompletions(before: string, text: string, catalog: CatalogResult): DbtCompletion | null {
  const end = before.length;
  let match = REF.exec(before);
  if (match && insideJinja(before)) {
    const nodes = [
      ...catalog.models.map((n) => ({ n, kind: "model" })),
      ...catalog.seeds.map((n) => ({ n, kind: "seed" })),
      ...catalog.snapshots.map((n) => ({ n, kind: "snapshot" })),
    ];
    return {
      from: end - match[1]!.length,
      options: uniqueBy(nodes.map(({ n, kind }) => ({ label: n.name, detail: kind, info: n.description || n.path, type: "class" as const }))),
    };
  }
  match = SOURCE_TABLE.exec(before);
  if (match && insideJinja(before)) {
    const source = match[1]!;
    return {
      from: end - match[2]!.length,
      options: catalog.sources.filter((s) => s.source === source)
        .map((s) => ({ label: s.table, detail: `source ${s.source}`, info: s.description || undefined, type: "class" as const })),
    };
  }
  match = SOURCE_NAME.exec(before);
  if (match && insideJinja(before)) {
    const names = [...new Set(catalog.sources.map((s) => s.source))].sort();
    return {
      from: end - match[1]!.length,
      options: names.map((name) => ({ label: name, detail: "source", type: "namespace" as const })),
    };
  }
  const word = WORD.exec(before)![0];
  const from = end - word.length;
  if (insideJinja(before)) {
    // Not inside a string (`'…` with an odd number of quotes since the tag opened).
    const tag = before.slice(Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%")));
    if ((tag.match(/'/g)?.length ?? 0) % 2 === 1 || (tag.match(/"/g)?.length ?? 0) % 2 === 1) return null;
    if (before[from - 1] === ".") return null; // an attribute (`this.schema`), not a name
    const macros = catalog.macros.map((m) => ({
      label: m.name,
      detail: `(${m.arguments.join(", ")})${m.package ? ` · ${m.package}` : ""}`,
      apply: `${m.name}(`,
      type: "function" as const,
    }));
    const builtins = BUILTINS.map(([label, detail]) => ({
      label, detail, type: "keyword" as const,
      apply: label === "this" || label === "target" ? label : label === "is_incremental" ? "is_incremental()" : `${label}(`,
    }));
    return { from, options: uniqueBy([...builtins, ...macros]) };
  }
  if (!word) return null;
  // SQL: the columns of what this model selects from.
  const options: DbtOption[] = [];
  const byName = new Map([...catalog.models, ...catalog.seeds, ...catalog.snapshots].map((n) => [n.name, n]));
  for (const [, name] of text.matchAll(/\bref\(\s*['"]([\w.-]+)['"]\s*\)/g)) {
    for (const column of byName.get(name!)?.columns ?? []) options.push({ label: column, detail: name, type: "property" });
  }
  for (const [, source, table] of text.matchAll(/\bsource\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]\s*\)/g)) {
    const found = catalog.sources.find((s) => s.source === source && s.table === table);
    for (const column of found?.columns ?? []) options.push({ label: column, detail: `${source}.${table}`, type: "property" });
  }
  return options.length ? { from, options: uniqueBy(options) } : null;
}

function uniqueBy(options: DbtOption[]): DbtOption[] {
  const seen = new Set<string>();
  return options.filter((o) => !seen.has(o.label) && seen.add(o.label));
}

/** Whether a completion here may need the catalog (so an ordinary SQL word costs no request). */
function wanted(before: string, explicit: boolean): boolean {
  if (insideJinja(before)) return true;
  return explicit || /\w{2,}$/.test(before);
}

/** The CodeMirror completion source; `catalog` may answer from a cache. */
export function dbtCompletionSource(catalog: () => Promise<CatalogResult>): CompletionSource {
  return async (context: CompletionContext): Promise<CompletionResult | null> => {
    const line = context.state.doc.lineAt(context.pos);
    // The text before the cursor on this line and a few before (a tag may span lines).
    const start = Math.max(0, line.from - 400);
    const before = context.state.sliceDoc(start, context.pos);
    if (!wanted(before, context.explicit)) return null;
    let result: CatalogResult;
    try {
      result = await catalog();
    } catch {
      return null; // not a dbt project, or the pod cannot parse it right now
    }
    if (context.aborted) return null;
    const found = dbtCompletions(before, context.state.doc.toString(), result);
    if (!found || found.options.length === 0) return null;
    return { from: start + found.from, options: found.options, validFor: /^[\w.-]*$/ };
  };
}
