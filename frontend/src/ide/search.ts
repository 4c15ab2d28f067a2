// The search panel: find text in the project's files (fs/search in the pod), results
// grouped by file; a click opens the file at the match.
import { h } from "../dom";
import type { SearchMatch, SearchResult } from "./generated/protocol";
import type { RpcClient } from "./rpc";
import { errorMessage } from "../ui/notice";

export interface SearchPanelCallbacks {
  openAt: (path: string, line: number, column: number, length: number) => void;
}

export class SearchPanel {
  readonly el: HTMLElement;
  private readonly query: HTMLInputElement;
  private readonly glob: HTMLInputElement;
  private readonly regex: HTMLInputElement;
  private readonly caseSensitive: HTMLInputElement;
  private readonly summary: HTMLElement;
  private readonly results: HTMLElement;
  private generation = 0;

  constructor(
    private readonly rpc: RpcClient,
    private readonly callbacks: SearchPanelCallbacks,
  ) {
    this.query = h("input", {
      type: "search",
      class: "search-input",
      placeholder: "Search in files",
      "aria-label": "Search in files",
      "data-testid": "search-query",
    });
    this.glob = h("input", {
      type: "text",
      class: "search-input",
      placeholder: "Files to include (e.g. *.sql, models/*)",
      "aria-label": "Files to include",
      "data-testid": "search-glob",
    });
    const toggle = (label: string, testid: string): [HTMLInputElement, HTMLElement] => {
      const input = h("input", { type: "checkbox", "data-testid": testid });
      input.addEventListener("change", () => void this.run());
      return [input, h("label", { class: "search-toggle" }, input, label)];
    };
    const [regex, regexLabel] = toggle("Regex", "search-regex");
    const [caseSensitive, caseLabel] = toggle("Match case", "search-case");
    this.regex = regex;
    this.caseSensitive = caseSensitive;
    this.summary = h("div", { class: "search-summary muted", "data-testid": "search-summary" });
    this.results = h("div", { class: "search-results", "data-testid": "search-results" });
    for (const input of [this.query, this.glob]) {
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") void this.run();
      });
    }
    this.el = h(
      "div",
      { class: "search-panel", "data-testid": "search-panel" },
      h("div", { class: "panel-title" }, h("span", null, "Search")),
      h("div", { class: "search-form" }, this.query, this.glob, h("div", { class: "search-toggles" }, regexLabel, caseLabel)),
      this.summary,
      this.results,
    );
  }

  /** Shows the panel's query box focused, with `text` (a selection) as the query. */
  focus(text?: string): void {
    if (text && !text.includes("\n")) this.query.value = text;
    this.query.focus();
    this.query.select();
  }

  async run(): Promise<void> {
    const query = this.query.value;
    const generation = ++this.generation;
    if (!query) {
      this.summary.textContent = "";
      this.results.replaceChildren();
      return;
    }
    this.el.dataset.busy = "true";
    this.summary.textContent = "Searching…";
    try {
      const result = await this.rpc.request("fs/search", {
        query,
        regex: this.regex.checked,
        case_sensitive: this.caseSensitive.checked,
        glob: this.glob.value.trim() || null,
        max_results: 1000,
      });
      if (generation !== this.generation) return;
      this.render(result);
    } catch (error) {
      if (generation !== this.generation) return;
      this.summary.textContent = errorMessage(error);
      this.summary.dataset.state = "error";
      this.results.replaceChildren();
    } finally {
      if (generation === this.generation) this.el.dataset.busy = "false";
    }
  }

  private render(result: SearchResult): void {
    const byFile = new Map<string, SearchMatch[]>();
    for (const match of result.matches) {
      const list = byFile.get(match.path) ?? [];
      list.push(match);
      byFile.set(match.path, list);
    }
    const count = result.matches.length;
    let summary = count
      ? `${count} result${count === 1 ? "" : "s"} in ${byFile.size} file${byFile.size === 1 ? "" : "s"}`
      : "No results";
    if (result.truncated) {
      summary +=
        result.truncated_by === "time"
          ? " (the search took too long and stopped early: narrow it with files to include)"
          : " (more were found: only the first ones are shown)";
    }
    this.summary.textContent = summary;
    this.summary.dataset.state = result.truncated ? "truncated" : "done";
    const groups = [...byFile].map(([path, matches]) => {
      const rows = matches.map((match) => {
        const before = match.text.slice(0, match.column - 1);
        const hit = match.text.slice(match.column - 1, match.column - 1 + match.length);
        const after = match.text.slice(match.column - 1 + match.length);
        const row = h(
          "button",
          {
            type: "button",
            class: "search-match",
            "data-testid": "search-match",
            "data-path": path,
            "data-line": String(match.line),
            title: `${path}:${match.line}:${match.column}`,
          },
          h("span", { class: "search-line muted" }, String(match.line)),
          h("span", { class: "search-text" }, before.trimStart(), h("mark", null, hit), after),
        );
        row.addEventListener("click", () =>
          this.callbacks.openAt(path, match.line, match.column, match.length),
        );
        return row;
      });
      const header = h(
        "div",
        { class: "search-file", "data-testid": "search-file", "data-path": path, title: path },
        h("span", { class: "search-file-name" }, path.split("/").pop() ?? path),
        h("span", { class: "search-file-dir muted" }, path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ""),
        h("span", { class: "count-badge" }, String(matches.length)),
      );
      return h("div", { class: "search-group" }, header, rows);
    });
    this.results.replaceChildren(...groups);
  }
}
