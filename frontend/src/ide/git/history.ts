// The branch's history, newest first, a page at a time; a commit can be reverted.
import { h } from "../../dom";
import { confirmDialog } from "../../ui/dialog";
import { errorMessage } from "../../ui/notice";
import { CommitDiffView } from "./commitdiff";
import type { GitContext, GitPart } from "./context";
import type { Commit, GitStatus } from "./types";

const PAGE = 30;

export function relativeTime(seconds: number, now = Date.now() / 1000): string {
  const ago = Math.max(0, now - seconds);
  if (ago < 60) return "just now";
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  if (ago < 30 * 86400) return `${Math.floor(ago / 86400)} d ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}

export class HistoryList implements GitPart {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLButtonElement;
  private head: string | null | undefined = undefined;
  private nextSkip: number | null = 0;
  private loading = false;

  constructor(private readonly ctx: GitContext) {
    this.list = h("div", { class: "git-history-list", "data-testid": "git-history" });
    this.more = h("button", { type: "button", class: "button small subtle", "data-testid": "git-history-more" }, "Show more");
    this.more.addEventListener("click", () => void this.load(false));
    this.el = h(
      "details",
      { class: "git-section", open: true },
      h("summary", { class: "git-section-title" }, "History"),
      this.list,
      this.more,
    );
  }

  /** Reloads the first page when HEAD moved. */
  update(status: GitStatus): void {
    for (const button of this.list.querySelectorAll<HTMLElement>("[data-testid=git-revert]")) {
      button.hidden = this.ctx.readOnly();
    }
    if (status.head === this.head) return;
    this.head = status.head;
    void this.load(true);
  }

  dispose(): void {}

  private async load(reset: boolean): Promise<void> {
    if (this.loading && !reset) return;
    this.loading = true;
    const skip = reset ? 0 : (this.nextSkip ?? 0);
    try {
      const page = await this.ctx.git.log(skip, PAGE);
      if (reset) this.list.replaceChildren();
      this.list.append(...page.commits.map((commit) => this.entry(commit)));
      if (reset && page.commits.length === 0) {
        this.list.append(h("div", { class: "git-empty" }, "No commits yet."));
      }
      this.nextSkip = page.next_skip;
    } catch (error) {
      this.list.replaceChildren(h("div", { class: "form-error" }, `Cannot read the history: ${errorMessage(error)}`));
      this.nextSkip = null;
    } finally {
      this.loading = false;
      this.more.hidden = this.nextSkip === null;
    }
  }

  private entry(commit: Commit): HTMLElement {
    const revert = h("button", { type: "button", class: "icon-button", title: "Revert this commit", "data-testid": "git-revert" }, "Revert");
    revert.hidden = this.ctx.readOnly();
    revert.addEventListener("click", (event) => {
      event.stopPropagation();
      void this.revert(commit);
    });
    const entry = h(
      "div",
      { class: "git-commit", "data-testid": "git-commit-entry", "data-commit": commit.id, title: commit.message },
      h("div", { class: "git-commit-summary" }, commit.summary),
      h(
        "div",
        { class: "git-commit-meta" },
        h("code", null, commit.short_id),
        ` ${commit.author.name} · ${relativeTime(commit.author.time)}`,
        revert,
      ),
    );
    // A click shows what the commit changed.
    entry.addEventListener("click", () => {
      this.ctx.showOverlay(new CommitDiffView(this.ctx.git, commit, () => this.ctx.showOverlay(null)));
    });
    return entry;
  }

  private async revert(commit: Commit): Promise<void> {
    const ok = await confirmDialog(
      "Revert this commit?",
      `A new commit on the current branch undoes “${commit.summary}” (${commit.short_id}).`,
      "Revert",
    );
    if (ok) await this.ctx.run("Reverting…", () => this.ctx.git.revert(commit.id));
  }
}
