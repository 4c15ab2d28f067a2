// The branch picker: local branches, remote ones not checked out yet, and "New branch".
import { h } from "../../dom";
import { promptDialog } from "../../ui/dialog";
import type { GitContext } from "./context";
import type { Branches, GitStatus } from "./types";

export function validateBranchName(value: string): string | null {
  if (!value) return "Enter a branch name.";
  if (/[\s~^:?*[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$/.test(value)) return "That is not a valid branch name.";
  return null;
}

export class BranchPicker {
  readonly el: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly create: HTMLButtonElement;
  private current: string | null = null;
  private base: string | null = null;

  constructor(private readonly ctx: GitContext) {
    this.select = h("select", { class: "git-branch-select", "aria-label": "Branch", "data-testid": "git-branch" });
    this.select.addEventListener("change", () => void this.checkout(this.select.value));
    this.create = h(
      "button",
      { type: "button", class: "icon-button", title: "New branch", "aria-label": "New branch", "data-testid": "git-new-branch" },
      "+ Branch",
    );
    this.create.addEventListener("click", () => void this.createBranch());
    this.el = h("div", { class: "git-branch-bar" }, this.select, this.create);
  }

  update(status: GitStatus, branches: Branches): void {
    this.current = status.branch;
    this.base = status.branch ?? status.default_branch;
    this.select.dataset.current = status.branch ?? "";
    this.create.hidden = this.ctx.readOnly();
    this.select.disabled = this.ctx.readOnly() || status.merging;
    const local = new Set(branches.local.map((b) => b.name));
    const options: HTMLElement[] = [];
    if (status.branch === null) options.push(h("option", { value: "", disabled: true }, "(detached HEAD)"));
    options.push(...branches.local.map((b) => h("option", { value: b.name }, b.name)));
    const remote = branches.remote.filter((b) => !local.has(b.name.replace(/^origin\//, "")));
    if (remote.length) {
      options.push(h("optgroup", { label: "Remote" }, remote.map((b) => h("option", { value: b.name }, b.name))));
    }
    this.select.replaceChildren(...options);
    this.select.value = status.branch ?? "";
  }

  private async checkout(branch: string): Promise<void> {
    if (!branch || branch === this.current) return;
    const done = await this.ctx.run(`Switching to ${branch}…`, () => this.ctx.git.checkout(branch));
    if (done === undefined) this.select.value = this.current ?? "";
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
