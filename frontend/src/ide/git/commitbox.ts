// The commit message and the two ways to commit: "Commit" and "Commit and sync" (commit,
// pull, push). A commit refused on the protected primary branch offers the suggested branch.
import { h } from "../../dom";
import { promptDialog } from "../../ui/dialog";
import { showNotice } from "../../ui/notice";
import { RpcError } from "../rpc";
import type { GitContext, GitPart } from "./context";
import { describePull } from "./remote";
import { GitErrorCode, type GitStatus } from "./types";

interface ProtectedData {
  branch: string;
  suggested_branch: string;
}

export class CommitBox implements GitPart {
  readonly el: HTMLElement;
  private readonly message: HTMLTextAreaElement;
  private readonly error: HTMLElement;
  private readonly commitButton: HTMLButtonElement;
  private readonly syncButton: HTMLButtonElement;
  private readonly hint: HTMLElement;
  private status: GitStatus | null = null;

  constructor(private readonly ctx: GitContext) {
    this.message = h("textarea", {
      class: "git-message",
      rows: 3,
      placeholder: "Commit message",
      "aria-label": "Commit message",
      "data-testid": "git-commit-message",
    });
    this.error = h("div", { class: "form-error", role: "alert", "data-testid": "git-commit-error" });
    this.commitButton = h("button", { type: "button", class: "button", "data-testid": "git-commit" }, "Commit");
    this.syncButton = h("button", { type: "button", class: "button primary", "data-testid": "git-commit-sync" }, "Commit and sync");
    this.commitButton.addEventListener("click", () => void this.commit(false));
    this.syncButton.addEventListener("click", () => void this.commit(true));
    this.message.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.commit(true);
      }
    });
    this.message.addEventListener("input", () => (this.error.textContent = ""));
    this.hint = h("div", { class: "git-hint", "data-testid": "git-protected-hint" });
    this.el = h(
      "div",
      { class: "git-commit-box", "data-testid": "git-commit-box" },
      this.message,
      this.hint,
      this.error,
      h("div", { class: "git-commit-actions" }, this.commitButton, this.syncButton),
    );
  }

  update(status: GitStatus): void {
    const first = this.status === null || this.status.merging !== status.merging;
    this.status = status;
    this.el.hidden = this.ctx.readOnly();
    const nothing = status.files.length === 0 && !status.merging;
    this.commitButton.disabled = nothing;
    this.syncButton.disabled = nothing;
    this.commitButton.textContent = status.merging ? "Commit merge" : "Commit";
    this.hint.hidden = !status.protected;
    this.hint.textContent = `${status.branch} is protected: committing offers a new branch for your changes.`;
    if (first && status.merging && !this.message.value && status.merge_message) {
      this.message.value = status.merge_message.trim();
    }
  }

  dispose(): void {}

  private async commit(sync: boolean): Promise<void> {
    const message = this.message.value.trim();
    if (!message) {
      this.error.textContent = "Write a commit message first.";
      this.message.focus();
      return;
    }
    this.error.textContent = "";
    // With files staged, commit exactly those; otherwise everything that changed.
    const staged = this.status?.files.filter((f) => f.staged).map((f) => f.path) ?? [];
    const paths = staged.length && !this.status?.merging ? staged : undefined;
    const done = await this.ctx.run("Committing…", async (step) => {
      const committed = await this.commitOrBranch(message, paths);
      if (!committed) return false;
      this.message.value = "";
      if (!sync) return true;
      step("Pulling…");
      const pulled = await this.ctx.git.pull();
      if (pulled.outcome === "conflicts") {
        showNotice(describePull(pulled), "error");
        return true;
      }
      step("Pushing…");
      const pushed = await this.ctx.git.push();
      showNotice(`Committed and pushed to ${pushed.remote_branch}.`, "info");
      return true;
    });
    if (done === undefined) this.message.focus();
  }

  /** Commits; on the protected branch, offers a new branch that takes the changes along. */
  private async commitOrBranch(message: string, paths?: string[]): Promise<boolean> {
    try {
      await this.ctx.git.commit(message, paths);
      return true;
    } catch (error) {
      if (!(error instanceof RpcError) || error.code !== GitErrorCode.protectedBranch) throw error;
      const data = error.data as ProtectedData;
      const name = await promptDialog(`${data.branch} is protected`, data.suggested_branch, {
        message: `Commits cannot go to ${data.branch}. Create a new branch with your changes and commit there:`,
        okLabel: "Create branch and commit",
        validate: (value) => (/\s/.test(value) || !value ? "Enter a branch name without spaces." : null),
      });
      if (name === null) return false;
      await this.ctx.git.createBranch(name, data.branch);
      await this.ctx.git.commit(message, paths);
      return true;
    }
  }
}
