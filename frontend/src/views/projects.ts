// The projects the user may open; "Open" starts (or rejoins) a session.
import { h, replaceChildren, type View } from "../dom";
import { listProjects, listSessions, startSession, type Project, type Session, type User } from "../api";
import { navigate } from "../router";
import { errorMessage } from "../ui/notice";
import { renderHeader } from "./header";
import { createSharedWithMe } from "./sharedwithme";

const ROLE_LABELS: Record<string, string> = {
  admin: "Admin",
  developer: "Developer",
  "read-only": "Read-only",
};

const SESSION_LABELS: Record<string, string> = {
  pending: "Starting",
  starting: "Starting",
  ready: "Running",
  stopping: "Stopping",
  failed: "Failed",
};

export function createProjectsView(user: User, onLogout: () => void): View {
  const body = h("section", { class: "projects", "data-testid": "projects" });
  const el = h(
    "div",
    { class: "page" },
    renderHeader({ user, onLogout }),
    h("main", { class: "page-main" }, h("h1", null, "Projects"), body, createSharedWithMe()),
  );
  let disposed = false;

  const open = async (project: Project, button: HTMLButtonElement, error: HTMLElement) => {
    button.disabled = true;
    error.textContent = "";
    try {
      const session = await startSession(project.name);
      if (!disposed) navigate({ name: "session", id: session.id });
    } catch (failure) {
      error.textContent = errorMessage(failure);
      button.disabled = false;
    }
  };

  const row = (project: Project, session: Session | undefined): HTMLElement => {
    const button = h(
      "button",
      { type: "button", class: "button primary", "data-testid": "project-open" },
      "Open",
    );
    const error = h("span", { class: "row-error", role: "alert", "data-testid": "project-error" });
    button.addEventListener("click", () => void open(project, button, error));
    return h(
      "tr",
      { "data-testid": "project-row", "data-project": project.name },
      h("td", { class: "project-name", "data-testid": "project-name" }, project.name),
      h("td", { "data-testid": "project-branch" }, project.default_branch ?? "—"),
      h(
        "td",
        null,
        h(
          "span",
          { class: `role role-${project.role}`, "data-testid": "project-role" },
          ROLE_LABELS[project.role] ?? project.role,
        ),
      ),
      h(
        "td",
        { "data-testid": "project-session", "data-state": session?.state ?? "none" },
        session ? h("span", { class: `session-state state-${session.state}` }, SESSION_LABELS[session.state] ?? session.state) : "—",
      ),
      h("td", { class: "actions" }, error, button),
    );
  };

  const load = async (): Promise<void> => {
    replaceChildren(body, h("p", { class: "muted" }, "Loading projects…"));
    try {
      // A failed session list only loses the "running" column, never the projects.
      const [projects, sessions] = await Promise.all([listProjects(), listSessions().catch(() => [] as Session[])]);
      const live = new Map(sessions.map((session) => [session.project, session]));
      if (disposed) return;
      if (projects.length === 0) {
        replaceChildren(
          body,
          h("p", { class: "muted", "data-testid": "projects-empty" }, "You are not a member of any project yet."),
        );
        return;
      }
      replaceChildren(
        body,
        h(
          "table",
          { class: "table" },
          h(
            "thead",
            null,
            h("tr", null, h("th", null, "Name"), h("th", null, "Default branch"), h("th", null, "Role"), h("th", null, "Session"), h("th", null, "")),
          ),
          h("tbody", null, projects.map((project) => row(project, live.get(project.name)))),
        ),
      );
    } catch (failure) {
      if (disposed) return;
      const retry = h("button", { type: "button", class: "button" }, "Try again");
      retry.addEventListener("click", () => void load());
      replaceChildren(body, h("p", { class: "form-error", role: "alert" }, errorMessage(failure)), retry);
    }
  };
  void load();

  return {
    el,
    dispose: () => {
      disposed = true;
    },
  };
}
