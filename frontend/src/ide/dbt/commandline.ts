// The command bar's typed line as dbt/run wants it: `dbt build -s "customers+"` becomes
// command "build" and args ["-s", "customers+"]. The pod checks the command and each flag
// (and answers -32602 naming a bad one); this only splits the words.

export interface DbtCommandLine {
  command: string;
  args: string[];
}

/** dbt's commands that are two words: their second word belongs to the command. */
const TWO_WORD = new Set(["docs generate", "source freshness"]);

/** Splits on whitespace, keeping quoted parts ('…' or "…") together, quotes removed. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | null = null;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new Error(`A quote (${quote}) is not closed.`);
  if (inWord) words.push(word);
  return words;
}

/** The command and its arguments; a leading `dbt` is optional. Throws on an empty line. */
export function parseCommandLine(line: string): DbtCommandLine {
  const words = splitWords(line);
  if (words[0] === "dbt") words.shift();
  const first = words.shift();
  if (!first) throw new Error("Type a dbt command, e.g. build -s customers+");
  const pair = words[0] !== undefined ? `${first} ${words[0]}` : "";
  if (TWO_WORD.has(pair)) {
    words.shift();
    return { command: pair, args: words };
  }
  return { command: first, args: words };
}

/** The line shown for an invocation (history, rerun): `dbt <command> <args…>`. */
export function formatCommandLine(command: string, args: readonly string[]): string {
  const quoted = args.map((arg) => (arg === "" || /[\s'"]/.test(arg) ? JSON.stringify(arg) : arg));
  return ["dbt", command, ...quoted].join(" ");
}
