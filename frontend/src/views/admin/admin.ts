// The admin pages (#/admin/<tab>): users, projects (each with its own page), sessions and
// the audit log. Non-admins are told so; the server refuses them anyway.
import { h, type View } from "../../dom";
import type { User } from "../../api";
import type { AdminTab } from "../../router";
import { renderHeader } from "../header";
import { auditTab } from "./audit";
import { projectPage } from "./project";
import { projectsTab } from "./projects";
import { sessionsTab } from "./sessions";
import { usersTab } from "./users";

const TABS: { tab: AdminTab; label: string }[] = [
  { tab: "users", label: "Users" },
  { tab: "projects", label: "Projects" },
  { tab: "sessions", label: "Sessions" },
  { tab: "audit", label: "Audit log" },
];

export function createAdminView(user: User, tab: AdminTab, project: string | null, onLogout: () => void): View {
  const nav = h(
    "nav",
    { class: "admin-tabs", "data-testid": "admin-tabs" },
    TABS.map((t) =>
      h("a", { href: `#/admin/${t.tab}`, class: t.tab === tab ? "admin-tab active" : "admin-tab", "data-testid": `admin-tab-${t.tab}`, "aria-current": t.tab === tab ? "page" : null }, t.label),
    ),
  );
  let content: { el: HTMLElement; load: () => Promise<void> } | null = null;
  if (user.is_admin) {
    if (tab === "projects" && project) content = projectPage(project);
    else if (tab === "projects") content = projectsTab();
    else if (tab === "sessions") content = sessionsTab();
    else if (tab === "audit") content = auditTab();
    else content = usersTab(user.username);
  }
  const main = h(
    "main",
    { class: "page-main", "data-testid": "admin-page" },
    h("h1", null, "Admin"),
    user.is_admin ? nav : null,
    content ? content.el : h("p", { class: "form-error", role: "alert" }, "Only admins may see these pages."),
  );
  const el = h("div", { class: "page" }, renderHeader({ user, onLogout }), main);
  return {
    el,
    start: () => void content?.load(),
    dispose: () => undefined,
  };
}
