// The tab bar and the editor area: which files are open and which one is shown.
import { basename, h, type View } from "../dom";
import { Emitter } from "../events";
import type { FsChanged } from "./protocol";
import { OpenFile, type OpenFileContext } from "./openfile";

export class Tabs {
  readonly el: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly area: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly files = new Map<string, OpenFile>();
  private order: string[] = [];
  private activePath: string | null = null;
  /** Tabs closed by prepareChange, reopened by finishChange. */
  private pendingReopen: { path: string; wasActive: boolean }[] = [];
  private readonly events = new Emitter<{
    active: (file: OpenFile | null) => void;
    saved: (path: string) => void;
    layout: () => void;
  }>();
  /** A view shown over the editor area (a diff) until a tab is activated. */
  private overlay: View | null = null;

  constructor(private readonly context: OpenFileContext) {
    this.bar = h("div", { class: "tabs", role: "tablist", "data-testid": "tabs" });
    this.empty = h(
      "div",
      { class: "editor-empty", "data-testid": "editor-empty" },
      h("p", null, "Open a file from the tree on the left."),
      h("p", { class: "muted" }, "Edits are shared live and saved automatically; Ctrl/Cmd-S saves now."),
    );
    this.area = h("div", { class: "editor-area" }, this.empty);
    this.el = h("section", { class: "editor-column" }, this.bar, this.area);
    this.bar.addEventListener("wheel", (event) => {
      if (event.deltaY) this.bar.scrollLeft += event.deltaY;
    }, { passive: true });
  }

  get active(): OpenFile | null {
    return this.activePath === null ? null : (this.files.get(this.activePath) ?? null);
  }

  /** Notified when another file becomes active, and when the active file's state changes. */
  onActiveChange(listener: (file: OpenFile | null) => void): () => void {
    return this.events.on("active", listener);
  }

  /** Notified when an open file's disk copy caught up with its document (it was saved). */
  onSaved(listener: (path: string) => void): () => void {
    return this.events.on("saved", listener);
  }

  /** The open tabs' paths, in order. */
  get paths(): string[] {
    return [...this.order];
  }

  /** Notified when a tab opens, closes or becomes active. */
  onLayoutChange(listener: () => void): () => void {
    return this.events.on("layout", listener);
  }

  /** Shows `view` over the editor area; activating a tab (or null) closes it. */
  showOverlay(view: View | null): void {
    this.overlay?.el.remove();
    this.overlay?.dispose();
    this.overlay = view;
    if (view) this.area.append(view.el);
  }

  open(path: string, focus = true): OpenFile {
    let file = this.files.get(path);
    if (!file) {
      file = new OpenFile(path, this.context);
      const opened = file;
      this.files.set(path, opened);
      this.order.push(path);
      let wasDirty = false;
      opened.onChange(() => {
        this.renderBar();
        if (this.activePath === opened.path) this.emitActive();
        if (wasDirty && !opened.dirty) this.events.emit("saved", opened.path);
        wasDirty = opened.dirty;
      });
      void opened.open().then(() => {
        if (focus && this.activePath === opened.path) opened.focus();
      });
    }
    else if (file.retryable) {
      void file.open(); // it failed before, or its file was not there: opening it again is a retry
    }
    this.activate(path);
    if (focus) file.focus();
    return file;
  }

  activate(path: string): void {
    const file = this.files.get(path);
    if (!file) return;
    this.activePath = path;
    this.showOverlay(null);
    // Only the active editor is in the document, so `.cm-content` is unique on the page.
    this.area.replaceChildren(file.host);
    file.shown();
    this.renderBar();
    this.emitActive();
    this.bar.querySelector(".tab.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
    this.events.emit("layout");
  }

  close(path: string): void {
    const file = this.files.get(path);
    if (!file) return;
    const index = this.order.indexOf(path);
    file.close();
    this.files.delete(path);
    this.order = this.order.filter((p) => p !== path);
    if (this.activePath === path) {
      this.activePath = null;
      const next = this.order[Math.min(index, this.order.length - 1)];
      if (next !== undefined) this.activate(next);
      else {
        this.area.replaceChildren(this.empty);
        this.emitActive();
      }
    }
    this.renderBar();
    this.events.emit("layout");
  }

  /** Opens again the tabs whose file was not there (a checkout may have brought it back). */
  retryGone(): void {
    for (const file of this.files.values()) if (file.gone) void file.open();
  }

  closeAll(): void {
    for (const path of [...this.order]) this.close(path);
  }

  async saveAll(timeoutMs: number): Promise<void> {
    const saves = [...this.files.values()].filter((file) => file.dirty).map((file) => file.save());
    await Promise.race([Promise.all(saves), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }

  async saveActive(): Promise<void> {
    await this.active?.save();
  }

  /** Open tabs at `path` or below it. */
  affectedBy(path: string): string[] {
    return this.order.filter((p) => p === path || p.startsWith(`${path}/`));
  }

  /**
   * Before this client renames or deletes `change.path`: write affected rooms to disk so
   * nothing is saved later under the old path, then close their tabs.
   */
  async prepareChange(change: FsChanged): Promise<void> {
    const affected = this.affectedBy(change.path);
    await Promise.all(
      affected.map((p) => {
        const file = this.files.get(p);
        return file && file.dirty ? file.save() : Promise.resolve();
      }),
    );
    this.pendingReopen = affected.map((p) => ({ path: p, wasActive: p === this.activePath }));
    for (const p of affected) this.close(p);
  }

  /** After a change by this client (done) or a failed attempt (reopen what was closed). */
  finishChange(change: FsChanged, done: boolean): void {
    const reopen = this.pendingReopen;
    this.pendingReopen = [];
    for (const { path, wasActive } of reopen) {
      if (!done) this.open(path, wasActive);
      else if (change.kind === "rename" && change.new_path !== undefined) {
        this.open(change.new_path + path.slice(change.path.length), wasActive);
      }
    }
  }

  /** A change made by another client of the session (fs/changed notification). */
  applyRemoteChange(change: FsChanged): void {
    // A delete keeps the tabs: their rooms say the file is gone, the text stays to be saved.
    if (change.kind !== "rename") return;
    for (const p of this.affectedBy(change.path)) {
      const wasActive = p === this.activePath;
      this.close(p);
      if (change.kind === "rename" && change.new_path !== undefined) {
        this.open(change.new_path + p.slice(change.path.length), wasActive);
      }
    }
  }

  dispose(): void {
    this.showOverlay(null);
    this.events.clear();
    for (const file of this.files.values()) file.close();
    this.files.clear();
    this.order = [];
  }

  private emitActive(): void {
    this.events.emit("active", this.active);
  }

  private renderedKey = "";

  private renderBar(): void {
    // Awareness changes (peers moving their cursors) arrive often; redraw only on real change.
    const key = JSON.stringify(
      this.order.map((p) => [p, p === this.activePath, this.files.get(p)!.dirty, this.files.get(p)!.saveState]),
    );
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    const names = new Map<string, number>();
    for (const path of this.order) names.set(basename(path), (names.get(basename(path)) ?? 0) + 1);
    const tabs = this.order.map((path) => {
      const file = this.files.get(path)!;
      const active = path === this.activePath;
      const close = h(
        "button",
        { type: "button", class: "tab-close", "data-testid": "tab-close", "aria-label": `Close ${path}`, title: "Close" },
        "×",
      );
      close.addEventListener("click", (event) => {
        event.stopPropagation();
        this.close(path);
      });
      const tab = h(
        "div",
        {
          class: `tab${active ? " active" : ""}${file.dirty ? " dirty" : ""}`,
          role: "tab",
          "aria-selected": String(active),
          "data-testid": "tab",
          "data-path": path,
          "data-dirty": String(file.dirty),
          "data-active": String(active),
          "data-save-state": file.saveState,
          title: path,
        },
        h("span", { class: "tab-name" }, basename(path)),
        // Two tabs of the same name: each says its folder.
        (names.get(basename(path)) ?? 0) > 1
          ? h("span", { class: "tab-dir", "data-testid": "tab-dir" }, path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "/")
          : null,
        h("span", { class: "tab-dot", "aria-label": file.dirty ? "unsaved changes" : null }),
        close,
      );
      tab.addEventListener("click", () => this.activate(path));
      tab.addEventListener("auxclick", (event) => {
        if (event.button === 1) this.close(path);
      });
      return tab;
    });
    this.bar.replaceChildren(...tabs);
  }
}
