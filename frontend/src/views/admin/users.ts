// Admin: users. Add, disable and enable, reset a password, make or unmake an admin, remove.
// How a user signs in (SSO or local) and the break-glass flag show when the server has them.
import { h, replaceChildren } from "../../dom";
import { promptDialog, confirmDialog } from "../../ui/dialog";
import { createUser, listUsers, removeUser, resetPassword, setAdmin, setBreakGlass, setDisabled, signInKind, type AdminUser } from "./client";
import { actionButton, checkbox, field, form, input, section, statusLine } from "./forms";

export function usersTab(me: string): { el: HTMLElement; load: () => Promise<void> } {
  const status = statusLine("users-status");
  const table = h("div");
  const name = input("user-add-name");
  const password = input("user-add-password", { type: "password", autocomplete: "new-password" });
  const email = input("user-add-email");
  const [adminLabel, adminBox] = checkbox("Admin", "user-add-admin");

  const run = async (what: () => Promise<unknown>, done: string): Promise<void> => {
    status.clear();
    try {
      await what();
      status.ok(done);
      await load();
    } catch (error) {
      status.fail(error);
    }
  };

  const row = (u: AdminUser, kinds: boolean, breakGlass: boolean): HTMLElement => {
    const actions: HTMLElement[] = [
      actionButton(u.disabled ? "Enable" : "Disable", u.disabled ? "user-enable" : "user-disable", async () => {
        if (!u.disabled && !(await confirmDialog(`Disable ${u.username}?`, "Their logins end, their sessions stop (volumes are kept) and they cannot log in.", "Disable", true))) return;
        await run(() => setDisabled(u.username, !u.disabled), `${u.username} ${u.disabled ? "enabled" : "disabled"}.`);
      }, "small"),
      actionButton("Reset password", "user-reset-password", async () => {
        const value = await promptDialog(`New password for ${u.username}`, "", {
          okLabel: "Set password",
          validate: (v) => (v.length < 8 ? "At least 8 characters." : null),
        });
        if (value) await run(() => resetPassword(u.username, value), `Password of ${u.username} set; their logins ended.`);
      }, "small"),
      actionButton(u.is_admin ? "Remove admin" : "Make admin", u.is_admin ? "user-unadmin" : "user-make-admin", async () => {
        await run(() => setAdmin(u.username, !u.is_admin), `${u.username} is ${u.is_admin ? "no longer an admin" : "an admin"}.`);
      }, "small"),
    ];
    if (typeof u.break_glass === "boolean") {
      const on = u.break_glass;
      actions.push(
        actionButton(on ? "End break-glass" : "Make break-glass", on ? "user-break-glass-off" : "user-break-glass-on", async () => {
          await run(() => setBreakGlass(u.username, !on), `${u.username} ${on ? "is no longer" : "is now"} a break-glass account.`);
        }, "small"),
      );
    }
    actions.push(
      actionButton("Remove", "user-remove", async () => {
        const message =
          "Their logins end, their sessions stop, and their roles, shares, credentials and dbt history are deleted. " +
          "Their volumes (checkouts with uncommitted work) are kept on the server; `ide-server user remove --delete-volumes` deletes them too. " +
          "Someone who can still sign in with single sign-on gets a new account at their next sign-in (with the roles the provider maps): Disable keeps them out.";
        if (!(await confirmDialog(`Remove ${u.username}?`, message, "Remove user", true))) return;
        await run(() => removeUser(u.username, "keep"), `${u.username} removed; their volumes are kept.`);
      }, "small"),
    );
    if (signInKind(u) === "SSO") actions.splice(1, 1); // no local password to reset
    if (u.username === me) for (const b of actions) if (b.dataset.testid !== "user-reset-password") (b as HTMLButtonElement).disabled = true;
    const kind = signInKind(u);
    return h(
      "tr",
      { "data-testid": "user-row", "data-user": u.username },
      h("td", { class: "project-name" }, u.username),
      h("td", null, u.email ?? ""),
      kinds ? h("td", { "data-testid": "user-kind" }, kind ?? "") : null,
      h("td", null, u.is_admin ? h("span", { class: "role role-admin" }, "Admin") : ""),
      breakGlass ? h("td", { "data-testid": "user-break-glass" }, u.break_glass ? "break-glass" : "") : null,
      h("td", { "data-testid": "user-state" }, u.disabled ? h("span", { class: "badge" }, "disabled") : "active"),
      h("td", { class: "actions" }, actions),
    );
  };

  const load = async (): Promise<void> => {
    try {
      const users = await listUsers();
      const kinds = users.some((u) => signInKind(u) !== null);
      const breakGlass = users.some((u) => "break_glass" in u);
      replaceChildren(
        table,
        h(
          "table",
          { class: "table", "data-testid": "users-table" },
          h("thead", null, h("tr", null, h("th", null, "User"), h("th", null, "Email"), kinds ? h("th", null, "Sign-in") : null, h("th", null, "Role"), breakGlass ? h("th", null, "Break-glass") : null, h("th", null, "State"), h("th", null, ""))),
          h("tbody", null, users.map((u) => row(u, kinds, breakGlass))),
        ),
      );
    } catch (error) {
      status.fail(error);
    }
  };

  const add = form(
    "user-add",
    [h("div", { class: "field-grid" }, field("Username", name), field("Password", password, "At least 8 characters."), field("Email", email)), adminLabel],
    "Add user",
    async () => {
      await createUser({ username: name.value.trim(), password: password.value, email: email.value.trim(), is_admin: adminBox.checked });
      const added = name.value.trim();
      name.value = password.value = email.value = "";
      adminBox.checked = false;
      await load();
      return `Created ${added}.`;
    },
  );
  const el = h("div", null, section("Users", "admin-users", status.el, table), section("Add a local user", "admin-user-add", add));
  return { el, load };
}
