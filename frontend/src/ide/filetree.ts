// The project's files, listed lazily one directory at a time through fs/list.
import { basename, dirname, h } from "../dom";
import { confirmDialog, promptDialog } from "../ui/dialog";
import { errorMessage, showNotice } from "../ui/notice";
import { ErrorCode, type FsChanged, type FsEntry } from "./protocol";
import { RpcError, type RpcClient } from "./rpc";

export interface FileTreeCallbacks {
  openFile: (path: string) => void;
  /** Called before this client renames or deletes a path (to save and close its tabs). */
  beforeChange: (change: FsChanged) => Promise<void>;
  /** Called after this client changed a path; `done` is false when the change failed. */
  afterChange: (change: FsChanged, done: boolean) => void;
}

/** Rejects what the server would refuse anyway, with a message that says why. */
export function validateRelativePath(value: string): string | null {
  if (!value) return "Enter a name.";
  if (value.startsWith("/")) return "Use a path relative to the project root.";
  if (value.endsWith("/")) return "The name must not end with '/'.";
  if (value.includes("\0")) return "The name contains a NUL byte.";
  const parts = value.split("/");
  if (parts.some((part) => part === "" || part === "." || part === ".."))
    return "Empty, '.' and '..' path segments are not allowed.";
  if (parts.some((part) => part === ".ide" || part === ".git"))
    return "That directory is reserved.";
  return null;
}

/** What differs between making a file and making a folder. */
type Creatable = Exclude<FsEntry["type"], "symlink">;

const CREATE: Record<
  Creatable,
  { title: string; exists: string; kind: FsChanged["kind"]; request: (rpc: RpcClient, path: string) => Promise<unknown> }
> = {
  file: {
    title: "New file",
    exists: "That file already exists.",
    kind: "write",
    request: (rpc, path) => rpc.request("fs/write", { path, content: "" }),
  },
  directory: {
    title: "New folder",
    exists: "That folder already exists.",
    kind: "mkdir",
    request: (rpc, path) => rpc.request("fs/mkdir", { path }),
  },
};

export class FileTree {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly listings = new Map<string, FsEntry[]>();
  private readonly expanded = new Set<string>([""]);
  private readonly loading = new Set<string>();
  private selected: string | null = null;
  private selectedType: FsEntry["type"] | null = null;
  private readOnly = true;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly buttons: Record<"newFile" | "newFolder" | "rename" | "delete" | "refresh", HTMLButtonElement>;

  constructor(
    private readonly rpc: RpcClient,
    private readonly callbacks: FileTreeCallbacks,
  ) {
    const button = (testid: string, label: string, title: string, action: () => void) => {
      const el = h(
        "button",
        { type: "button", class: "icon-button", "data-testid": testid, title, "aria-label": title },
        label,
      );
      el.addEventListener("click", action);
      return el;
    };
    this.buttons = {
      newFile: button("tree-new-file", "+ File", "New file", () => void this.create("file")),
      newFolder: button("tree-new-folder", "+ Folder", "New folder", () => void this.create("directory")),
      rename: button("tree-rename", "Rename", "Rename or move the selected item", () => void this.renameSelected()),
      delete: button("tree-delete", "Delete", "Delete the selected item", () => void this.deleteSelected()),
      refresh: button("tree-refresh", "⟳", "Refresh", () => void this.refresh()),
    };
    const { refresh, ...writeActions } = this.buttons;
    this.toolbar = h("div", { class: "tree-toolbar" }, Object.values(writeActions));
    this.list = h("div", { class: "tree", role: "tree", "data-testid": "file-tree", tabindex: "0" });
    this.list.addEventListener("keydown", (event) => this.onKey(event));
    this.el = h(
      "div",
      { class: "tree-panel" },
      h("div", { class: "panel-title" }, h("span", null, "Files"), refresh),
      this.toolbar,
      this.list,
    );
    this.setReadOnly(true);
    this.render();
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    this.toolbar.hidden = readOnly;
    this.updateButtons();
  }

  /** Reloads every directory that is shown; collapsed ones are reloaded when opened. */
  async refresh(): Promise<void> {
    for (const path of [...this.listings.keys()]) {
      if (!this.isVisibleDir(path)) this.listings.delete(path);
    }
    const dirs = [...this.expanded].filter((path) => this.isVisibleDir(path));
    await Promise.all(dirs.map((path) => this.load(path)));
  }

  /** Coalesces bursts of fs/changed notifications into one refresh. */
  scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, 150);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }

  /** The expanded folders (to restore them after a reload). */
  expandedPaths(): string[] {
    return [...this.expanded].filter((path) => path !== "");
  }

  /** Notified when a folder is expanded or collapsed. */
  onExpandedChange: (() => void) | null = null;

  /** Expands `paths` (missing ones are dropped when their listing fails). */
  async expandPaths(paths: string[]): Promise<void> {
    for (const path of paths) this.expanded.add(path);
    await this.refresh();
  }

  /** Shows `path` in the tree: expands its folders, selects it, scrolls to it. */
  async reveal(path: string): Promise<void> {
    const parents: string[] = [];
    for (let dir = dirname(path); dir !== ""; dir = dirname(dir)) parents.unshift(dir);
    const missing = parents.filter((dir) => !this.expanded.has(dir) || !this.listings.has(dir));
    for (const dir of parents) this.expanded.add(dir);
    if (missing.length) {
      await Promise.all(missing.map((dir) => this.load(dir)));
      this.onExpandedChange?.();
    }
    this.selected = path;
    this.selectedType = "file";
    this.render();
    this.list.querySelector(`[data-path="${CSS.escape(path)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  private isVisibleDir(path: string): boolean {
    if (path === "") return true;
    if (!this.expanded.has(path)) return false;
    return this.isVisibleDir(dirname(path));
  }

  private async load(path: string): Promise<void> {
    this.loading.add(path);
    this.render();
    try {
      const result = await this.rpc.request("fs/list", { path });
      this.listings.set(path, result.entries);
    } catch (error) {
      if (error instanceof RpcError && (error.code === ErrorCode.notFound || error.code === ErrorCode.invalidPath)) {
        this.listings.delete(path);
        this.expanded.delete(path);
        if (path === "") this.listings.set("", []);
      } else {
        showNotice(`Cannot list ${path || "the project"}: ${errorMessage(error)}`);
      }
    } finally {
      this.loading.delete(path);
      this.render();
    }
  }

  private async toggle(path: string): Promise<void> {
    if (this.expanded.has(path)) {
      this.expanded.delete(path);
      this.render();
      this.onExpandedChange?.();
      return;
    }
    this.expanded.add(path);
    this.onExpandedChange?.();
    if (this.listings.has(path)) this.render();
    else await this.load(path);
  }

  private select(entry: FsEntry): void {
    this.selected = entry.path;
    this.selectedType = entry.type;
    this.render();
  }

  private render(): void {
    const rows: HTMLElement[] = [];
    const walk = (dir: string, depth: number): void => {
      for (const entry of this.listings.get(dir) ?? []) {
        rows.push(this.renderRow(entry, depth));
        if (entry.type === "directory" && this.expanded.has(entry.path)) walk(entry.path, depth + 1);
      }
      if (this.loading.has(dir) && !this.listings.has(dir)) {
        rows.push(h("div", { class: "tree-note", style: `padding-left:${12 + depth * 14}px` }, "Loading…"));
      }
    };
    walk("", 0);
    if (rows.length === 0 && this.listings.has("")) {
      rows.push(h("div", { class: "tree-note", "data-testid": "tree-empty" }, "No files yet."));
    }
    this.list.replaceChildren(...rows);
    this.updateButtons();
  }

  private renderRow(entry: FsEntry, depth: number): HTMLElement {
    const isDir = entry.type === "directory";
    const open = isDir && this.expanded.has(entry.path);
    const row = h(
      "div",
      {
        class: `tree-item ${isDir ? "dir" : "file"}${this.selected === entry.path ? " selected" : ""}`,
        role: "treeitem",
        "data-testid": "tree-item",
        "data-path": entry.path,
        "data-type": entry.type,
        "data-expanded": isDir ? String(open) : null,
        "aria-expanded": isDir ? String(open) : null,
        "aria-selected": String(this.selected === entry.path),
        title: entry.path,
        style: `padding-left:${8 + depth * 14}px`,
      },
      h("span", { class: "tree-caret" }, isDir ? (open ? "▾" : "▸") : ""),
      h("span", { class: `tree-icon ${isDir ? "icon-dir" : "icon-file"}` }),
      h("span", { class: "tree-name" }, entry.name),
    );
    row.addEventListener("click", () => {
      this.select(entry);
      if (isDir) void this.toggle(entry.path);
      else this.callbacks.openFile(entry.path);
    });
    return row;
  }

  private updateButtons(): void {
    this.buttons.rename.disabled = this.readOnly || this.selected === null;
    this.buttons.delete.disabled = this.readOnly || this.selected === null;
  }

  private onKey(event: KeyboardEvent): void {
    const entries = this.visibleEntries();
    const index = entries.findIndex((entry) => entry.path === this.selected);
    const current = index >= 0 ? entries[index] : undefined;
    const move = (to: number): void => {
      const entry = entries[Math.max(0, Math.min(entries.length - 1, to))];
      if (!entry) return;
      this.select(entry);
      this.list.querySelector(`[data-path="${CSS.escape(entry.path)}"]`)?.scrollIntoView({ block: "nearest" });
    };
    switch (event.key) {
      case "ArrowDown":
        move(index + 1);
        break;
      case "ArrowUp":
        move(index < 0 ? 0 : index - 1);
        break;
      case "ArrowRight":
        if (current?.type === "directory" && !this.expanded.has(current.path)) void this.toggle(current.path);
        break;
      case "ArrowLeft":
        if (current?.type === "directory" && this.expanded.has(current.path)) void this.toggle(current.path);
        else if (current && dirname(current.path)) move(entries.findIndex((e) => e.path === dirname(current.path)));
        break;
      case "Enter":
        if (current?.type === "directory") void this.toggle(current.path);
        else if (current) this.callbacks.openFile(current.path);
        break;
      case "F2":
        if (this.readOnly || !current) return;
        void this.renameSelected();
        break;
      case "Delete":
        if (this.readOnly || !current) return;
        void this.deleteSelected();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  /** Entries in display order (what the rows show). */
  private visibleEntries(): FsEntry[] {
    const result: FsEntry[] = [];
    const walk = (dir: string): void => {
      for (const entry of this.listings.get(dir) ?? []) {
        result.push(entry);
        if (entry.type === "directory" && this.expanded.has(entry.path)) walk(entry.path);
      }
    };
    walk("");
    return result;
  }

  /** The directory new items go into: the selected directory, or the selected file's. */
  private targetDir(): string {
    if (this.selected === null) return "";
    return this.selectedType === "directory" ? this.selected : dirname(this.selected);
  }

  private exists(path: string): boolean {
    return (this.listings.get(dirname(path)) ?? []).some((entry) => entry.path === path);
  }

  private ensureExpanded(dir: string): void {
    const parts = dir ? dir.split("/") : [];
    for (let i = 1; i <= parts.length; i++) this.expanded.add(parts.slice(0, i).join("/"));
  }

  /** Asks for the new entry's path, creates it, then selects it (and opens a new file). */
  private async create(type: Creatable): Promise<void> {
    const { title, exists, request, kind } = CREATE[type];
    const dir = this.targetDir();
    const name = await promptDialog(title, dir ? `${dir}/` : "", {
      message: "Path relative to the project root.",
      okLabel: "Create",
      validate: (value) => validateRelativePath(value) ?? (this.exists(value) ? exists : null),
    });
    if (name === null) return;
    try {
      await request(this.rpc, name);
    } catch (error) {
      showNotice(`Cannot create ${name}: ${errorMessage(error)}`);
      return;
    }
    this.ensureExpanded(type === "directory" ? name : dirname(name));
    this.selected = name;
    this.selectedType = type;
    this.callbacks.afterChange({ path: name, kind }, true);
    await this.refresh();
    if (type === "file") this.callbacks.openFile(name);
  }

  private async renameSelected(): Promise<void> {
    const path = this.selected;
    if (path === null) return;
    const newPath = await promptDialog(`Rename ${basename(path)}`, path, {
      message: "New path relative to the project root (a different folder moves it).",
      okLabel: "Rename",
      validate: (value) =>
        validateRelativePath(value) ?? (value === path ? "Enter a different name." : null),
    });
    if (newPath === null) return;
    const change: FsChanged = { path, kind: "rename", new_path: newPath };
    try {
      await this.callbacks.beforeChange(change);
      await this.rpc.request("fs/rename", { path, new_path: newPath });
    } catch (error) {
      showNotice(`Cannot rename ${path}: ${errorMessage(error)}`);
      this.callbacks.afterChange(change, false);
      return;
    }
    if (this.expanded.delete(path)) this.expanded.add(newPath);
    this.ensureExpanded(dirname(newPath));
    this.selected = newPath;
    this.callbacks.afterChange(change, true);
    await this.refresh();
  }

  private async deleteSelected(): Promise<void> {
    const path = this.selected;
    if (path === null) return;
    const isDir = this.selectedType === "directory";
    const ok = await confirmDialog(
      `Delete ${basename(path)}?`,
      isDir ? `The folder ${path} and everything in it will be deleted.` : `${path} will be deleted.`,
      "Delete",
      true,
    );
    if (!ok) return;
    const change: FsChanged = { path, kind: "delete" };
    try {
      await this.callbacks.beforeChange(change);
      await this.rpc.request("fs/delete", { path });
    } catch (error) {
      showNotice(`Cannot delete ${path}: ${errorMessage(error)}`);
      this.callbacks.afterChange(change, false);
      return;
    }
    this.expanded.delete(path);
    this.selected = null;
    this.selectedType = null;
    this.callbacks.afterChange(change, true);
    await this.refresh();
  }
}

