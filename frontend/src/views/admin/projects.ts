// Admin: the projects, and adding one. The default branch is checked against the remote;
// when it is missing the server lists the branches the remote has, offered here as choices.
import { h, replaceChildren } from "../../dom";
import { ApiError } from "../../api";
import { addProject, listAdminProjects } from "./client";
import { field, form, input, section, statusLine } from "./forms";

/** The branches of a ``branch_missing`` refusal, as buttons that fill ``target``. */
export function branchChoices(error: unknown, target: HTMLInputElement, into: HTMLElement): void {
  into.replaceChildren();
  const listed = error instanceof ApiError && error.code === "branch_missing" ? error.detail.branches : null;
  const branches = Array.isArray(listed) ? listed.map(String) : [];
  if (branches.length === 0) return;
  into.append(
    h("span", { class: "muted" }, "Branches on the remote: "),
    ...branches.map((b) => {
      const chip = h("button", { type: "button", class: "button small", "data-testid": "branch-choice" }, b);
      chip.addEventListener("click", () => {
        target.value = b;
        into.replaceChildren();
      });
      return chip;
    }),
  );
}

export function projectsTab(): { el: HTMLElement; load: () => Promise<void> } {
  const status = statusLine("projects-status");
  const table = h("div");
  const name = input("project-add-name");
  const url = input("project-add-url", { placeholder: "https://git.example.com/team/analytics.git" });
  const branch = input("project-add-branch", { value: "main" });
  const token = input("project-add-token", { type: "password", autocomplete: "off" });
  const choices = h("div", { class: "branch-choices", "data-testid": "branch-choices" });

  const load = async (): Promise<void> => {
    try {
      const projects = await listAdminProjects();
      replaceChildren(
        table,
        projects.length === 0
          ? h("p", { class: "muted" }, "No projects yet.")
          : h(
              "table",
              { class: "table", "data-testid": "admin-projects-table" },
              h("thead", null, h("tr", null, h("th", null, "Project"), h("th", null, "Git URL"), h("th", null, "Branch"), h("th", null, "Members"), h("th", null, "Deploy token"), h("th", null, ""))),
              h(
                "tbody",
                null,
                projects.map((p) =>
                  h(
                    "tr",
                    { "data-testid": "admin-project-row", "data-project": p.name },
                    h("td", { class: "project-name" }, p.name),
                    h("td", { class: "mono" }, p.git_url),
                    h("td", null, p.default_branch),
                    h("td", null, String(p.members)),
                    h("td", null, p.deploy_token_set ? (p.deploy_token_hint ?? "set") : "—"),
                    h("td", { class: "actions" }, h("a", { class: "button small", href: `#/admin/projects/${encodeURIComponent(p.name)}`, "data-testid": "admin-project-manage" }, "Manage")),
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      status.fail(error);
    }
  };

  const add = form(
    "project-add",
    [
      h("div", { class: "field-grid" }, field("Name", name), field("Git URL", url), field("Default branch", branch, "Checked against the remote."), field("Deploy token (optional)", token, "Used when a member has no token of their own.")),
      choices,
    ],
    "Add project",
    async () => {
      choices.replaceChildren();
      const body: Record<string, string> = { name: name.value.trim(), git_url: url.value.trim(), default_branch: branch.value.trim() };
      if (token.value.trim()) body.deploy_token = token.value.trim();
      try {
        await addProject(body);
      } catch (error) {
        branchChoices(error, branch, choices);
        throw error;
      }
      const added = body.name;
      name.value = url.value = token.value = "";
      branch.value = "main";
      await load();
      return `Added ${added}. Add its members on its page.`;
    },
  );
  const el = h("div", null, section("Projects", "admin-projects", status.el, table), section("Add a project", "admin-project-add", add));
  return { el, load };
}
