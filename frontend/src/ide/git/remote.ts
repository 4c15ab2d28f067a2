// Where the branch stands against the remote, and the pull and push buttons.
import { h } from "../../dom";
import { showNotice } from "../../ui/notice";
import type { GitContext } from "./context";
import type { GitStatus, PullResult } from "./types";

export function describePull(result: PullResult): string {
  switch (result.outcome) {
    case "up-to-date":
      return `${result.branch} is up to date with ${result.source}.`;
    case "fast-forward":
      return `${result.branch} was fast-forwarded to ${result.source}.`;
    case "merged":
      return `${result.source} was merged into ${result.branch}.`;
    case "conflicts":
      return `Merging ${result.source} left conflicts in ${result.conflicts.length} file(s): resolve them, then commit.`;
    case "no-upstream":
      return `${result.branch} is not on the remote yet: push it first.`;
  }
}

export class RemoteBar {
  readonly el: HTMLElement;
  private readonly upstream: HTMLElement;
  private readonly pull: HTMLButtonElement;
  private readonly pullDefault: HTMLButtonElement;
  private readonly push: HTMLButtonElement;
  private defaultBranch = "";
  /** "Open pull request": the provider's page for this branch (GitHub, GitLab, Azure DevOps). */
  private readonly pullRequest: HTMLAnchorElement;
  private pullRequestFor: string | null | undefined = undefined;

  constructor(private readonly ctx: GitContext) {
    this.upstream = h("span", { class: "git-upstream", "data-testid": "git-upstream" });
    this.pull = this.button("git-pull", "Pull", "Fetch and merge the remote branch", () => void this.doPull());
    this.pullDefault = this.button("git-pull-default", "Pull from main", "Merge the primary branch into this one",
      () => void this.doPull(this.defaultBranch));
    this.push = this.button("git-push", "Push", "Push this branch", () => void this.doPush());
    this.pullRequest = h("a", { class: "button small", target: "_blank", rel: "noopener noreferrer", "data-testid": "git-open-pr" }, "Open pull request");
    this.pullRequest.hidden = true;
    this.el = h(
      "div",
      { class: "git-remote-bar" },
      this.upstream,
      h("span", { class: "git-remote-actions" }, this.pull, this.push, this.pullDefault, this.pullRequest),
    );
  }

  update(status: GitStatus): void {
    this.defaultBranch = status.default_branch;
    this.pullDefault.textContent = `Pull from ${status.default_branch}`;
    const readOnly = this.ctx.readOnly();
    this.pull.hidden = this.push.hidden = readOnly;
    this.pullDefault.hidden = readOnly || status.branch === status.default_branch;
    this.pull.disabled = this.push.disabled = this.pullDefault.disabled = status.merging || status.branch === null;
    this.upstream.dataset.ahead = String(status.ahead);
    this.upstream.dataset.behind = String(status.behind);
    this.upstream.textContent = status.upstream_gone
      ? `${status.upstream} is gone from the remote`
      : status.upstream
        ? `${status.upstream} ↑${status.ahead} ↓${status.behind}`
        : "Not on the remote yet";
    this.updatePullRequest(status);
    this.upstream.title = status.upstream
      ? `${status.ahead} commit(s) to push, ${status.behind} to pull`
      : "The first push creates the branch on the remote";
  }

  private updatePullRequest(status: GitStatus): void {
    const onRemote = status.branch !== null && status.branch !== status.default_branch && !!status.upstream && !status.upstream_gone;
    if (!onRemote) {
      this.pullRequest.hidden = true;
      this.pullRequestFor = undefined;
      return;
    }
    if (this.pullRequestFor === status.branch) return;
    this.pullRequestFor = status.branch;
    const branch = status.branch;
    this.ctx.git.pullRequestUrl().then(
      (answer) => {
        if (this.pullRequestFor !== branch || answer.branch !== branch) return;
        this.pullRequest.hidden = answer.url === null;
        if (answer.url) {
          this.pullRequest.href = answer.url;
          this.pullRequest.title = `Compare ${answer.branch} with ${answer.base} on ${answer.provider}`;
          this.pullRequest.dataset.provider = answer.provider ?? "";
        }
      },
      () => {
        this.pullRequest.hidden = true;
      },
    );
  }

  private async doPull(from?: string): Promise<void> {
    const result = await this.ctx.run(from ? `Pulling from ${from}…` : "Pulling…", () => this.ctx.git.pull(from));
    if (result) showNotice(describePull(result), result.outcome === "conflicts" ? "error" : "info");
  }

  private async doPush(): Promise<void> {
    const result = await this.ctx.run("Pushing…", () => this.ctx.git.push());
    if (result) showNotice(`Pushed ${result.branch} to ${result.remote_branch}.`, "info");
  }

  private button(testid: string, label: string, title: string, action: () => void): HTMLButtonElement {
    const button = h("button", { type: "button", class: "button small", title, "data-testid": testid }, label);
    button.addEventListener("click", action);
    return button;
  }
}
