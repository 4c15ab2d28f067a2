// The git panel: branch, remote state, commit box, merge, changes and history of the
// session's checkout. It refreshes on events (saves, other clients' git and file changes,
// its own operations), never on a timer, so an idle IDE stays idle.
import { h, type View } from "../../dom";
import { errorMessage, showNotice } from "../../ui/notice";
import type { RpcClient } from "../rpc";
import { BranchPicker } from "./branches";
import { ChangesList } from "./changes";
import { CommitBox } from "./commitbox";
import { ConflictView } from "./conflicts";
import { DiffView } from "./diffview";
import type { GitContext, GitPart } from "./context";
import { HistoryList } from "./history";
import { RemoteBar } from "./remote";
import { GitClient, type GitProgress, type GitStatus, type RemoteFetch, type StatusFile } from "./types";

export interface GitPanelHost {
  /** Writes open documents to disk, so git sees what the editors show. */
  saveAll(): Promise<void>;
  openFile(path: string): void;
  /** Shows a view over the editor area (null: close it). */
  showOverlay(view: View | null): void;
  /** Git changed files on disk (checkout, pull, discard...). */
  filesChanged(): void;
  /** The number of changed files, for the sidebar's badge. */
  changeCount(count: number): void;
}

function progressText(progress: GitProgress): string {
  const done = progress.op === "push" ? progress.pushed_objects : progress.received_objects;
  return progress.total_objects ? ` ${done ?? 0}/${progress.total_objects} objects` : "";
}

export class GitPanel implements View {
  readonly el: HTMLElement;
  readonly git: GitClient;
  status: GitStatus | null = null;
  private readOnly = true;
  private busy = false;
  private readonly branchPicker: BranchPicker;
  private readonly remote: RemoteBar;
  private readonly parts: GitPart[];
  private readonly activity: HTMLElement;
  private readonly activityLabel: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private readonly error: HTMLElement;
  private label = "";
  private diff: DiffView | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    rpc: RpcClient,
    private readonly host: GitPanelHost,
  ) {
    this.git = new GitClient(rpc);
    const ctx: GitContext = {
      git: this.git,
      readOnly: () => this.readOnly,
      run: (label, work) => this.run(label, work),
      showDiff: (file, staged) => this.showDiff(file, staged),
      showOverlay: (view) => host.showOverlay(view),
      openFile: (path) => host.openFile(path),
    };
    this.branchPicker = new BranchPicker(ctx);
    this.remote = new RemoteBar(ctx);
    this.parts = [new ConflictView(ctx), new CommitBox(ctx), new ChangesList(ctx), new HistoryList(ctx)];
    this.activityLabel = h("span", { "data-testid": "git-activity-label" });
    this.cancel = h("button", { type: "button", class: "icon-button", "data-testid": "git-cancel" }, "Cancel");
    this.cancel.addEventListener("click", () => void this.git.cancel().catch(() => undefined));
    this.activity = h("div", { class: "git-activity", role: "status", "data-testid": "git-activity" }, this.activityLabel, this.cancel);
    this.activity.hidden = true;
    this.error = h("div", { class: "form-error git-error", role: "alert", "data-testid": "git-error" });
    const refresh = h("button", { type: "button", class: "icon-button", title: "Refresh", "aria-label": "Refresh", "data-testid": "git-refresh" }, "⟳");
    refresh.addEventListener("click", () => {
      this.fetchRemote();
      void this.refresh();
    });
    this.el = h(
      "div",
      { class: "git-panel", "data-testid": "git-panel", "data-busy": "false" },
      h("div", { class: "panel-title" }, h("span", null, "Source control"), refresh),
      h("div", { class: "git-scroll" }, this.branchPicker.el, this.remote.el, this.activity, this.error, this.parts.map((p) => p.el)),
    );
    this.cleanups.push(
      rpc.on("git/progress", (progress: GitProgress) => {
        if (this.busy) this.activityLabel.textContent = this.label + progressText(progress);
      }),
      rpc.on("git/remote_fetch", (fetch: RemoteFetch) => this.branchPicker.showFetch(fetch)),
      rpc.on("git/changed", () => {
        this.scheduleRefresh();
        host.filesChanged();
      }),
    );
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    if (this.status) this.render(this.status);
  }

  /** Asks the pod to fetch in the background (when the IDE opens, and on ⟳); blocks nothing. */
  fetchRemote(): void {
    this.branchPicker.fetchRemote();
  }

  /** Coalesces bursts of events (saves, file changes) into one refresh. */
  scheduleRefresh(delayMs = 250): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delayMs);
  }

  /** One refresh at a time; a request during one runs once more after it. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const [status, branches] = await Promise.all([this.git.status(), this.git.branches()]);
          this.error.textContent = "";
          this.branchPicker.update(status, branches);
          this.render(status);
        } catch (error) {
          this.error.textContent = `Cannot read the repository: ${errorMessage(error)}`;
        }
      } while (this.refreshAgain);
    })();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const part of this.parts) part.dispose();
  }

  private render(status: GitStatus): void {
    this.status = status;
    this.el.dataset.branch = status.branch ?? "";
    this.el.dataset.merging = String(status.merging);
    this.remote.update(status);
    for (const part of this.parts) part.update(status);
    this.host.changeCount(status.files.length);
    this.updateDiff(status);
  }

  private showDiff(file: StatusFile, staged: boolean): void {
    this.diff = new DiffView(this.git, {
      path: file.path,
      staged,
      onOpenFile: (path) => this.host.openFile(path),
      onClose: () => this.host.showOverlay(null),
    });
    this.host.showOverlay(this.diff);
  }

  /** A shown diff follows the status: reloaded while the file differs, closed once it does not. */
  private updateDiff(status: GitStatus): void {
    const diff = this.diff;
    if (!diff) return;
    if (!diff.el.isConnected) {
      this.diff = null; // closed, or replaced by an editor tab
    } else if (status.files.some((f) => f.path === diff.path)) {
      void diff.reload();
    } else {
      this.diff = null;
      this.host.showOverlay(null);
    }
  }

  private async run<T>(label: string, work: (step: (label: string) => void) => Promise<T>): Promise<T | undefined> {
    if (this.busy) {
      showNotice("Another git operation is still running.");
      return undefined;
    }
    this.setBusy(label);
    try {
      await this.host.saveAll();
      return await work((next) => this.setBusy(next));
    } catch (error) {
      showNotice(errorMessage(error));
      return undefined;
    } finally {
      this.setBusy(null);
      this.host.filesChanged();
      await this.refresh();
    }
  }

  private setBusy(label: string | null): void {
    this.busy = label !== null;
    this.label = label ?? "";
    this.el.dataset.busy = String(this.busy);
    this.activity.hidden = !this.busy;
    this.activityLabel.textContent = this.label;
    this.cancel.hidden = !/^(Pull|Push)/.test(this.label) || this.readOnly;
  }
}
