// Admin: every live session (and those stopped in the last day), with Stop.
import { h, replaceChildren } from "../../dom";
import { confirmDialog } from "../../ui/dialog";
import { listAllSessions, stopAnySession, type AdminSession } from "./client";
import { actionButton, section, statusLine, when } from "./forms";

const LIVE = ["pending", "starting", "ready", "stopping"];

function age(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function sessionsTab(): { el: HTMLElement; load: () => Promise<void> } {
  const status = statusLine("sessions-status");
  const body = h("tbody");
  const row = (s: AdminSession): HTMLElement => {
    const live = LIVE.includes(s.state);
    const stop = actionButton("Stop", "session-stop", async () => {
      if (!(await confirmDialog(`Stop ${s.user}'s session on ${s.project}?`, "Their editor disconnects; unsaved edits in the pod's rooms are saved first, and the volume is kept.", "Stop", true))) return;
      try {
        await stopAnySession(s.id);
        status.ok(`Stopped the session of ${s.user} on ${s.project}.`);
        await load();
      } catch (error) {
        status.fail(error);
      }
    }, "small");
    return h(
      "tr",
      { "data-testid": "admin-session-row", "data-session": s.id, "data-user": s.user, "data-state": s.state },
      h("td", { class: "project-name" }, s.user),
      h("td", null, s.project),
      h("td", { "data-testid": "admin-session-state" }, s.state, s.reason ? h("span", { class: "muted" }, ` (${s.reason})`) : null),
      h("td", null, age(s.age_seconds)),
      h("td", null, when(s.updated_at)),
      h("td", null, s.backend),
      h("td", { class: "actions" }, live ? stop : null),
    );
  };
  const load = async (): Promise<void> => {
    try {
      const sessions = await listAllSessions();
      sessions.sort((a, b) => Number(LIVE.includes(b.state)) - Number(LIVE.includes(a.state)) || a.age_seconds - b.age_seconds);
      replaceChildren(body, sessions.length ? sessions.map(row) : h("tr", null, h("td", { colspan: 7, class: "muted" }, "No sessions.")));
    } catch (error) {
      status.fail(error);
    }
  };
  const refresh = actionButton("Refresh", "sessions-refresh", load, "small");
  const el = section(
    "Sessions",
    "admin-sessions",
    h("div", { class: "form-actions" }, refresh, status.el),
    h("table", { class: "table", "data-testid": "admin-sessions-table" }, h("thead", null, h("tr", null, h("th", null, "User"), h("th", null, "Project"), h("th", null, "State"), h("th", null, "Age"), h("th", null, "Updated"), h("th", null, "Backend"), h("th", null, ""))), body),
  );
  return { el, load };
}
