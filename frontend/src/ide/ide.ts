// The IDE of one ready session: file tree, tabs with editors, status bar, and the
// JSON-RPC connection they share.
import { h, type View } from "../dom";
import { ideSocketUrl, type Session, type User } from "../api";
import { errorMessage, showNotice } from "../ui/notice";
import type { CollabUser } from "./collab";
import { CommandBar } from "./dbt/commandbar";
import { formatCommandLine } from "./dbt/commandline";
import { CompiledPane } from "./dbt/compiled";
import { DbtInvocations } from "./dbt/invocations";
import { InvocationPanel } from "./dbt/panel";
import { FileTree } from "./filetree";
import { GitPanel } from "./git/panel";
import { ResultsPane, type ActiveFile } from "./results/pane";
import { Sidebar } from "./sidebar";
import type { FsChanged } from "./protocol";
import { RpcClient } from "./rpc";
import { StatusBar } from "./statusbar";
import { Tabs } from "./tabs";
import type { OpenFileContext } from "./openfile";
import { Pairing } from "./presence/pairing";

/** Every this many failed reconnects, the caller checks whether the session still runs. */
const RECONNECTS_BEFORE_CHECK = 3;
/** How long the node names read for completion are used before reading them again. */
const NODE_NAMES_TTL_MS = 10_000;

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
  private readonly context: OpenFileContext;
  /** Presence, follow mode and sharing; its `headerEl` goes in the session header. */
  readonly pairing: Pairing;
  private readonly cleanups: (() => void)[] = [];
  private connectedOnce = false;
  private catalogNames: { at: number; names: Promise<string[]> } | null = null;

  constructor(private readonly options: IdeOptions) {
    const { session, user } = options;
    this.context = {
      sessionId: session.id,
      user: collabUser(user),
      readOnly: true,
      preview: () => this.results.preview(),
      compile: () => void this.compiled.compile(this.activeFile()),
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
      filesChanged: () => this.tree.scheduleRefresh(),
      changeCount: (count) => this.sidebar.setCount(count),
    });
    this.sidebar = new Sidebar({ files: this.tree.el, git: this.git.el }, (panel) => {
      if (panel === "git") void this.git.refresh();
    });
    this.results = new ResultsPane(this.rpc, () => this.activeFile());
    this.compiled = new CompiledPane(this.rpc);
    this.invocations = new DbtInvocations(this.rpc);
    this.commandBar = new CommandBar(this.invocations, session.project, () => this.nodeNames());
    this.dbtPanel = new InvocationPanel(this.invocations, (command, args) => {
      void this.commandBar.submit(formatCommandLine(command, args));
    }, session.project);
    const editorRow = h("div", { class: "editor-row" }, this.tabs.el, this.compiled.el);
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
    );

    this.cleanups.push(
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
        this.tree.scheduleRefresh();
        this.git.scheduleRefresh();
      }),
      this.tabs.onSaved(() => this.git.scheduleRefresh()),
      this.tabs.onActiveChange((file) => {
        this.status.setFile(file);
        this.commandBar.setFile(file?.path ?? null);
        this.compiled.setActivePath(file?.path ?? null);
        this.pairing.setActiveFile(file?.path ?? null);
      }),
    );
  }

  /** Connects to the session and listens for Ctrl/Cmd-S; call once `el` is shown. */
  start(): void {
    const onKey = (event: KeyboardEvent): void => {
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
    this.commandBar.dispose();
    this.dbtPanel.dispose();
    this.invocations.dispose();
    this.tabs.dispose();
  }

  /** The dbt project's models, seeds and snapshots, for the command bar's completion. */
  private nodeNames(): Promise<string[]> {
    // Read again at most every few seconds: Tab after Tab should not ask the pod each time.
    const now = Date.now();
    if (this.catalogNames && now - this.catalogNames.at < NODE_NAMES_TTL_MS) return this.catalogNames.names;
    const names = this.rpc.request("dbt/catalog").then((catalog) =>
      [...catalog.models, ...catalog.seeds, ...catalog.snapshots].map((node) => node.name));
    this.catalogNames = { at: now, names };
    names.catch(() => {
      if (this.catalogNames?.names === names) this.catalogNames = null;
    });
    return names;
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
        this.connectedOnce = true;
      } catch (error) {
        showNotice(`Cannot read the session status: ${errorMessage(error)}`);
        return;
      }
    }
    // Also after a reconnect: files may have changed while we were away.
    await Promise.all([this.tree.refresh(), this.git.refresh()]);
  }
}
