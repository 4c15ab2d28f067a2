// Admin: one project's page (#/admin/projects/<name>): git URL and default branch (checked
// against the remote), deploy token, pull request provider, connection, members and roles, removal.
import { h, replaceChildren } from "../../dom";
import type { Role } from "../../api";
import { navigate } from "../../router";
import { confirmDialog } from "../../ui/dialog";
import { connectionSection } from "./connection";
import { gitProviderSection } from "./gitprovider";
import { addMember, editProject, listAdminProjects, listMembers, listUsers, removeDeployToken, removeMember, removeProject, setDeployToken, setRole } from "./client";
import { actionButton, field, form, input, section, select, statusLine } from "./forms";
import { branchChoices } from "./projects";

const ROLES: readonly Role[] = ["developer", "read-only", "admin"];

function settingsSection(name: string): { el: HTMLElement; fill: (url: string, branch: string) => void } {
  const url = input("project-edit-url");
  const branch = input("project-edit-branch");
  const choices = h("div", { class: "branch-choices", "data-testid": "branch-choices" });
  const el = section(
    "Git",
    "project-git",
    form("project-edit", [h("div", { class: "field-grid" }, field("Git URL", url), field("Default branch", branch, "Checked against the remote.")), choices], "Save", async () => {
      choices.replaceChildren();
      try {
        const view = await editProject(name, { git_url: url.value.trim(), default_branch: branch.value.trim() });
        branch.value = view.default_branch;
      } catch (error) {
        branchChoices(error, branch, choices);
        throw error;
      }
      return "Saved. New sessions use it.";
    }),
  );
  return { el, fill: (u, b) => ((url.value = u), (branch.value = b)) };
}

function deployTokenSection(name: string): { el: HTMLElement; show: (hint: string | null) => void } {
  const state = h("p", { "data-testid": "deploy-token-state" });
  const token = input("deploy-token-input", { type: "password" });
  const status = statusLine("deploy-token-status");
  const remove = actionButton("Remove", "deploy-token-remove", async () => {
    try {
      await removeDeployToken(name);
      show(null);
      status.ok("Removed.");
    } catch (error) {
      status.fail(error);
    }
  });
  const save = actionButton("Save token", "deploy-token-save", async () => {
    try {
      if (!token.value.trim()) throw new Error("Paste a token first.");
      show((await setDeployToken(name, token.value.trim())).hint);
      token.value = "";
      status.ok("Saved.");
    } catch (error) {
      status.fail(error);
    }
  }, "primary");
  const show = (hint: string | null): void => {
    state.textContent = hint ? `A deploy token is set (${hint}).` : "No deploy token: members need tokens of their own for a private remote.";
    remove.hidden = !hint;
  };
  const el = section("Deploy token", "project-deploy-token", state, field("Token", token), h("div", { class: "form-actions" }, save, remove, status.el));
  return { el, show };
}

function membersSection(name: string): { el: HTMLElement; load: () => Promise<void> } {
  const status = statusLine("members-status");
  const body = h("tbody");
  const user = input("member-add-user", { placeholder: "username" });
  const users = h("datalist", { id: `users-${name}` });
  user.setAttribute("list", users.id);
  const role = select("member-add-role", ROLES, "developer");
  const load = async (): Promise<void> => {
    try {
      const members = await listMembers(name);
      replaceChildren(
        body,
        members.map((m) => {
          const roleSelect = select("member-role", ROLES, m.role);
          roleSelect.addEventListener("change", async () => {
            try {
              await setRole(name, m.username, roleSelect.value);
              status.ok(`${m.username} is now ${roleSelect.value}.`);
            } catch (error) {
              roleSelect.value = m.role;
              status.fail(error);
            }
          });
          const remove = actionButton("Remove", "member-remove", async () => {
            if (!(await confirmDialog(`Remove ${m.username} from ${name}?`, "Their sockets on the project close and their session stops; the volume is kept.", "Remove", true))) return;
            try {
              await removeMember(name, m.username);
              status.ok(`${m.username} removed.`);
              await load();
            } catch (error) {
              status.fail(error);
            }
          }, "small");
          return h("tr", { "data-testid": "member-row", "data-user": m.username }, h("td", { class: "project-name" }, m.username), h("td", null, roleSelect), h("td", { class: "actions" }, remove));
        }),
      );
      const all = await listUsers();
      replaceChildren(users, all.map((u) => h("option", { value: u.username })));
    } catch (error) {
      status.fail(error);
    }
  };
  const add = form("member-add", [users, h("div", { class: "field-grid" }, field("User", user), field("Role", role))], "Add member", async () => {
    await addMember(name, user.value.trim(), role.value);
    const added = user.value.trim();
    user.value = "";
    await load();
    return `${added} is ${role.value} on ${name}.`;
  });
  const el = section("Members", "project-members", status.el, h("table", { class: "table", "data-testid": "members-table" }, h("thead", null, h("tr", null, h("th", null, "User"), h("th", null, "Role"), h("th", null, ""))), body), add);
  return { el, load };
}

function removeSection(name: string): HTMLElement {
  const status = statusLine("project-remove-status");
  const remover = (volumes: "keep" | "delete", label: string, testid: string): HTMLButtonElement =>
    actionButton(label, testid, async () => {
      const message =
        volumes === "delete"
          ? "Every session of the project stops, and every member's volume (their checkout and uncommitted work) is deleted."
          : "Every session of the project stops; the members' volumes are kept on the server.";
      if (!(await confirmDialog(`Remove ${name}?`, message, "Remove project", true))) return;
      try {
        await removeProject(name, volumes);
        navigate({ name: "admin", tab: "projects" });
      } catch (error) {
        status.fail(error);
      }
    }, "danger");
  return section("Remove the project", "project-remove", h("div", { class: "form-actions" }, remover("keep", "Remove, keep volumes", "project-remove-keep"), remover("delete", "Remove and delete volumes", "project-remove-delete"), status.el));
}

export function projectPage(name: string): { el: HTMLElement; load: () => Promise<void> } {
  const settings = settingsSection(name);
  const token = deployTokenSection(name);
  const connection = connectionSection(name);
  const provider = gitProviderSection(name);
  const members = membersSection(name);
  const missing = h("p", { class: "form-error", role: "alert" });
  const el = h(
    "div",
    { "data-testid": "admin-project-page", "data-project": name },
    h("p", null, h("a", { href: "#/admin/projects" }, "← All projects")),
    h("h2", { class: "page-subtitle" }, name),
    missing,
    settings.el,
    members.el,
    token.el,
    provider.el,
    connection.el,
    removeSection(name),
  );
  const load = async (): Promise<void> => {
    const project = (await listAdminProjects()).find((p) => p.name === name);
    if (!project) {
      missing.textContent = `There is no project ${name}.`;
      return;
    }
    settings.fill(project.git_url, project.default_branch);
    token.show(project.deploy_token_set ? (project.deploy_token_hint ?? "set") : null);
    await Promise.all([members.load(), connection.load(), provider.load()]);
  };
  return { el, load };
}
