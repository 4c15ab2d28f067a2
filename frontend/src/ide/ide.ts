// The IDE of one ready session: file tree, tabs with editors, status bar, and the
// JSON-RPC connection they share.
import { h, type View } from "../dom";
import { ideSocketUrl, type Session, type User } from "../api";
import { errorMessage, showNotice } from "../ui/notice";
import type { CollabUser } from "./collab";
import { CommandBar } from "./dbt/commandbar";
import { formatCommandLine } from "./dbt/commandline";
import { CompiledPane } from "./dbt/compiled";
import { dbtCompletionSource } from "./dbt/editorcompletion";
import { DbtInvocations } from "./dbt/invocations";
import { LineagePane } from "./dbt/lineage";
import { InvocationPanel } from "./dbt/panel";
import { FileTree } from "./filetree";
import { GitPanel } from "./git/panel";
import { ResultsPane, type ActiveFile } from "./results/pane";
import { Sidebar } from "./sidebar";
import type { CatalogResult } from "./generated/protocol";
import type { FsChanged } from "./protocol";
import { RpcClient } from "./rpc";
import { StatusBar } from "./statusbar";
import { Tabs } from "./tabs";
import type { OpenFileContext } from "./openfile";
import { ideCommands } from "./commands";
import { CommandPalette } from "./palette";
import { revealAt } from "./reveal";
import { SearchPanel } from "./search";
import { ProblemsPanel } from "./problems";
import { LayoutMemory } from "./layoutmemory";
import { SidebarSize } from "./sidebarsize";
import { Pairing } from "./presence/pairing";

/** Every this many failed reconnects, the caller checks whether the session still runs. */
const RECONNECTS_BEFORE_CHECK = 3;
/** How long the catalog read for completion is used before reading it again. */
const CATALOG_TTL_MS = 10_000;

export interface IdeOptions {
  session: Session;
  user: User;
  /** The IDE socket keeps failing: the session may have stopped. */
  onConnectionTrouble: () => void;
  /** The gateway closed a socket with 4401/4403: this user's access ended or changed. */
  onAccessLost?: (code: number) => void;
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number): string => {
    const k = (n + hue / 30) % 12;
    const value = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

export function collabUser(user: User): CollabUser {
  let hash = 0;
  for (const char of user.username) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  return {
    name: user.display_name || user.username,
    username: user.username,
    // Hex, not hsl(): y-codemirror.next derives the selection colour by appending an alpha.
    color: hslToHex(hue, 0.7, 0.45),
    colorLight: `${hslToHex(hue, 0.7, 0.45)}40`,
  };
}

export class Ide implements View {
  readonly el: HTMLElement;
  readonly status: StatusBar;
  private readonly rpc: RpcClient;
  private readonly tree: FileTree;
  private readonly tabs: Tabs;
  private readonly git: GitPanel;
  private readonly sidebar: Sidebar;
  private readonly results: ResultsPane;
  private readonly invocations: DbtInvocations;
  private readonly commandBar: CommandBar;
  private readonly dbtPanel: InvocationPanel;
  private readonly compiled: CompiledPane;
  private readonly lineage: LineagePane;
  private readonly context: OpenFileContext;
  private readonly search: SearchPanel;
  private readonly problems: ProblemsPanel;
  private readonly palette: CommandPalette;
  private readonly layout: LayoutMemory;
  private readonly sidebarSize: SidebarSize;
  private revealedPath: string | null = null;
  /** Presence, follow mode and sharing; its `headerEl` goes in the session header. */
  readonly pairing: Pairing;
  private readonly cleanups: (() => void)[] = [];
  private connectedOnce = false;
  private catalogCache: { at: number; catalog: Promise<CatalogResult> } | null = null;
  private lastCatalog: CatalogResult | null = null;

  constructor(private readonly options: IdeOptions) {
    const { session, user } = options;
    this.context = {
      sessionId: session.id,
      user: collabUser(user),
      readOnly: true,
      preview: () => this.results.preview(),
      compile: () => void this.compiled.compile(this.activeFile()),
      dbtCompletions: dbtCompletionSource(() => this.catalog()),
      saveAs: async (from, to, content) => {
        await this.rpc.request("fs/write", { path: to, content });
        this.tree.scheduleRefresh();
        this.git.scheduleRefresh();
        // The same path: the room finds its file again and settles; elsewhere: follow it.
        if (to !== from) {
          this.tabs.close(from);
          this.tabs.open(to);
        }
      },
      closeTab: (path) => this.tabs.close(path),
      readBinary: (path) => this.rpc.request("fs/read_binary", { path }),
      readText: (path) => this.rpc.request("fs/read", { path }).then((file) => file.content),
    };
    this.rpc = new RpcClient(ideSocketUrl(session.id, "ide"));
    this.status = new StatusBar(user);
    this.status.setSession(session.state);
    this.tabs = new Tabs(this.context);
    this.tree = new FileTree(this.rpc, {
      openFile: (path) => this.tabs.open(path),
      beforeChange: (change) => this.tabs.prepareChange(change),
      afterChange: (change, done) => this.tabs.finishChange(change, done),
    });
    this.git = new GitPanel(this.rpc, {
      saveAll: () => this.tabs.saveAll(5000),
      openFile: (path) => this.tabs.open(path),
      showOverlay: (view) => this.tabs.showOverlay(view),
      filesChanged: () => {
        this.tree.scheduleRefresh();
        this.tabs.retryGone();
      },
      changeCount: (count) => this.sidebar.setCount(count),
    });
    this.search = new SearchPanel(this.rpc, {
      openAt: (path, line, column, length) => revealAt(this.tabs.open(path), line, column, length),
    });
    this.problems = new ProblemsPanel(this.rpc, {
      openAt: (path, line, column) => revealAt(this.tabs.open(path), line, column),
      views: () => {
        const active = this.tabs.active;
        return active?.view ? [{ path: active.path, view: active.view }] : [];
      },
    });
    this.palette = new CommandPalette({
      files: () => this.rpc.request("fs/files").then((result) => result.paths),
      openFile: (path) => void this.tabs.open(path),
      commands: () => this.commands(),
    });
    this.sidebar = new Sidebar({ files: this.tree.el, git: this.git.el, search: this.search.el, problems: this.problems.el }, (panel) => {
      if (panel === "git") void this.git.refresh();
    });
    this.results = new ResultsPane(this.rpc, () => this.activeFile());
    this.compiled = new CompiledPane(this.rpc);
    this.lineage = new LineagePane(this.rpc, (path) => this.tabs.open(path));
    this.invocations = new DbtInvocations(this.rpc);
    this.commandBar = new CommandBar(this.invocations, session.project, () => this.nodeNames());
    const lineageButton = h("button", { type: "button", class: "button small", "data-testid": "dbt-lineage-toggle", title: "Show the open model's lineage" }, "Lineage");
    lineageButton.addEventListener("click", () => this.lineage.toggle());
    this.commandBar.addControl(lineageButton);
    this.dbtPanel = new InvocationPanel(this.invocations, (command, args) => {
      void this.commandBar.submit(formatCommandLine(command, args));
    }, session.project);
    const editorRow = h("div", { class: "editor-row" }, this.tabs.el, this.compiled.el, this.lineage.el);
    this.pairing = new Pairing({
      session,
      user,
      collabUser: this.context.user,
      host: { open: (path) => this.tabs.open(path, false), active: () => this.tabs.active, area: editorRow },
      onAccessLost: (code) => options.onAccessLost?.(code),
    });
    this.el = h(
      "div",
      { class: "ide", "data-testid": "ide", "data-session": session.id },
      this.sidebar.el,
      h(
        "div",
        { class: "main-column" },
        editorRow,
        this.commandBar.el,
        this.dbtPanel.el,
        this.results.el,
      ),
      this.status.el,
      this.palette.el,
    );

    this.layout = new LayoutMemory(user.username, session.id);
    this.sidebarSize = new SidebarSize(this.el, () => this.rememberLayout());
    this.sidebar.el.append(this.sidebarSize.handle);
    this.status.el.prepend(this.sidebarSize.toggle);
    this.tree.onExpandedChange = () => this.rememberLayout();
    this.cleanups.push(
      () => this.layout.dispose(),
      this.tabs.onLayoutChange(() => {
        this.rememberLayout();
        // The tree follows the active tab.
        const path = this.tabs.active?.path ?? null;
        if (path && path !== this.revealedPath) {
          void this.tree.reveal(path);
          // Outside the editor's own update: the known problems of the file now shown.
          setTimeout(() => this.problems.showInEditors(), 0);
        }
        this.revealedPath = path;
      }),
      this.rpc.onStateChange((state, failedAttempts) => {
        this.status.setConnection(state);
        this.el.dataset.connection = state;
        if (state === "open") {
          void this.onConnected();
        } else if (state === "reconnecting" && failedAttempts > 0 && failedAttempts % RECONNECTS_BEFORE_CHECK === 0) {
          this.options.onConnectionTrouble();
        }
      }),
      this.rpc.on("fs/changed", (change: FsChanged) => {
        this.tabs.applyRemoteChange(change);
        if (change.kind === "write" || change.kind === "rename") this.tabs.retryGone();
        this.tree.scheduleRefresh();
        this.git.scheduleRefresh();
      }),
      this.tabs.onSaved(() => this.git.scheduleRefresh()),
      this.tabs.onActiveChange((file) => {
        this.status.setFile(file);
        this.commandBar.setFile(file?.path ?? null);
        this.compiled.setActivePath(file?.path ?? null);
        this.lineage.setActivePath(file?.path ?? null);
        // Read the names before the first keystroke wants them.
        if (file?.path.endsWith(".sql")) this.catalog().catch(() => undefined);
        this.pairing.setActiveFile(file?.path ?? null);
      }),
    );
  }

  /** Connects to the session and listens for Ctrl/Cmd-S; call once `el` is shown. */
  start(): void {
    const onKey = (event: KeyboardEvent): void => {
      if (this.palette.handleKey(event)) return;
      if (event.shiftKey && event.altKey && event.code === "KeyF") {
        event.preventDefault();
        void this.formatActive();
        return;
      }
      if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "b") {
        event.preventDefault();
        this.sidebarSize.setCollapsed(!this.sidebarSize.collapsed);
        return;
      }
      if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "f") {
        event.preventDefault();
        this.searchInFiles();
        return;
      }
      // The editor's own Mod-s binding has already handled (and prevented) its keystrokes.
      if (event.defaultPrevented || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "s") return;
      event.preventDefault();
      void this.tabs.saveActive();
    };
    window.addEventListener("keydown", onKey);
    this.cleanups.push(() => window.removeEventListener("keydown", onKey));
    this.status.setConnection("connecting");
    this.rpc.start();
    this.pairing.start();
  }

  private rememberLayout(): void {
    if (!this.connectedOnce) return; // not before the saved layout was restored
    this.layout.schedule(() => ({
      tabs: this.tabs.paths,
      active: this.tabs.active?.path ?? null,
      expanded: this.tree.expandedPaths(),
      sidebarWidth: this.sidebarSize.width,
      sidebarCollapsed: this.sidebarSize.collapsed,
    }));
  }

  /** Reopens what was open before a reload, in this browser, for this user and session. */
  private async restoreLayout(): Promise<void> {
    const saved = this.layout.load();
    this.sidebarSize.setWidth(saved.sidebarWidth);
    if (saved.sidebarCollapsed) this.sidebarSize.setCollapsed(true);
    await this.tree.expandPaths(saved.expanded);
    for (const path of saved.tabs) this.tabs.open(path, false);
    if (saved.active && saved.tabs.includes(saved.active)) this.tabs.activate(saved.active);
  }

  private searchInFiles(): void {
    const view = this.tabs.active?.view;
    const selection = view ? view.state.sliceDoc(view.state.selection.main.from, view.state.selection.main.to) : "";
    this.sidebar.show("search");
    this.search.focus(selection);
  }

  private commands(): ReturnType<typeof ideCommands> {
    return ideCommands({
      readOnly: () => this.context.readOnly,
      activePath: () => this.tabs.active?.path ?? null,
      save: () => this.tabs.saveActive(),
      saveAll: () => this.tabs.saveAll(5000),
      showPanel: (panel) => this.sidebar.show(panel),
      searchInFiles: () => this.searchInFiles(),
      preview: () => this.results.preview(),
      compile: () => void this.compiled.compile(this.activeFile()),
      gitRefresh: () => this.git.refresh(),
      gitAction: (testid) => {
        this.sidebar.show("git");
        const button = this.git.el.querySelector<HTMLButtonElement>(`[data-testid="${testid}"]`);
        if (button && !button.disabled) button.click();
      },
      dbt: (line) => this.commandBar.submit(line),
      lintFile: () => {
        const path = this.tabs.active?.path;
        if (!path) return;
        this.sidebar.show("problems");
        return this.problems.lint([path]);
      },
      lintProject: () => {
        this.sidebar.show("problems");
        return this.problems.lint();
      },
      format: () => this.formatActive(),
    });
  }

  private formatActive(): Promise<void> | undefined {
    const active = this.tabs.active;
    if (!active?.view || this.context.readOnly) return;
    return this.problems.format(active.path, active.view);
  }

  /** Writes every open document with unsaved changes; gives up after a few seconds. */
  saveAll(): Promise<void> {
    return this.tabs.saveAll(5000);
  }

  setSession(session: Session): void {
    this.status.setSession(session.state);
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.rpc.stop();
    this.pairing.dispose();
    this.tree.dispose();
    this.git.dispose();
    this.results.dispose();
    this.compiled.dispose();
    this.lineage.dispose();
    this.commandBar.dispose();
    this.dbtPanel.dispose();
    this.invocations.dispose();
    this.tabs.dispose();
  }

  /**
   * The project's dbt/catalog, for completion: read again at most every few seconds. While
   * the project does not parse (a half-typed `{{ ref(` saved a moment ago), the last catalog
   * read serves.
   */
  private catalog(): Promise<CatalogResult> {
    // Tab after Tab, key after key, should not ask the pod each time.
    const now = Date.now();
    if (this.catalogCache && now - this.catalogCache.at < CATALOG_TTL_MS) return this.catalogCache.catalog;
    const read = this.rpc.request("dbt/catalog");
    read.then((catalog) => {
      this.lastCatalog = catalog;
    }, () => undefined);
    const catalog = read.catch((error: unknown) => {
      if (this.catalogCache?.catalog === catalog) this.catalogCache = null;
      if (this.lastCatalog) return this.lastCatalog;
      throw error;
    });
    this.catalogCache = { at: now, catalog };
    return catalog;
  }

  /** The dbt project's models, seeds and snapshots, for the command bar's completion. */
  private async nodeNames(): Promise<string[]> {
    const catalog = await this.catalog();
    return [...catalog.models, ...catalog.seeds, ...catalog.snapshots].map((node) => node.name);
  }

  private activeFile(): ActiveFile | null {
    const file = this.tabs.active;
    return file?.view ? { view: file.view, path: file.path } : null;
  }

  private async onConnected(): Promise<void> {
    if (!this.connectedOnce) {
      try {
        const status = await this.rpc.request("session/status");
        // A guest in `view` mode reads only, whatever their own role on the project.
        this.context.readOnly = status.role === "read-only" || this.options.session.mode === "view";
        this.status.setRole(status.role);
        this.status.setWarehouse(status.warehouse);
        this.el.dataset.role = status.role;
        this.tree.setReadOnly(this.context.readOnly);
        this.git.setReadOnly(this.context.readOnly);
        this.commandBar.setReadOnly(this.context.readOnly);
        await this.restoreLayout();
        // Remote branches others pushed, without a pull: after the files are open, since
        // the pod loads git on its first git call and the open files come first.
        this.git.fetchRemote();
        this.connectedOnce = true;
        this.rememberLayout();
      } catch (error) {
        showNotice(`Cannot read the session status: ${errorMessage(error)}`);
        return;
      }
    }
    // Also after a reconnect: files may have changed while we were away.
    await Promise.all([this.tree.refresh(), this.git.refresh()]);
  }
}
