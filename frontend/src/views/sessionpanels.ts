// What the session page shows in place of the IDE while there is none: the start progress,
// the end of a session, an unknown session, an error. Pure builders; the view decides.
import { h } from "../dom";
import type { Session } from "../api";

export const STATE_LABELS: Record<Session["state"], string> = {
  pending: "Waiting for a slot…",
  starting: "Starting…",
  ready: "Ready",
  stopping: "Stopping…",
  stopped: "Stopped",
  failed: "Failed",
};

export function loadingPanel(): HTMLElement {
  return h("section", { class: "session-panel", "data-testid": "session-loading" }, h("div", { class: "spinner" }));
}

export function progressPanel(session: Session): HTMLElement {
  return h(
    "section",
    { class: "session-panel", "data-testid": "session-progress", "data-state": session.state },
    h("div", { class: "spinner", "aria-hidden": "true" }),
    h("h2", { "data-testid": "session-state", "data-state": session.state }, STATE_LABELS[session.state]),
    h(
      "p",
      { class: "progress-line", "data-testid": "session-progress-line", "aria-live": "polite" },
      session.progress ?? "",
    ),
  );
}

/** A failed or stopped session, with a button that starts it again. */
export function endedPanel(session: Session, onRetry: (button: HTMLButtonElement) => void): HTMLElement {
  const failed = session.state === "failed";
  const retry = h(
    "button",
    { type: "button", class: "button primary", "data-testid": "session-retry" },
    failed ? "Retry" : "Start again",
  );
  retry.addEventListener("click", () => onRetry(retry));
  return h(
    "section",
    { class: "session-panel", "data-testid": "session-ended", "data-state": session.state },
    h(
      "h2",
      { "data-testid": "session-state", "data-state": session.state },
      failed ? "The session failed to start" : "The session is stopped",
    ),
    session.reason
      ? h("p", { class: failed ? "form-error" : "muted", "data-testid": "session-reason" }, session.reason)
      : null,
    h("div", { class: "panel-actions" }, h("a", { class: "button", href: "#/" }, "Back to projects"), retry),
  );
}

export function missingPanel(): HTMLElement {
  return h(
    "section",
    { class: "session-panel", "data-testid": "session-missing" },
    h("h2", null, "Session not found"),
    h("p", { class: "muted" }, "It may belong to someone else, or it no longer exists."),
    h("a", { class: "button", href: "#/" }, "Back to projects"),
  );
}

export function errorPanel(message: string, onRetry: () => void): HTMLElement {
  const retry = h("button", { type: "button", class: "button" }, "Try again");
  retry.addEventListener("click", onRetry);
  return h(
    "section",
    { class: "session-panel", "data-testid": "session-error" },
    h("p", { class: "form-error", role: "alert" }, message),
    retry,
  );
}
