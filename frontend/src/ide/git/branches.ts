// The branch picker: a button naming the current branch that opens a searchable menu of
// local branches and remote ones not checked out yet (kept fresh by the background fetch
// the IDE starts when it opens), plus "New branch".
import { h } from "../../dom";
import { promptDialog } from "../../ui/dialog";
import { errorMessage } from "../../ui/notice";
import { BranchMenu, type BranchChoice } from "./branchmenu";
import type { GitContext } from "./context";
import type { Branches, GitStatus, RemoteFetch } from "./types";

export function validateBranchName(value: string): string | null {
  if (!value) return "Enter a branch name.";
  if (/[\s~^:?*[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$/.test(value)) return "That is not a valid branch name.";
  return null;
}

function fetchNote(fetch: RemoteFetch): string {
  switch (fetch.state) {
    case "idle":
      return "";
    case "fetching":
      return fetch.total_objects ? `Fetching from the remote… ${fetch.received_objects ?? 0}/${fetch.total_objects} objects` : "Fetching from the remote…";
    case "failed":
      return `Remote branches not updated: ${fetch.message ?? "the fetch failed"}`;
    case "done":
      return fetch.finished_at ? `Remote branches as of ${new Date(fetch.finished_at * 1000).toLocaleTimeString()}` : "";
  }
}

export class BranchPicker {
  readonly el: HTMLElement;
  private readonly trigger: HTMLButtonElement;
  private readonly label: HTMLElement;
  private readonly menu: BranchMenu;
  private readonly create: HTMLButtonElement;
  private readonly fetchLine: HTMLElement;
  private current: string | null = null;
  private base: string | null = null;
  private branches: Branches | null = null;
  private fetch: RemoteFetch = { state: "idle", message: null, finished_at: null, new_branches: [], updated_branches: [] };

  constructor(private readonly ctx: GitContext) {
    this.label = h("span", { class: "git-branch-name" });
    this.trigger = h(
      "button",
      { type: "button", class: "git-branch-select", "aria-label": "Branch", "aria-haspopup": "listbox", "aria-expanded": "false", "data-testid": "git-branch" },
      this.label,
      h("span", { class: "git-branch-caret", "aria-hidden": "true" }, "▾"),
    );
    this.menu = new BranchMenu(this.trigger, validateBranchName, (choice) => void this.choose(choice));
    this.trigger.addEventListener("click", () => (this.menu.isOpen ? this.menu.close() : this.menu.open()));
    this.create = h(
      "button",
      { type: "button", class: "icon-button", title: "New branch", "aria-label": "New branch", "data-testid": "git-new-branch" },
      "+ Branch",
    );
    this.create.addEventListener("click", () => void this.createBranch());
    this.fetchLine = h("div", { class: "git-fetch-state", role: "status", "data-testid": "git-fetch-state", "data-state": "idle" });
    this.el = h("div", { class: "git-branch-area" }, h("div", { class: "git-branch-bar" }, this.trigger, this.create), this.menu.el, this.fetchLine);
  }

  update(status: GitStatus, branches: Branches): void {
    this.current = status.branch;
    this.base = status.branch ?? status.default_branch;
    this.branches = branches;
    this.trigger.dataset.current = status.branch ?? "";
    this.label.textContent = status.branch ?? "(detached HEAD)";
    this.create.hidden = this.ctx.readOnly();
    this.trigger.disabled = this.ctx.readOnly() || status.merging;
    if (this.trigger.disabled) this.menu.close();
    this.showFetch(branches.fetch);
  }

  /** The background fetch's state, from `git/branches` or a `git/remote_fetch` notification. */
  showFetch(fetch: RemoteFetch): void {
    this.fetch = fetch;
    this.fetchLine.dataset.state = fetch.state;
    // Only what needs attention stays in the panel; the menu always says how fresh it is.
    this.fetchLine.textContent = fetch.state === "fetching" || fetch.state === "failed" ? fetchNote(fetch) : "";
    this.fetchLine.title = fetch.message ?? "";
    this.fetchLine.classList.toggle("failed", fetch.state === "failed");
    const local = this.branches?.local.map((b) => b.name) ?? [];
    const known = new Set(local);
    const remote = (this.branches?.remote ?? []).map((b) => b.name).filter((name) => !known.has(name.replace(/^origin\//, "")));
    this.menu.setLists({ current: this.current, local, remote }, fetchNote(this.fetch));
  }

  /** Starts the pod's background fetch; its progress comes back as notifications. */
  fetchRemote(): void {
    if (this.ctx.readOnly()) return;
    this.ctx.git.refreshRemote().then(
      (fetch) => this.showFetch(fetch),
      (error) => this.showFetch({ ...this.fetch, state: "failed", message: errorMessage(error) }),
    );
  }

  private async choose(choice: BranchChoice): Promise<void> {
    if (choice.kind === "create") {
      await this.ctx.run(`Creating ${choice.name}…`, () => this.ctx.git.createBranch(choice.name, this.base ?? ""));
    } else if (choice.name !== this.current) {
      await this.ctx.run(`Switching to ${choice.name}…`, () => this.ctx.git.checkout(choice.name));
    }
  }

  private async createBranch(): Promise<void> {
    const base = this.base ?? "";
    const name = await promptDialog("New branch", "", {
      message: `The branch starts from ${base}; uncommitted changes come along.`,
      okLabel: "Create branch",
      validate: validateBranchName,
    });
    if (name) await this.ctx.run(`Creating ${name}…`, () => this.ctx.git.createBranch(name, base));
  }
}
