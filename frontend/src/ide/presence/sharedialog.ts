// The owner's Share dialog: share with a project member in a mode, create an invite link,
// see and revoke current shares.
import { h, replaceChildren } from "../../dom";
import {
  createInvite,
  createShare,
  listShares,
  revokeShare,
  sessionMembers,
  SHARE_MODE_LABELS,
  SHARE_MODES,
  type Share,
  type ShareMode,
} from "../../shares";
import { errorMessage } from "../../ui/notice";

const FULL_WARNING =
  "Full access runs git, previews and dbt commands with your credentials and your warehouse rights.";

function modeSelect(testid: string): HTMLSelectElement {
  const select = h(
    "select",
    { class: "dialog-input", "data-testid": testid },
    SHARE_MODES.map((mode) => h("option", { value: mode }, SHARE_MODE_LABELS[mode])),
  );
  select.value = "edit";
  return select;
}

function warningFor(select: HTMLSelectElement, testid: string): HTMLElement {
  const warning = h("p", { class: "share-warning", "data-testid": testid, role: "note" }, FULL_WARNING);
  const update = (): void => {
    warning.hidden = select.value !== "full";
  };
  select.addEventListener("change", update);
  update();
  return warning;
}

export function openShareDialog(sessionId: string, owner: string): void {
  const error = h("div", { class: "dialog-error", role: "alert", "data-testid": "share-error" });
  const user = h("input", {
    type: "text",
    class: "dialog-input",
    "data-testid": "share-user",
    placeholder: "username of a project member",
    list: "share-members",
    autocomplete: "off",
    spellcheck: "false",
  });
  const members = h("datalist", { id: "share-members" });
  const mode = modeSelect("share-mode");
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": "share-submit" }, "Share");
  const inviteMode = modeSelect("invite-mode");
  const inviteButton = h("button", { type: "button", class: "button", "data-testid": "invite-create" }, "Create invite link");
  const inviteUrl = h("input", { type: "text", class: "dialog-input", readonly: true, "data-testid": "invite-url" });
  const inviteNote = h("p", { class: "muted", "data-testid": "invite-note" });
  const copy = h("button", { type: "button", class: "button", "data-testid": "invite-copy" }, "Copy");
  const inviteResult = h("div", { class: "invite-result" }, inviteUrl, copy);
  inviteResult.hidden = true;
  const shares = h("tbody", { "data-testid": "share-list" });
  const close = h("button", { type: "button", class: "button", "data-testid": "share-close" }, "Close");

  const form = h(
    "form",
    { class: "dialog share-dialog", role: "dialog", "aria-modal": "true", "data-testid": "share-dialog" },
    h("h2", null, "Share this session"),
    h("p", null, "Guests work in your session: your checkout, your branch, your files."),
    h("label", { class: "field" }, h("span", null, "Project member"), user, members),
    h("label", { class: "field" }, h("span", null, "Access"), mode),
    warningFor(mode, "share-full-warning"),
    error,
    h("div", { class: "dialog-actions" }, submit),
    h("h3", null, "Invite link"),
    h("p", null, "Any member of the project can accept it once; it is shown only now."),
    h("div", { class: "invite-row" }, inviteMode, inviteButton),
    warningFor(inviteMode, "invite-full-warning"),
    inviteResult,
    inviteNote,
    h("h3", null, "Shared with"),
    h("table", { class: "table share-table" }, shares),
    h("div", { class: "dialog-actions" }, close),
  );
  const backdrop = h("div", { class: "dialog-backdrop" }, form);

  const refresh = async (): Promise<void> => {
    let current: Share[];
    try {
      current = await listShares(sessionId);
    } catch (failure) {
      replaceChildren(shares, h("tr", null, h("td", { class: "form-error" }, errorMessage(failure))));
      return;
    }
    if (current.length === 0) {
      replaceChildren(shares, h("tr", null, h("td", { class: "muted", "data-testid": "share-none" }, "Nobody yet.")));
      return;
    }
    replaceChildren(shares, current.map(row));
  };

  const row = (share: Share): HTMLElement => {
    const revoke = h("button", { type: "button", class: "button danger", "data-testid": "share-revoke" }, "Revoke");
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      try {
        await revokeShare(sessionId, share.user);
      } catch (failure) {
        error.textContent = errorMessage(failure);
      }
      await refresh();
    });
    const lowered = share.effective_mode !== share.mode ? ` (their role allows ${share.effective_mode})` : "";
    return h(
      "tr",
      { "data-testid": "share-row", "data-user": share.user },
      h("td", null, share.user),
      h("td", { "data-testid": "share-row-mode" }, `${share.mode}${lowered}`),
      h("td", { class: "muted" }, `until ${new Date(share.expires_at).toLocaleString()}`),
      h("td", { class: "actions" }, revoke),
    );
  };

  const dismiss = (): void => {
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === "Escape") dismiss();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = user.value.trim();
    error.textContent = "";
    if (!name) {
      error.textContent = "Name a member of the project.";
      return;
    }
    if (name === owner) {
      error.textContent = "This is your own session.";
      return;
    }
    submit.disabled = true;
    try {
      await createShare(sessionId, name, mode.value as ShareMode);
      user.value = "";
      await refresh();
    } catch (failure) {
      error.textContent = errorMessage(failure);
    } finally {
      submit.disabled = false;
    }
  });
  inviteButton.addEventListener("click", async () => {
    inviteButton.disabled = true;
    try {
      const invite = await createInvite(sessionId, inviteMode.value as ShareMode);
      inviteUrl.value = new URL(invite.url, location.href).href;
      inviteResult.hidden = false;
      inviteNote.textContent = `Valid until ${new Date(invite.expires_at).toLocaleString()}.`;
      inviteUrl.select();
    } catch (failure) {
      inviteNote.textContent = errorMessage(failure);
    } finally {
      inviteButton.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    inviteUrl.select();
    try {
      await navigator.clipboard.writeText(inviteUrl.value);
      copy.textContent = "Copied";
    } catch {
      // No clipboard access (plain HTTP): the text is selected for Ctrl/Cmd-C.
      copy.textContent = "Press Ctrl/Cmd-C";
    }
  });
  close.addEventListener("click", dismiss);
  backdrop.addEventListener("mousedown", (event) => {
    if (event.target === backdrop) dismiss();
  });
  document.addEventListener("keydown", onKey, true);
  document.body.appendChild(backdrop);
  user.focus();
  void refresh();
  void sessionMembers(sessionId).then((list) =>
    replaceChildren(
      members,
      list.map((member) =>
        h("option", { value: member.username }, `${member.display_name || member.username} (${member.role})`),
      ),
    ),
  );
}
