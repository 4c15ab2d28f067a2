// `#/session/<id>`: follows a session from pending to ready, then shows the IDE; offers
// to start again when it failed or stopped.
import { h, replaceChildren, type View } from "../dom";
import {
  ApiError,
  followSession,
  getSession,
  startSession,
  stopSession,
  TERMINAL_STATES,
  type Session,
  type User,
} from "../api";
import type { Ide } from "../ide/ide";
import { navigate } from "../router";
import { confirmDialog } from "../ui/dialog";
import { errorMessage, showNotice } from "../ui/notice";
import { accessChangedBanner } from "../ide/presence/accessnotice";
import { accessEndedPanel, ownerStoppedPanel } from "./accessended";
import { renderHeader } from "./header";
import { endedPanel, errorPanel, loadingPanel, missingPanel, progressPanel, STATE_LABELS } from "./sessionpanels";

export class SessionView implements View {
  readonly el: HTMLElement;
  private readonly projectName: HTMLElement;
  private readonly stateBadge: HTMLElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly content: HTMLElement;
  /** The IDE's participants list and Share button, while an IDE is mounted. */
  private readonly pairingSlot = h("div", { class: "pairing-slot" });
  private current: Session | null = null;
  private ide: Ide | null = null;
  private unfollow: (() => void) | null = null;
  private mounting = false;
  private disposed = false;

  constructor(
    private readonly user: User,
    private readonly sessionId: string,
    onLogout: () => void,
  ) {
    this.projectName = h("span", { class: "crumb", "data-testid": "session-project" });
    this.stateBadge = h("span", { class: "badge", "data-testid": "session-state-badge" });
    this.stopButton = h(
      "button",
      { type: "button", class: "button subtle", "data-testid": "stop-session" },
      "Stop session",
    );
    this.stopButton.addEventListener("click", () => void this.stop());
    this.content = h("div", { class: "session-content" }, loadingPanel());
    this.el = h(
      "div",
      { class: "page session-page" },
      renderHeader({ user, onLogout, context: [this.projectName, this.stateBadge, this.pairingSlot, this.stopButton] }),
      this.content,
    );
  }

  start(): void {
    void this.refresh();
  }

  dispose(): void {
    this.disposed = true;
    this.unfollow?.();
    this.unfollow = null;
    this.unmountIde();
  }

  /** Asks for the session once; its answer decides what is shown. */
  private async refresh(): Promise<void> {
    try {
      const session = await getSession(this.sessionId);
      if (!this.disposed) this.show(session);
    } catch (error) {
      if (this.disposed) return;
      if (error instanceof ApiError && error.status === 404) this.showMissing();
      // A mounted IDE keeps reconnecting by itself and asks again later.
      else if (!this.ide) this.showError(errorMessage(error));
    }
  }

  private follow(): void {
    if (this.unfollow) return;
    this.unfollow = followSession(
      this.sessionId,
      (session) => {
        if (TERMINAL_STATES.includes(session.state)) this.unfollow = null;
        this.show(session);
      },
      () => {
        this.unfollow = null;
        // The stream broke before a final state: ask once more, the answer decides.
        void this.refresh();
      },
    );
  }

  private show(session: Session): void {
    if (this.disposed) return;
    this.current = session;
    this.showHeader(session);
    switch (session.state) {
      case "ready":
        if (this.ide) this.ide.setSession(session);
        else void this.mountIde();
        break;
      case "pending":
      case "starting":
      case "stopping":
        this.unmountIde();
        replaceChildren(this.content, progressPanel(session));
        this.follow();
        break;
      case "stopped":
      case "failed":
        this.unmountIde();
        this.unfollow?.();
        this.unfollow = null;
        replaceChildren(
          this.content,
          // A guest's "Start again" would start a session of their own, not this one.
          session.role === "guest"
            ? ownerStoppedPanel(session.owner ?? session.user)
            : endedPanel(session, (retry) => void this.restart(session.project, retry)),
        );
        break;
    }
  }

  private showHeader(session: Session): void {
    this.projectName.textContent = session.project;
    document.title = `${session.project} · Analytics IDE`;
    this.stateBadge.textContent = STATE_LABELS[session.state];
    this.stateBadge.dataset.state = session.state;
    // Only the owner stops a session; a guest's Stop would be refused.
    this.stopButton.hidden = session.state === "stopped" || session.state === "failed" || session.role === "guest";
    this.el.dataset.state = session.state;
  }

  private showMissing(): void {
    this.unmountIde();
    this.stopButton.hidden = true;
    replaceChildren(this.content, missingPanel());
  }

  private showError(message: string): void {
    replaceChildren(this.content, errorPanel(message, () => void this.refresh()));
  }

  /** The editor and its libraries are most of the code: loaded only for a ready session. */
  private async mountIde(): Promise<void> {
    if (this.mounting) return;
    this.mounting = true;
    let module: typeof import("../ide/ide");
    try {
      module = await import("../ide/ide");
    } catch (error) {
      this.showError(`Cannot load the editor: ${errorMessage(error)}`);
      return;
    } finally {
      this.mounting = false;
    }
    const session = this.current;
    if (this.disposed || this.ide || session?.state !== "ready") return;
    this.ide = new module.Ide({
      session,
      user: this.user,
      onConnectionTrouble: () => void this.refresh(),
      onAccessLost: () => void this.accessLost(),
    });
    this.pairingSlot.replaceChildren(this.ide.pairing.headerEl);
    replaceChildren(this.content, this.ide.el);
    this.ide.start();
  }

  private unmountIde(): void {
    this.ide?.dispose();
    this.ide = null;
    this.pairingSlot.replaceChildren();
  }

  /** A guest's socket was closed for access reasons: ended, or another mode from now on. */
  private async accessLost(): Promise<void> {
    const before = this.current;
    let session: Session;
    try {
      session = await getSession(this.sessionId);
    } catch (error) {
      if (this.disposed) return;
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
        this.unmountIde();
        this.stopButton.hidden = true;
        this.stateBadge.hidden = true;
        replaceChildren(this.content, accessEndedPanel(before?.owner ?? before?.user ?? null));
      }
      return; // 401: the login ended and the app shows the login form
    }
    if (this.disposed || session.mode === before?.mode) return;
    // The mode changed: a fresh IDE under the new mode, and a word about it.
    this.unmountIde();
    this.current = session;
    await this.mountIde();
    this.content.prepend(accessChangedBanner(session.mode ?? "edit", () => undefined));
  }

  private async restart(project: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const session = await startSession(project);
      if (this.disposed) return;
      if (session.id !== this.sessionId) navigate({ name: "session", id: session.id });
      else this.show(session);
    } catch (error) {
      button.disabled = false;
      showNotice(`Cannot start the session: ${errorMessage(error)}`);
    }
  }

  private async stop(): Promise<void> {
    const ok = await confirmDialog(
      "Stop the session?",
      "Open files are saved first; the project folder is kept, and Open starts a new session on it.",
      "Stop",
      true,
    );
    if (!ok || this.disposed) return;
    this.stopButton.disabled = true;
    try {
      // Write open documents to the volume before the pod goes away.
      await this.ide?.saveAll();
      this.unmountIde();
      this.show(await stopSession(this.sessionId));
    } catch (error) {
      showNotice(`Cannot stop the session: ${errorMessage(error)}`);
      if (this.current) this.show(this.current);
    } finally {
      this.stopButton.disabled = false;
    }
  }
}
