// Tab completion in the command bar: the command (first word), flags (a word starting with
// `-`), and node names after a selection flag (`-s cust` → `customers`, keeping the graph
// operators `+`, `@` and `n+` around the name). The flags are the pod's allow-list; it
// still checks each one.

export const COMMANDS = [
  "build", "run", "test", "seed", "snapshot", "deps", "clean", "docs generate",
  "compile", "ls", "parse", "debug", "show", "source freshness",
] as const;

export const FLAGS = [
  "--select", "--models", "--exclude", "--selector", "--resource-type", "--exclude-resource-type",
  "--vars", "--threads", "--limit", "--inline", "--output", "--output-keys", "--indirect-selection",
  "--state", "--defer-state", "--target-path", "--log-path", "--event-time-start", "--event-time-end",
  "--full-refresh", "--fail-fast", "--no-fail-fast", "--defer", "--no-defer", "--favor-state",
  "--empty", "--store-failures", "--warn-error", "--no-partial-parse", "--show", "--debug",
  "--no-compile", "--static", "--quiet",
] as const;

const SELECTION_FLAGS = new Set(["--select", "-s", "--exclude", "--models", "-m"]);

/** dbt's selector methods, completed like names in a selection (`tag:` → `tag:nightly`). */
export const SELECTOR_METHODS = [
  "path:", "tag:", "source:", "resource_type:", "config.materialized:", "package:", "fqn:",
  "test_type:", "test_name:", "state:", "result:", "exposure:", "file:",
] as const;

/** The values some flags take. */
const FLAG_VALUES: Record<string, readonly string[]> = {
  "--resource-type": ["model", "seed", "snapshot", "test", "source", "analysis", "exposure", "unit_test", "semantic_model", "metric", "saved_query"],
  "--exclude-resource-type": ["model", "seed", "snapshot", "test", "source", "analysis", "exposure", "unit_test"],
  "--output": ["text", "json", "name", "path", "selector"],
  "-o": ["text", "json", "name", "path", "selector"],
  "--indirect-selection": ["eager", "cautious", "buildable", "empty"],
};

export interface Completion {
  /** The range of the line the chosen option replaces. */
  from: number;
  to: number;
  options: string[];
}

/** What may complete the word that ends at `cursor`; `nodes` are the project's node names. */
export function complete(line: string, cursor: number, nodes: readonly string[]): Completion {
  const before = line.slice(0, cursor);
  const from = before.search(/\S*$/);
  const word = before.slice(from);
  const previous = before.slice(0, from).trim().split(/\s+/).filter(Boolean);
  if (previous[0] === "dbt") previous.shift();
  if (previous.length === 0) {
    return { from, to: cursor, options: COMMANDS.filter((c) => c.startsWith(word)) };
  }
  if (word.startsWith("-")) {
    return { from, to: cursor, options: FLAGS.filter((f) => f.startsWith(word)) };
  }
  const last = previous[previous.length - 1]!;
  const values = FLAG_VALUES[last];
  if (values) return { from, to: cursor, options: values.filter((v) => v.startsWith(word)) };
  if (SELECTION_FLAGS.has(last) || selectionContinues(previous)) {
    // `+cust`, `2+cust`, `@cust`: complete the name, keep the operator in front.
    const operator = /^(?:@|\d*\+)?/.exec(word)![0];
    const name = word.slice(operator.length);
    if (name.includes(":")) return { from, to: cursor, options: [] }; // a method's value
    const matches = [...new Set(nodes)].filter((n) => n.startsWith(name)).sort();
    const methods = name ? SELECTOR_METHODS.filter((m) => m.startsWith(name)) : [];
    return { from: from + operator.length, to: cursor, options: [...matches, ...methods] };
  }
  return { from, to: cursor, options: [] };
}

/** Whether the words after the last flag are a selection (`-s a b |`: dbt takes several). */
function selectionContinues(previous: readonly string[]): boolean {
  for (let i = previous.length - 1; i >= 0; i--) {
    const word = previous[i]!;
    if (word.startsWith("-")) return SELECTION_FLAGS.has(word);
  }
  return false;
}

/** Whether the word at `cursor` is a selector (after `-s` …): node names complete it. */
export function completesNodes(line: string, cursor: number): boolean {
  const before = line.slice(0, cursor);
  const words = before.slice(0, before.search(/\S*$/)).trim().split(/\s+/);
  return SELECTION_FLAGS.has(words[words.length - 1] ?? "") || selectionContinues(words);
}

/** The longest start all options share. */
export function commonPrefix(options: readonly string[]): string {
  if (options.length === 0) return "";
  let prefix = options[0]!;
  for (const option of options) {
    while (!option.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix;
}
