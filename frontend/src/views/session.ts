// `#/session/<id>`: follows a session from pending to ready, then shows the IDE; offers
// to start again when it failed or stopped.
import { h, replaceChildren, type View } from "../dom";
import {
  ApiError,
  followSession,
  getSession,
  startSession,
  stopSession,
  type Session,
  type User,
} from "../api";
import type { Ide } from "../ide/ide";
import { navigate } from "../router";
import { errorMessage, showNotice } from "../ui/notice";
import { renderHeader } from "./header";

const STATE_LABELS: Record<Session["state"], string> = {
  pending: "Waiting for a slot…",
  starting: "Starting…",
  ready: "Ready",
  stopping: "Stopping…",
  stopped: "Stopped",
  failed: "Failed",
};

export function createSessionView(user: User, sessionId: string, onLogout: () => void): View {
  const projectName = h("span", { class: "crumb", "data-testid": "session-project" });
  const stateBadge = h("span", { class: "badge", "data-testid": "session-state-badge" });
  const stopButton = h(
    "button",
    { type: "button", class: "button subtle", "data-testid": "stop-session" },
    "Stop session",
  );
  const content = h("div", { class: "session-content" });
  const el = h(
    "div",
    { class: "page session-page" },
    renderHeader({ user, onLogout, context: [projectName, stateBadge, stopButton] }),
    content,
  );

  let current: Session | null = null;
  let ide: Ide | null = null;
  let unfollow: (() => void) | null = null;
  let disposed = false;

  const unmountIde = (): void => {
    ide?.dispose();
    ide = null;
  };

  const follow = (): void => {
    if (unfollow) return;
    unfollow = followSession(
      sessionId,
      (session) => {
        if (session.state === "ready" || session.state === "failed" || session.state === "stopped") {
          unfollow = null;
        }
        show(session);
      },
      () => {
        unfollow = null;
        // The stream broke before a final state: ask once more, the answer decides.
        void refresh();
      },
    );
  };

  const refresh = async (): Promise<void> => {
    try {
      const session = await getSession(sessionId);
      if (!disposed) show(session);
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.status === 404) showMissing();
      // A mounted IDE keeps reconnecting by itself and asks again later.
      else if (!ide) showError(errorMessage(error));
    }
  };

  const show = (session: Session): void => {
    if (disposed) return;
    current = session;
    projectName.textContent = session.project;
    document.title = `${session.project} · Analytics IDE`;
    stateBadge.textContent = STATE_LABELS[session.state];
    stateBadge.dataset.state = session.state;
    stopButton.hidden = session.state === "stopped" || session.state === "failed";
    el.dataset.state = session.state;
    switch (session.state) {
      case "ready":
        if (ide) ide.setSession(session);
        else void mountIde();
        break;
      case "pending":
      case "starting":
      case "stopping":
        unmountIde();
        showProgress(session);
        follow();
        break;
      case "stopped":
      case "failed":
        unmountIde();
        unfollow?.();
        unfollow = null;
        showEnded(session);
        break;
    }
  };

  // The editor and its libraries are most of the code: load them only for a ready session.
  let mounting = false;
  const mountIde = async (): Promise<void> => {
    if (mounting) return;
    mounting = true;
    let module: typeof import("../ide/ide");
    try {
      module = await import("../ide/ide");
    } catch (error) {
      showError(`Cannot load the editor: ${errorMessage(error)}`);
      return;
    } finally {
      mounting = false;
    }
    if (disposed || ide || current?.state !== "ready") return;
    ide = new module.Ide({ session: current, user, onConnectionTrouble: () => void refresh() });
    replaceChildren(content, ide.el);
  };

  const showProgress = (session: Session): void => {
    replaceChildren(
      content,
      h(
        "section",
        { class: "session-panel", "data-testid": "session-progress", "data-state": session.state },
        h("div", { class: "spinner", "aria-hidden": "true" }),
        h("h2", { "data-testid": "session-state", "data-state": session.state }, STATE_LABELS[session.state]),
        h(
          "p",
          { class: "progress-line", "data-testid": "session-progress-line", "aria-live": "polite" },
          session.progress ?? "",
        ),
      ),
    );
  };

  const showEnded = (session: Session): void => {
    const retry = h(
      "button",
      { type: "button", class: "button primary", "data-testid": "session-retry" },
      session.state === "failed" ? "Retry" : "Start again",
    );
    retry.addEventListener("click", () => void restart(session.project, retry));
    replaceChildren(
      content,
      h(
        "section",
        { class: "session-panel", "data-testid": "session-ended", "data-state": session.state },
        h(
          "h2",
          { "data-testid": "session-state", "data-state": session.state },
          session.state === "failed" ? "The session failed to start" : "The session is stopped",
        ),
        session.reason
          ? h("p", { class: session.state === "failed" ? "form-error" : "muted", "data-testid": "session-reason" }, session.reason)
          : null,
        h("div", { class: "panel-actions" }, h("a", { class: "button", href: "#/" }, "Back to projects"), retry),
      ),
    );
  };

  const showMissing = (): void => {
    unmountIde();
    stopButton.hidden = true;
    replaceChildren(
      content,
      h(
        "section",
        { class: "session-panel", "data-testid": "session-missing" },
        h("h2", null, "Session not found"),
        h("p", { class: "muted" }, "It may belong to someone else, or it no longer exists."),
        h("a", { class: "button", href: "#/" }, "Back to projects"),
      ),
    );
  };

  const showError = (message: string): void => {
    const retry = h("button", { type: "button", class: "button" }, "Try again");
    retry.addEventListener("click", () => void refresh());
    replaceChildren(
      content,
      h(
        "section",
        { class: "session-panel", "data-testid": "session-error" },
        h("p", { class: "form-error", role: "alert" }, message),
        retry,
      ),
    );
  };

  const restart = async (project: string, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    try {
      const session = await startSession(project);
      if (disposed) return;
      if (session.id !== sessionId) navigate({ name: "session", id: session.id });
      else show(session);
    } catch (error) {
      button.disabled = false;
      showNotice(`Cannot start the session: ${errorMessage(error)}`);
    }
  };

  stopButton.addEventListener("click", async () => {
    stopButton.disabled = true;
    try {
      // Write open documents to the volume before the pod goes away.
      await ide?.saveAll();
      unmountIde();
      show(await stopSession(sessionId));
    } catch (error) {
      showNotice(`Cannot stop the session: ${errorMessage(error)}`);
      if (current) show(current);
    } finally {
      stopButton.disabled = false;
    }
  });

  replaceChildren(content, h("section", { class: "session-panel", "data-testid": "session-loading" }, h("div", { class: "spinner" })));
  void refresh();

  return {
    el,
    dispose: () => {
      disposed = true;
      unfollow?.();
      unmountIde();
    },
  };
}
