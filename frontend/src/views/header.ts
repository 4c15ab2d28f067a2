// The top bar shared by every view once logged in.
import { h, type Child } from "../dom";
import type { User } from "../api";

export interface HeaderOptions {
  user: User;
  onLogout: () => void;
  /** Extra items after the breadcrumb (project name, session actions). */
  context?: Child[];
}

export function renderHeader(options: HeaderOptions): HTMLElement {
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: "#/", "data-testid": "nav-projects" }, "Analytics IDE"),
    h("div", { class: "topbar-context" }, ...(options.context ?? [])),
    h(
      "div",
      { class: "topbar-user" },
      options.user.is_admin
        ? h("a", { class: "button subtle", href: "#/admin/users", "data-testid": "nav-admin" }, "Admin")
        : null,
      h(
        "a",
        {
          class: "user-name",
          href: "#/settings",
          "data-testid": "current-user",
          title: `${options.user.email ?? ""} · account settings`,
        },
        options.user.display_name || options.user.username,
      ),
      h(
        "button",
        { class: "button subtle", type: "button", "data-testid": "logout", onclick: options.onLogout },
        "Log out",
      ),
    ),
  );
}
