// What one commit of the history changed (git/show): each file's side-by-side diff.
import { h, type View } from "../../dom";
import { errorMessage } from "../../ui/notice";
import { renderDiff } from "./diffview";
import type { Commit, GitClient } from "./types";

export class CommitDiffView implements View {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private disposed = false;

  constructor(
    git: GitClient,
    commit: Commit,
    onClose: () => void,
  ) {
    const close = h("button", { type: "button", class: "button small", "data-testid": "diff-close", "aria-label": "Close the diff" }, "Close");
    close.addEventListener("click", onClose);
    this.body = h("div", { class: "diff-body" }, h("p", { class: "diff-note" }, "Loading the commit…"));
    this.el = h(
      "div",
      { class: "diff-view", "data-testid": "commit-diff", "data-commit": commit.id, "data-loaded": "false", tabindex: "-1" },
      h(
        "header",
        { class: "diff-header" },
        h("code", null, commit.short_id),
        h("strong", null, commit.summary),
        h("span", { class: "muted" }, commit.author.name),
        h("span", { class: "diff-stats", "data-testid": "diff-stats" }),
        h("span", { class: "spacer" }),
        close,
      ),
      this.body,
    );
    this.el.addEventListener("keydown", (event) => {
      if (event.key === "Escape") onClose();
    });
    void this.load(git, commit.id);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async load(git: GitClient, id: string): Promise<void> {
    try {
      const shown = await git.show(id);
      if (this.disposed) return;
      let additions = 0;
      let deletions = 0;
      const files = shown.files.map((file) => {
        additions += file.additions;
        deletions += file.deletions;
        const name = file.old_path && file.old_path !== file.path ? `${file.old_path} → ${file.path}` : file.path;
        return h(
          "section",
          { class: "commit-diff-file", "data-testid": "commit-diff-file", "data-path": file.path, "data-status": file.status },
          h("h4", { class: "commit-diff-name" }, name, h("span", { class: "muted" }, ` +${file.additions} −${file.deletions}`)),
          renderDiff(file),
        );
      });
      this.el.querySelector("[data-testid=diff-stats]")!.textContent = `${files.length} file${files.length === 1 ? "" : "s"}, +${additions} −${deletions}`;
      this.body.replaceChildren(...(files.length ? files : [h("p", { class: "diff-note" }, "This commit changes no file.")]));
      this.el.dataset.loaded = "true";
    } catch (error) {
      if (!this.disposed) this.body.replaceChildren(h("p", { class: "form-error" }, `Cannot show the commit: ${errorMessage(error)}`));
    }
  }
}
