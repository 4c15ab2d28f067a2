// The compiled SQL of the open model, beside the editor: Ctrl/Cmd-Shift-Enter sends the
// editor's current (unsaved) text to dbt/compile. A compilation error (-32040, with the
// 1-based `data.line` in the buffer) is shown here and marks the Jinja line in the editor.
import type { EditorView } from "@codemirror/view";
import { h, type View } from "../../dom";
import { errorMessage } from "../../ui/notice";
import { ErrorCode } from "../generated/protocol";
import { clearPreviewError, markPreviewError } from "../results/errormark";
import { formatElapsed } from "../results/pane";
import { RpcError, type RpcClient } from "../rpc";

export interface CompileSource {
  path: string;
  view: EditorView;
}

export class CompiledPane implements View {
  readonly el: HTMLElement;
  private readonly code: HTMLElement;
  private readonly status: HTMLElement;
  private readonly pathLabel: HTMLElement;
  /** Counts requests, so only the newest one's answer is shown. */
  private generation = 0;

  constructor(private readonly rpc: RpcClient) {
    this.pathLabel = h("span", { class: "dbt-compiled-path" });
    this.status = h("span", { class: "dbt-compiled-status", role: "status", "data-testid": "dbt-compiled-status" });
    const close = h("button", { type: "button", class: "icon-button", title: "Close the compiled SQL", "aria-label": "Close the compiled SQL", "data-testid": "dbt-compiled-close" }, "×");
    close.addEventListener("click", () => {
      this.el.hidden = true;
    });
    this.code = h("pre", { class: "dbt-compiled-sql", "data-testid": "dbt-compiled-sql", tabindex: 0, "aria-label": "Compiled SQL (read-only)" });
    this.el = h(
      "aside",
      { class: "dbt-compiled", "data-testid": "dbt-compiled", "data-state": "idle", hidden: true },
      h("header", { class: "dbt-compiled-header" }, h("strong", null, "Compiled SQL"), this.pathLabel, this.status, close),
      this.code,
    );
  }

  async compile(source: CompileSource | null): Promise<void> {
    this.el.hidden = false;
    if (!source) {
      this.show("error", "Open a model first: Compile shows its SQL with the Jinja rendered.");
      return;
    }
    const { path, view } = source;
    const generation = ++this.generation;
    const doc = view.state.doc;
    clearPreviewError(view);
    this.pathLabel.textContent = path;
    this.el.dataset.stale = "false";
    this.setState("running", "Compiling…");
    try {
      const result = await this.rpc.request("dbt/compile", { path, content: doc.toString() });
      if (generation !== this.generation) return;
      this.code.textContent = result.compiled_sql;
      this.setState("done", formatElapsed(result.elapsed_ms));
    } catch (error) {
      if (generation !== this.generation) return;
      const line = compileErrorLine(error);
      this.show("error", errorMessage(error) + (line ? ` (line ${line})` : ""));
      // Only where the text is still what was compiled: a line in an edited buffer misleads.
      if (line && view.state.doc === doc) markPreviewError(view, doc.toString(), 0, { line, column: 1 });
    }
  }

  /** Another tab became active: the SQL shown is another file's, said so rather than hidden. */
  setActivePath(path: string | null): void {
    const shown = this.pathLabel.textContent;
    this.el.dataset.stale = String(Boolean(shown) && shown !== path);
  }

  dispose(): void {
    this.generation += 1;
  }

  private show(state: "error", message: string): void {
    this.code.textContent = "";
    this.code.append(h("span", { class: "dbt-compiled-error", role: "alert", "data-testid": "dbt-compiled-error" }, message));
    this.setState(state, "Failed");
  }

  private setState(state: "running" | "done" | "error", status: string): void {
    this.el.dataset.state = state;
    this.status.textContent = status;
  }
}

/** The buffer line dbt named in a compilation error, if any. */
export function compileErrorLine(error: unknown): number | null {
  if (!(error instanceof RpcError) || error.code !== ErrorCode.compileError) return null;
  const line = (error.data as { line?: unknown } | undefined)?.line;
  return typeof line === "number" && line > 0 ? line : null;
}
