// The results pane under the editor: "Preview" (Ctrl/Cmd-Enter) runs the selection, or
// else the whole file, and shows the rows as they stream in.
import type { EditorView } from "@codemirror/view";
import { h, type View } from "../../dom";
import type { RpcClient } from "../rpc";
import { clearPreviewError, markPreviewError, type SqlPosition } from "./errormark";
import { ResultsGrid } from "./grid";
import { PreviewRunner, type PreviewSummary } from "./preview";

export type ResultsState = "idle" | "running" | "done" | "error" | "cancelled";

const LIMITS = [100, 500, 1000, 5000, 10000];
const DEFAULT_LIMIT = 500;

/** The active editor and its file's path. */
export interface ActiveFile {
  view: EditorView;
  path: string;
}

/** What a preview runs: the selection or the whole document of the active editor. */
interface PreviewSource {
  view: EditorView;
  sql: string;
  /** Offset of `sql` in the document, to place error positions. */
  from: number;
  /** The file, when it is dbt SQL: the pod compiles `sql` in that model's context. */
  dbtPath?: string;
}

const JINJA = /\{\{|\{%|\{#/;

function sourceOf({ view, path }: ActiveFile): PreviewSource {
  const { from, to } = view.state.selection.main;
  const doc = view.state.doc.toString();
  // A file with Jinja is a dbt model (or analysis, test): even a selection in it needs the
  // model's context. Plain SQL goes to the warehouse as it is.
  const dbtPath = JINJA.test(doc) ? path : undefined;
  if (from !== to) return { view, sql: view.state.sliceDoc(from, to), from, dbtPath };
  return { view, sql: doc, from: 0, dbtPath };
}

export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export class ResultsPane implements View {
  readonly el: HTMLElement;
  private readonly grid = new ResultsGrid();
  private readonly runner: PreviewRunner;
  private readonly previewButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly limit: HTMLSelectElement;
  private readonly status: HTMLElement;
  private readonly message: HTMLElement;
  private source: PreviewSource | null = null;
  private docAtStart: unknown = null;
  private rowCount = 0;

  constructor(
    rpc: RpcClient,
    private readonly activeFile: () => ActiveFile | null,
  ) {
    this.previewButton = h("button", { type: "button", class: "button small primary", title: "Preview the selection, or the whole file (Ctrl/Cmd-Enter)", "data-testid": "results-preview" }, "▶ Preview");
    this.previewButton.addEventListener("click", () => this.preview());
    this.cancelButton = h("button", { type: "button", class: "button small", "data-testid": "results-cancel" }, "Cancel");
    this.cancelButton.addEventListener("click", () => void this.runner.cancel());
    this.limit = h("select", { class: "results-limit", "aria-label": "Row limit", "data-testid": "results-limit" },
      LIMITS.map((n) => h("option", { value: n }, `${n.toLocaleString()} rows`)));
    this.limit.value = String(DEFAULT_LIMIT);
    this.status = h("div", { class: "results-status", role: "status", "data-testid": "results-status", "data-state": "idle" });
    this.message = h("div", { class: "results-message", "data-testid": "results-message" },
      "Preview runs the selected SQL, or the whole file, against the warehouse. Results stay in this browser tab only.");
    const toggle = h("button", { type: "button", class: "icon-button results-toggle", title: "Show or hide the results", "aria-label": "Show or hide the results", "data-testid": "results-toggle" }, "▾");
    toggle.addEventListener("click", () => this.el.classList.toggle("collapsed"));
    this.el = h(
      "section",
      { class: "results collapsed", "data-testid": "results", "data-state": "idle" },
      this.resizer(),
      h("header", { class: "results-header" }, h("strong", null, "Results"), this.previewButton, this.limit, this.cancelButton, this.status, this.grid.tools, toggle),
      h("div", { class: "results-body" }, this.message, this.grid.el),
    );
    this.runner = new PreviewRunner(rpc, {
      columns: (columns) => {
        this.grid.setColumns(columns);
        this.grid.el.hidden = false;
      },
      rows: (rows) => {
        this.grid.appendRows(rows);
        this.rowCount += rows.length;
        this.setStatus("running", [this.counter(this.rowCount, "so far")]);
      },
      done: (summary) => this.finish(summary),
      failed: (message, position, cancelled) => this.fail(message, position, cancelled),
    });
    this.setState("idle");
  }

  /** Runs the active editor's selection, or its whole text. */
  preview(): void {
    const active = this.activeFile();
    if (!active) {
      this.showMessage("Open a file first: Preview runs its SQL, or the selected part of it.");
      return;
    }
    const source = sourceOf(active);
    const view = active.view;
    if (!source.sql.trim()) {
      this.showMessage("Nothing to preview: the file (or the selection) is empty.");
      return;
    }
    clearPreviewError(view);
    this.source = source;
    this.docAtStart = view.state.doc;
    this.rowCount = 0;
    this.grid.clear();
    this.grid.el.hidden = true;
    this.message.hidden = true;
    this.el.classList.remove("collapsed");
    this.setState("running");
    this.setStatus("running", [h("span", null, "Running…")]);
    void this.runner.start(source.sql, Number(this.limit.value), source.dbtPath);
  }

  dispose(): void {
    this.runner.dispose();
    this.grid.dispose();
  }

  private finish(summary: PreviewSummary): void {
    const parts = [
      this.counter(summary.row_count),
      h("span", { "data-testid": "results-elapsed" }, formatElapsed(summary.elapsed_ms)),
    ];
    if (summary.truncated) {
      parts.push(h("span", { class: "results-truncated", "data-testid": "results-truncated" }, `Limited to ${Number(this.limit.value).toLocaleString()} rows`));
    }
    this.setState("done");
    this.setStatus("done", parts);
    if (summary.row_count === 0) this.showMessage("The query returned no rows.", false);
  }

  private fail(message: string, position: SqlPosition | undefined, cancelled: boolean): void {
    this.setState(cancelled ? "cancelled" : "error");
    this.setStatus(cancelled ? "cancelled" : "error", [h("span", null, cancelled ? "Cancelled" : "Failed")]);
    const where = position ? ` (line ${position.line}, column ${position.column})` : "";
    const error = h("div", { class: "results-error", role: "alert", "data-testid": "results-error" }, message + where);
    this.message.replaceChildren(error);
    this.message.hidden = false;
    this.grid.el.hidden = this.rowCount === 0;
    const source = this.source;
    // Only where the text is still what ran: a position in an edited document would mislead.
    if (position && source && source.view.state.doc === this.docAtStart && !cancelled) {
      markPreviewError(source.view, source.sql, source.from, position);
    }
  }

  private counter(count: number, suffix = ""): HTMLElement {
    const label = `${count.toLocaleString()} row${count === 1 ? "" : "s"}${suffix ? ` ${suffix}` : ""}`;
    return h("span", { "data-testid": "results-row-count", "data-count": count }, label);
  }

  private showMessage(text: string, hideGrid = true): void {
    this.message.replaceChildren(text);
    this.message.hidden = false;
    if (hideGrid) this.grid.el.hidden = true;
    this.el.classList.remove("collapsed");
  }

  private setState(state: ResultsState): void {
    this.el.dataset.state = state;
    this.cancelButton.hidden = state !== "running";
  }

  private setStatus(state: ResultsState, parts: HTMLElement[]): void {
    this.status.dataset.state = state;
    this.status.replaceChildren(...parts);
  }

  /** A handle on the top edge: drag to give the results more or less height. */
  private resizer(): HTMLElement {
    const handle = h("div", { class: "results-resizer", role: "separator", "aria-orientation": "horizontal", title: "Drag to resize" });
    handle.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      const startY = event.clientY;
      const startHeight = this.el.getBoundingClientRect().height;
      const move = (e: PointerEvent): void => {
        const height = Math.max(36, Math.min(window.innerHeight - 160, startHeight + startY - e.clientY));
        this.el.style.height = `${height}px`;
        this.el.classList.toggle("collapsed", height <= 40);
      };
      const up = (): void => {
        handle.removeEventListener("pointermove", move);
        handle.removeEventListener("pointerup", up);
      };
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", up);
    });
    return handle;
  }
}
