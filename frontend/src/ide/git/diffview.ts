// A side-by-side diff of one file: HEAD on the left, the working tree (or the index) on
// the right, built from the hunks git/diff returns.
import { h, type View } from "../../dom";
import { errorMessage } from "../../ui/notice";
import type { DiffHunk, DiffLine, FileDiff, GitClient } from "./types";

type Side = DiffLine | null;

/** Pairs a hunk's lines into rows: context on both sides, deletions beside additions. */
export function sideBySide(hunk: DiffHunk): [Side, Side][] {
  const rows: [Side, Side][] = [];
  let removed: DiffLine[] = [];
  let added: DiffLine[] = [];
  const flush = (): void => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) rows.push([removed[i] ?? null, added[i] ?? null]);
    removed = [];
    added = [];
  };
  for (const line of hunk.lines) {
    if (line.origin === "-") removed.push(line);
    else if (line.origin === "+") added.push(line);
    else {
      flush();
      rows.push([line, line]);
    }
  }
  flush();
  return rows;
}

function cell(line: Side, side: "old" | "new"): HTMLElement[] {
  const kind = line === null ? "empty" : line.origin === " " ? "context" : side === "old" ? "del" : "add";
  const number = line === null ? null : side === "old" ? line.old_lineno : line.new_lineno;
  return [
    h("td", { class: `diff-num ${kind}` }, number ?? ""),
    h(
      "td",
      { class: `diff-code ${kind}`, "data-testid": `diff-${side}`, "data-kind": kind },
      line === null ? "" : line.content.replace(/\r?\n$/, ""),
    ),
  ];
}

export function renderDiff(diff: FileDiff): HTMLElement {
  if (diff.binary) return h("p", { class: "diff-note" }, "Binary file: no text diff.");
  if (diff.too_large) return h("p", { class: "diff-note" }, "This diff is too large to show.");
  if (diff.hunks.length === 0) return h("p", { class: "diff-note" }, "No changes in the text (mode or rename only).");
  const body = h("tbody");
  for (const hunk of diff.hunks) {
    body.append(h("tr", { class: "diff-hunk", "data-testid": "diff-hunk" }, h("td", { colspan: 4 }, hunk.header)));
    for (const [left, right] of sideBySide(hunk)) {
      body.append(h("tr", { "data-testid": "diff-row" }, cell(left, "old"), cell(right, "new")));
    }
  }
  return h("table", { class: "diff-table" }, h("colgroup", null, h("col", { class: "num" }), h("col"), h("col", { class: "num" }), h("col")), body);
}

export interface DiffViewOptions {
  path: string;
  staged: boolean;
  onOpenFile: (path: string) => void;
  onClose: () => void;
}

export class DiffView implements View {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private disposed = false;

  readonly path: string;

  constructor(
    private readonly git: GitClient,
    private readonly options: DiffViewOptions,
  ) {
    const { path, staged } = options;
    this.path = path;
    const open = h("button", { type: "button", class: "button small", "data-testid": "diff-open-file" }, "Open file");
    open.addEventListener("click", () => options.onOpenFile(path));
    const close = h("button", { type: "button", class: "button small", "data-testid": "diff-close", "aria-label": "Close the diff" }, "Close");
    close.addEventListener("click", () => options.onClose());
    this.body = h("div", { class: "diff-body" }, h("p", { class: "diff-note" }, "Loading the diff…"));
    this.el = h(
      "div",
      { class: "diff-view", "data-testid": "diff-view", "data-path": path, "data-staged": String(staged), "data-loaded": "false" },
      h(
        "header",
        { class: "diff-header" },
        h("strong", null, path),
        h("span", { class: "muted" }, staged ? "HEAD ↔ staged" : "HEAD ↔ working tree"),
        h("span", { class: "diff-stats", "data-testid": "diff-stats" }),
        h("span", { class: "spacer" }),
        open,
        close,
      ),
      this.body,
    );
    this.el.addEventListener("keydown", (event) => {
      if (event.key === "Escape") options.onClose();
    });
    void this.reload();
  }

  dispose(): void {
    this.disposed = true;
  }

  async reload(): Promise<void> {
    try {
      const result = await this.git.diff(this.options.path, this.options.staged);
      if (this.disposed) return;
      const diff = result.files[0];
      if (!diff) {
        this.body.replaceChildren(h("p", { class: "diff-note" }, "No changes."));
      } else {
        this.el.querySelector("[data-testid=diff-stats]")!.textContent = `+${diff.additions} −${diff.deletions}`;
        this.body.replaceChildren(renderDiff(diff));
      }
      this.el.dataset.loaded = "true";
    } catch (error) {
      if (!this.disposed) {
        this.body.replaceChildren(h("p", { class: "form-error" }, `Cannot show the diff: ${errorMessage(error)}`));
      }
    }
  }
}
