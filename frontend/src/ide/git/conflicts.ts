// A merge in progress: the conflicted files with "Open" and "Mark resolved", and "Abort merge".
import { basename, h } from "../../dom";
import { confirmDialog } from "../../ui/dialog";
import { RpcError } from "../rpc";
import type { GitContext, GitPart } from "./context";
import { GitErrorCode, type GitStatus } from "./types";

export class ConflictView implements GitPart {
  readonly el: HTMLElement;

  constructor(private readonly ctx: GitContext) {
    this.el = h("section", { class: "git-merge", "data-testid": "git-merge" });
    this.el.hidden = true;
  }

  update(status: GitStatus): void {
    const conflicted = status.files.filter((f) => f.status === "conflicted");
    this.el.hidden = !status.merging && conflicted.length === 0;
    if (this.el.hidden) {
      this.el.replaceChildren();
      return;
    }
    const abort = h("button", { type: "button", class: "button small danger", "data-testid": "git-abort-merge" }, "Abort merge");
    abort.addEventListener("click", () => void this.abort());
    abort.hidden = this.ctx.readOnly() || !status.merging;
    const summary = conflicted.length
      ? `${conflicted.length} file(s) in conflict: edit out the <<<<<<< ======= >>>>>>> markers, mark each resolved, then commit the merge.`
      : "All conflicts are resolved: commit the merge.";
    this.el.replaceChildren(
      h("div", { class: "git-section-title" }, h("span", null, "Merge in progress"), abort),
      h("p", { class: "git-merge-summary", "data-testid": "git-merge-summary" }, summary),
      ...conflicted.map((file) => {
        const open = h("button", { type: "button", class: "icon-button", "data-testid": "git-conflict-open" }, "Open");
        open.addEventListener("click", () => this.ctx.openFile(file.path));
        const resolve = h("button", { type: "button", class: "icon-button", "data-testid": "git-resolve" }, "Mark resolved");
        resolve.addEventListener("click", () => void this.resolve(file.path));
        resolve.hidden = this.ctx.readOnly();
        return h(
          "div",
          { class: "git-file", "data-testid": "git-conflict", "data-path": file.path, title: file.path },
          h("span", { class: "git-marker status-conflicted", "data-testid": "git-file-marker" }, "C"),
          h("span", { class: "git-file-name" }, basename(file.path)),
          h("span", { class: "git-file-actions visible" }, open, resolve),
        );
      }),
    );
  }

  dispose(): void {}

  private async resolve(path: string): Promise<void> {
    await this.ctx.run(`Resolving ${path}…`, async () => {
      try {
        return await this.ctx.git.resolve(path);
      } catch (error) {
        if (!(error instanceof RpcError) || error.code !== GitErrorCode.unresolvedConflicts) throw error;
        const lines = (error.data as { lines?: number[] } | undefined)?.lines ?? [];
        const force = await confirmDialog(
          `${path} still has conflict markers`,
          `Line${lines.length === 1 ? "" : "s"} ${lines.join(", ")} still start with a conflict marker. Mark the file resolved as it is?`,
          "Mark resolved anyway",
          true,
        );
        return force ? this.ctx.git.resolve(path, true) : undefined;
      }
    });
  }

  private async abort(): Promise<void> {
    const ok = await confirmDialog(
      "Abort the merge?",
      "The files the merge touched go back to how they were before the pull; your other edits stay.",
      "Abort merge",
      true,
    );
    if (ok) await this.ctx.run("Aborting the merge…", () => this.ctx.git.abortMerge());
  }
}
