// "Shared with me" on the projects page: the sessions other members share with the caller,
// with Join (the owner's session, in the share's mode).
import { h, replaceChildren } from "../dom";
import { navigate } from "../router";
import { sharedWithMe, type SharedSession } from "../shares";
import { errorMessage } from "../ui/notice";

const MODE_LABELS: Record<string, string> = { view: "View", edit: "Edit", full: "Full" };

export function createSharedWithMe(): HTMLElement {
  const body = h("div", { "data-testid": "shared-with-me-body" });
  const el = h(
    "section",
    { class: "shared-with-me", "data-testid": "shared-with-me" },
    h("h2", null, "Shared with me"),
    body,
  );
  el.hidden = true;

  const row = (shared: SharedSession): HTMLElement => {
    const join = h("button", { type: "button", class: "button primary", "data-testid": "shared-join" }, "Join");
    join.disabled = shared.state !== "ready";
    join.title = join.disabled ? `The session is ${shared.state}; the owner has to start it` : "";
    join.addEventListener("click", () => navigate({ name: "session", id: shared.session_id }));
    return h(
      "tr",
      { "data-testid": "shared-row", "data-owner": shared.owner, "data-project": shared.project },
      h("td", { "data-testid": "shared-owner" }, shared.owner_display_name || shared.owner),
      h("td", null, shared.project),
      h("td", null, h("span", { class: "role", "data-testid": "shared-mode" }, MODE_LABELS[shared.mode] ?? shared.mode)),
      h("td", { class: "muted" }, shared.state),
      h("td", { class: "actions" }, join),
    );
  };

  void (async () => {
    try {
      const sessions = await sharedWithMe();
      if (sessions.length === 0) return; // nothing shared: the section stays out of the way
      replaceChildren(
        body,
        h(
          "table",
          { class: "table" },
          h(
            "thead",
            null,
            h("tr", null, h("th", null, "Owner"), h("th", null, "Project"), h("th", null, "Access"), h("th", null, "State"), h("th", null, "")),
          ),
          h("tbody", null, sessions.map(row)),
        ),
      );
      el.hidden = false;
    } catch (failure) {
      // An older gateway without sharing answers 404: say nothing then.
      if ((failure as { status?: number }).status === 404) return;
      replaceChildren(body, h("p", { class: "form-error" }, errorMessage(failure)));
      el.hidden = false;
    }
  })();
  return el;
}
