// The changed files in two groups, staged and not, with their markers and actions.
import { basename, dirname, h } from "../../dom";
import { confirmDialog } from "../../ui/dialog";
import { STATUS_MARKERS, type GitContext, type GitPart } from "./context";
import type { GitStatus, StatusFile } from "./types";

type Group = "staged" | "unstaged";

export class ChangesList implements GitPart {
  readonly el: HTMLElement;

  constructor(private readonly ctx: GitContext) {
    this.el = h("div", { class: "git-changes", "data-testid": "git-changes" });
  }

  update(status: GitStatus): void {
    const open = status.files.filter((f) => f.status !== "conflicted");
    const staged = open.filter((f) => f.staged);
    const unstaged = open.filter((f) => f.unstaged || !f.staged);
    const sections = [
      staged.length ? this.section("staged", "Staged changes", staged) : null,
      this.section("unstaged", "Changes", unstaged),
    ];
    this.el.replaceChildren(...sections.filter((s): s is HTMLElement => s !== null));
  }

  dispose(): void {}

  private section(group: Group, title: string, files: StatusFile[]): HTMLElement {
    const all = this.button(
      group === "staged" ? "git-unstage-all" : "git-stage-all",
      group === "staged" ? "Unstage all" : "Stage all",
      () => void this.ctx.run(group === "staged" ? "Unstaging…" : "Staging…", () =>
        group === "staged" ? this.ctx.git.unstage() : this.ctx.git.stage()),
    );
    all.hidden = this.ctx.readOnly() || files.length === 0;
    const rows = files.map((file) => this.row(file, group));
    return h(
      "section",
      { class: "git-section", "data-testid": `git-group-${group}` },
      h("div", { class: "git-section-title" }, h("span", null, `${title} (${files.length})`), all),
      rows.length ? rows : h("div", { class: "git-empty", "data-testid": "git-clean" }, "No changes."),
    );
  }

  private row(file: StatusFile, group: Group): HTMLElement {
    const actions: HTMLElement[] = [];
    if (!this.ctx.readOnly()) {
      if (group === "staged") {
        actions.push(this.button("git-unstage", "−", () =>
          void this.ctx.run("Unstaging…", () => this.ctx.git.unstage([file.path])), `Unstage ${file.path}`));
      } else {
        actions.push(
          this.button("git-discard", "↺", () => void this.discard(file), `Discard changes to ${file.path}`),
          this.button("git-stage", "+", () =>
            void this.ctx.run("Staging…", () => this.ctx.git.stage([file.path])), `Stage ${file.path}`),
        );
      }
    }
    const row = h(
      "div",
      {
        class: "git-file",
        role: "button",
        tabindex: "0",
        title: file.old_path ? `${file.old_path} → ${file.path}` : file.path,
        "data-testid": "git-file",
        "data-path": file.path,
        "data-status": file.status,
        "data-group": group,
      },
      h("span", { class: `git-marker status-${file.status}`, "data-testid": "git-file-marker" }, STATUS_MARKERS[file.status]),
      h("span", { class: "git-file-name" }, basename(file.path)),
      h("span", { class: "git-file-dir" }, dirname(file.path)),
      h("span", { class: "git-file-actions" }, actions),
    );
    const show = (): void => this.ctx.showDiff(file, group === "staged");
    row.addEventListener("click", show);
    row.addEventListener("keydown", (event) => {
      if (event.target === row && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        show();
      }
    });
    return row;
  }

  private async discard(file: StatusFile): Promise<void> {
    const untracked = file.status === "untracked" || file.status === "added";
    const ok = await confirmDialog(
      untracked ? `Delete ${file.path}?` : `Discard changes to ${file.path}?`,
      untracked
        ? "The file is new: discarding deletes it. This cannot be undone."
        : "The file goes back to its last committed content. This cannot be undone.",
      untracked ? "Delete" : "Discard",
      true,
    );
    if (ok) await this.ctx.run("Discarding…", () => this.ctx.git.discard([file.path]));
  }

  private button(testid: string, label: string, action: () => void, title = label): HTMLButtonElement {
    const button = h("button", { type: "button", class: "icon-button", "data-testid": testid, title, "aria-label": title }, label);
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      action();
    });
    return button;
  }
}
