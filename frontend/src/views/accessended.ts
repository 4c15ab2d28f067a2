// What a guest sees in place of the IDE once the owner revoked their access (or it expired,
// or they lost the project): said plainly, with the way back.
import { h } from "../dom";

export function accessEndedPanel(owner: string | null): HTMLElement {
  return h(
    "section",
    { class: "session-panel", "data-testid": "access-ended", role: "alert" },
    h("h2", null, "Your access to this session ended"),
    h(
      "p",
      { class: "muted" },
      owner
        ? `${owner} stopped sharing this session with you, or the share expired. What you typed before is in their files.`
        : "The share ended or expired. What you typed before is in the owner's files.",
    ),
    h("a", { class: "button", href: "#/" }, "Back to projects"),
  );
}

/** A shared session that stopped: only its owner can start it again. */
export function ownerStoppedPanel(owner: string): HTMLElement {
  return h(
    "section",
    { class: "session-panel", "data-testid": "session-ended", "data-state": "stopped" },
    h("h2", { "data-testid": "session-state", "data-state": "stopped" }, `${owner}'s session is stopped`),
    h("p", { class: "muted" }, "Only its owner can start it again; it will be listed under Shared with me."),
    h("a", { class: "button", href: "#/" }, "Back to projects"),
  );
}
