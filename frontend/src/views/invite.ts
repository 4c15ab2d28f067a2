// `#/invite/<code>`: accepts an invite link, then opens the owner's session.
import { h, replaceChildren, type View } from "../dom";
import type { User } from "../api";
import { navigate } from "../router";
import { acceptInvite } from "../shares";
import { errorMessage } from "../ui/notice";
import { renderHeader } from "./header";

export function createInviteView(user: User, code: string, onLogout: () => void): View {
  const body = h("section", { class: "session-panel", "data-testid": "invite" }, h("p", null, "Accepting the invitation…"));
  const el = h("div", { class: "page" }, renderHeader({ user, onLogout }), h("main", { class: "page-main" }, body));
  let disposed = false;
  void (async () => {
    try {
      const accepted = await acceptInvite(code);
      if (!disposed) navigate({ name: "session", id: accepted.session_id });
    } catch (failure) {
      if (disposed) return;
      replaceChildren(
        body,
        h("h2", null, "This invitation cannot be used"),
        h("p", { class: "form-error", "data-testid": "invite-error" }, errorMessage(failure)),
        h("p", { class: "muted" }, "Invitations expire, work once, and only for members of the project."),
        h("a", { class: "button", href: "#/" }, "Back to projects"),
      );
    }
  })();
  return {
    el,
    dispose: () => {
      disposed = true;
    },
  };
}
