// The account page (#/settings): password, personal git token, development credentials
// per project, and the caller's login sessions with "sign out everywhere".
import { h, replaceChildren, type View } from "../../dom";
import type { User } from "../../api";
import { renderHeader } from "../header";
import { changePassword, endAllLogins, getMe, listLogins, removeGitToken, setGitToken, signInKind } from "../admin/client";
import { actionButton, field, form, input, section, statusLine, when } from "../admin/forms";
import { credentialsSection } from "./credentials";

const MIN_PASSWORD = 8;

function passwordSection(): HTMLElement {
  const current = input("password-current", { type: "password", autocomplete: "current-password" });
  const next = input("password-new", { type: "password", autocomplete: "new-password" });
  const repeat = input("password-repeat", { type: "password", autocomplete: "new-password" });
  return section(
    "Password",
    "account-password",
    form(
      "password-form",
      [field("Current password", current), field("New password", next, `At least ${MIN_PASSWORD} characters.`), field("New password again", repeat)],
      "Change password",
      async () => {
        if (next.value.length < MIN_PASSWORD) throw new Error(`The new password needs at least ${MIN_PASSWORD} characters.`);
        if (next.value !== repeat.value) throw new Error("The two new passwords differ.");
        await changePassword(current.value, next.value);
        current.value = next.value = repeat.value = "";
        return "Password changed. Your other logins were signed out.";
      },
    ),
  );
}

function gitTokenSection(): { el: HTMLElement; show: (hint: string | null) => void } {
  const state = h("p", { "data-testid": "git-token-state" });
  const token = input("git-token-input", { type: "password", autocomplete: "off", placeholder: "a personal access token" });
  const status = statusLine("git-token-status");
  const save = actionButton("Save token", "git-token-save", async () => {
    status.clear();
    try {
      if (!token.value.trim()) throw new Error("Paste a token first.");
      const answer = await setGitToken(token.value.trim());
      token.value = "";
      show(answer.hint);
      status.ok("Saved. New sessions use it for pull and push.");
    } catch (error) {
      status.fail(error);
    }
  }, "primary");
  const remove = actionButton("Remove", "git-token-remove", async () => {
    status.clear();
    try {
      await removeGitToken();
      show(null);
      status.ok("Removed.");
    } catch (error) {
      status.fail(error);
    }
  });
  const show = (hint: string | null): void => {
    state.textContent = hint ? `A token is set (${hint}).` : "No token set: sessions use the project's deploy token, if any.";
    save.textContent = hint ? "Replace token" : "Save token";
    remove.hidden = !hint;
  };
  const el = section(
    "Git token",
    "account-git-token",
    h("p", { class: "muted" }, "Your personal access token for the projects' HTTPS remotes. It is stored encrypted and never shown again."),
    state,
    field("Token", token),
    h("div", { class: "form-actions" }, save, remove, status.el),
  );
  return { el, show };
}

function loginsSection(onSignedOut: () => void): { el: HTMLElement; load: () => Promise<void> } {
  const body = h("tbody");
  const status = statusLine("logins-status");
  const everywhere = actionButton("Sign out everywhere", "logins-end-all", async () => {
    try {
      await endAllLogins();
      onSignedOut();
    } catch (error) {
      status.fail(error);
    }
  }, "danger");
  const el = section(
    "Login sessions",
    "account-logins",
    h("table", { class: "table" }, h("thead", null, h("tr", null, h("th", null, "Signed in"), h("th", null, "Last seen"), h("th", null, "Expires"), h("th", null, ""))), body),
    h("div", { class: "form-actions" }, everywhere, status.el),
  );
  const load = async (): Promise<void> => {
    try {
      const logins = await listLogins();
      replaceChildren(
        body,
        logins.map((l) =>
          h("tr", { "data-testid": "login-row" }, h("td", null, when(l.created_at)), h("td", null, when(l.last_seen)), h("td", null, when(l.expires_at)), h("td", null, l.current ? h("span", { class: "badge" }, "this browser") : "")),
        ),
      );
    } catch (error) {
      status.fail(error);
    }
  };
  return { el, load };
}

export function createAccountView(user: User, onLogout: () => void): View {
  const kind = signInKind(user as unknown as Record<string, unknown>);
  const git = gitTokenSection();
  const credentials = credentialsSection();
  const logins = loginsSection(onLogout);
  const main = h(
    "main",
    { class: "page-main", "data-testid": "account-page" },
    h("h1", null, "Account"),
    h("p", { class: "muted" }, `${user.display_name || user.username} · ${user.username}${user.email ? ` · ${user.email}` : ""}${kind ? ` · ${kind === "SSO" ? "single sign-on" : "local account"}` : ""}`),
    kind === "SSO" ? null : passwordSection(),
    git.el,
    credentials.el,
    logins.el,
  );
  const el = h("div", { class: "page" }, renderHeader({ user, onLogout }), main);
  return {
    el,
    start: () => {
      void getMe()
        .then((me) => git.show(me.git_token_set ? (me.git_token_hint ?? "…") : null))
        .catch(() => git.show(null));
      void credentials.load();
      void logins.load();
    },
    dispose: () => undefined,
  };
}
