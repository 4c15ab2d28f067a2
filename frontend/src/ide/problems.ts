// Lint and format (lint/run, format/file in the pod): problems as editor diagnostics and
// in a problems list grouped by file; Format replaces the open document's text in one
// edit, which goes through the room (a pair partner sees it) and undoes in one step.
import { setDiagnostics, type Diagnostic } from "@codemirror/lint";
import type { EditorView } from "@codemirror/view";
import { h } from "../dom";
import type { FileProblems, LintResult, Problem } from "./generated/protocol";
import type { RpcClient } from "./rpc";
import { errorMessage, showNotice } from "../ui/notice";

export interface ProblemsCallbacks {
  openAt: (path: string, line: number, column: number) => void;
  /** The open editors, to show each file's problems in it. */
  views: () => { path: string; view: EditorView }[];
}

function diagnosticsFor(view: EditorView, problems: Problem[]): Diagnostic[] {
  const doc = view.state.doc;
  const at = (line: number, column: number): number => {
    const target = doc.line(Math.max(1, Math.min(line, doc.lines)));
    return Math.min(target.from + Math.max(0, column - 1), target.to);
  };
  return problems.map((problem) => {
    const from = at(problem.line, problem.column);
    let to = problem.end_line ? at(problem.end_line, problem.end_column ?? problem.column) : from;
    if (to <= from) to = Math.min(from + 1, doc.lineAt(from).to);
    return { from, to: Math.max(from, to), severity: problem.severity, source: problem.code, message: problem.message };
  });
}

/** The smallest single replacement that turns `before` into `after`. */
export function minimalChange(before: string, after: string): { from: number; to: number; insert: string } {
  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && before[start] === after[start]) start++;
  let end = 0;
  while (end < shorter - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { from: start, to: before.length - end, insert: after.slice(start, after.length - end) };
}

export class ProblemsPanel {
  readonly el: HTMLElement;
  private readonly summary: HTMLElement;
  /** Why another templater ran than the project asked for (lint/run's notice). */
  private readonly notice: HTMLElement;
  private readonly list: HTMLElement;
  private byPath = new Map<string, Problem[]>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly callbacks: ProblemsCallbacks,
  ) {
    const run = h("button", { type: "button", class: "button small", "data-testid": "problems-lint-project" }, "Lint project");
    run.addEventListener("click", () => void this.lint());
    this.summary = h("div", { class: "search-summary muted", "data-testid": "problems-summary" }, "Lint checks SQL with SQLFluff (or sqlfmt).");
    this.notice = h("div", { class: "search-summary muted", "data-testid": "problems-notice", hidden: true });
    this.list = h("div", { class: "search-results", "data-testid": "problems-list" });
    this.el = h(
      "div",
      { class: "search-panel", "data-testid": "problems-panel" },
      h("div", { class: "panel-title" }, h("span", null, "Problems"), run),
      this.summary,
      this.notice,
      this.list,
    );
  }

  /** Lints `paths` (the project when left out) and shows the problems. */
  async lint(paths?: string[]): Promise<void> {
    this.el.dataset.busy = "true";
    this.summary.textContent = "Linting…";
    try {
      const result = await this.rpc.request("lint/run", paths ? { paths } : {});
      if (paths) for (const path of paths) this.byPath.delete(path);
      else this.byPath.clear();
      for (const file of result.files) this.byPath.set(file.path, file.problems);
      this.render(result, paths);
      this.showInEditors();
    } catch (error) {
      this.summary.textContent = `Lint failed: ${errorMessage(error)}`;
      this.summary.dataset.state = "error";
    } finally {
      this.el.dataset.busy = "false";
    }
  }

  /** Shows the known problems of every open editor in it (after a lint, or when one opens). */
  showInEditors(): void {
    for (const { path, view } of this.callbacks.views()) {
      view.dispatch(setDiagnostics(view.state, diagnosticsFor(view, this.byPath.get(path) ?? [])));
    }
  }

  /** Formats the open document with the project's formatter, as one edit. */
  async format(path: string, view: EditorView): Promise<void> {
    const before = view.state.doc.toString();
    let result;
    try {
      result = await this.rpc.request("format/file", { path, content: before });
    } catch (error) {
      showNotice(`Cannot format ${path}: ${errorMessage(error)}`);
      return;
    }
    if (view.state.doc.toString() !== before) {
      showNotice(`${path} changed while it was being formatted: format it again.`);
      return;
    }
    if (!result.changed) {
      showNotice(`${path} is already formatted (${result.tool}).`, "info");
      return;
    }
    view.dispatch({ changes: minimalChange(before, result.content), userEvent: "format" });
  }

  private render(result: LintResult, paths: string[] | undefined): void {
    let count = 0;
    for (const problems of this.byPath.values()) count += problems.length;
    const scope = paths ? paths.join(", ") : "the project";
    const tool = result.templater ? `${result.tool} with the ${result.templater} templater` : result.tool;
    this.summary.dataset.state = result.truncated ? "truncated" : "done";
    this.summary.dataset.templater = result.templater ?? "";
    this.summary.textContent = count
      ? `${count} problem${count === 1 ? "" : "s"} in ${this.byPath.size} file${this.byPath.size === 1 ? "" : "s"} (${tool}, last run on ${scope})${result.truncated ? ", more not shown" : ""}`
      : `No problems (${tool}, ${scope})`;
    this.notice.textContent = result.notice ?? "";
    this.notice.hidden = !result.notice;
    const files: FileProblems[] = [...this.byPath].map(([path, problems]) => ({ path, problems }));
    this.list.replaceChildren(
      ...files.map((file) =>
        h(
          "div",
          { class: "search-group" },
          h("div", { class: "search-file", "data-testid": "problems-file", "data-path": file.path, title: file.path },
            h("span", { class: "search-file-name" }, file.path), h("span", { class: "count-badge" }, String(file.problems.length))),
          file.problems.map((problem) => {
            const row = h(
              "button",
              { type: "button", class: "search-match", "data-testid": "problem", "data-path": file.path, "data-line": String(problem.line), "data-code": problem.code, "data-severity": problem.severity },
              h("span", { class: "search-line muted" }, `${problem.line}:${problem.column}`),
              h("span", { class: "search-text" }, h("strong", null, problem.code), ` ${problem.message}`),
            );
            row.addEventListener("click", () => this.callbacks.openAt(file.path, problem.line, problem.column));
            return row;
          }),
        ),
      ),
    );
  }
}
