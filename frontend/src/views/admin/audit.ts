// Admin: the audit log, newest first, filtered by actor, action and time range.
import { h, replaceChildren } from "../../dom";
import { queryAudit, type AuditEntry } from "./client";
import { field, form, input, section, statusLine, when } from "./forms";

const PAGE = 100;

function isoOf(local: string): string {
  // datetime-local has no zone: it is the browser's local time.
  return local ? new Date(local).toISOString() : "";
}

export function auditTab(): { el: HTMLElement; load: () => Promise<void> } {
  const actor = input("audit-actor", { placeholder: "username" });
  const action = input("audit-action", { placeholder: "e.g. user.disable, or user. for all" });
  const since = input("audit-since", { type: "datetime-local" });
  const until = input("audit-until", { type: "datetime-local" });
  const status = statusLine("audit-status");
  const body = h("tbody");
  const more = h("button", { type: "button", class: "button small", "data-testid": "audit-more" }, "Older entries");
  let last: number | null = null;

  const filters = (): Record<string, string> => ({
    actor: actor.value.trim(),
    action: action.value.trim(),
    since: isoOf(since.value),
    until: isoOf(until.value),
    limit: String(PAGE),
  });
  const row = (e: AuditEntry): HTMLElement =>
    h(
      "tr",
      { "data-testid": "audit-row", "data-action": e.action },
      h("td", null, when(e.at)),
      h("td", { "data-testid": "audit-actor" }, e.actor ?? h("span", { class: "muted" }, "command line")),
      h("td", { class: "mono", "data-testid": "audit-entry-action" }, e.action),
      h("td", { class: "mono audit-detail" }, Object.entries(e.detail).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")),
    );
  const fetchPage = async (append: boolean): Promise<void> => {
    const params = filters();
    if (append && last !== null) params.before = String(last);
    const entries = await queryAudit(params);
    if (append) body.append(...entries.map(row));
    else replaceChildren(body, entries.length ? entries.map(row) : h("tr", null, h("td", { colspan: 4, class: "muted" }, "No entries.")));
    last = entries.length ? entries[entries.length - 1].id : last;
    more.hidden = entries.length < PAGE;
  };
  more.addEventListener("click", () => void fetchPage(true).catch(status.fail));
  const filterForm = form(
    "audit-filter",
    [h("div", { class: "field-grid" }, field("Actor", actor), field("Action", action), field("From", since), field("Until", until))],
    "Filter",
    async () => {
      await fetchPage(false);
    },
  );
  const el = section("Audit log", "admin-audit", filterForm, status.el, h("table", { class: "table", "data-testid": "audit-table" }, h("thead", null, h("tr", null, h("th", null, "When"), h("th", null, "Actor"), h("th", null, "Action"), h("th", null, "Detail"))), body), more);
  const load = (): Promise<void> => fetchPage(false).catch(status.fail);
  return { el, load };
}
