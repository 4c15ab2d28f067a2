// Past and running invocations of the caller (dbt/history): command, branch, status,
// elapsed, counts; each can be run again, and a running one cancelled (also one started
// from another tab or before a reload: dbt/cancel works from any tab of the session).
import { h } from "../../dom";
import { formatElapsed } from "../results/pane";
import { formatCommandLine } from "./commandline";
import { downloadLinks, type PastInvocation } from "./stored";

export interface HistoryActions {
  rerun(command: string, args: readonly string[]): void;
  cancel(invocationId: string): void;
}

export class HistoryList {
  readonly el: HTMLElement;

  constructor(private readonly actions: HistoryActions) {
    this.el = h("ol", { class: "dbt-history", "data-testid": "dbt-history" });
  }

  show(invocations: readonly PastInvocation[]): void {
    if (invocations.length === 0) {
      this.el.replaceChildren(h("li", { class: "dbt-empty" }, "No dbt command was run in this session yet."));
      return;
    }
    this.el.replaceChildren(...invocations.map((inv) => this.row(inv)));
  }

  private row(inv: PastInvocation): HTMLElement {
    const rerun = h("button", { type: "button", class: "button small", "data-testid": "dbt-history-rerun" }, "Rerun");
    rerun.addEventListener("click", () => this.actions.rerun(inv.command, inv.args));
    let cancel: HTMLElement | null = null;
    if (inv.status === "running") {
      cancel = h("button", { type: "button", class: "button small", "data-testid": "dbt-history-cancel" }, "Cancel");
      cancel.addEventListener("click", () => this.actions.cancel(inv.invocation_id));
    }
    const { pass, warn, error, skip } = inv.counts;
    return h(
      "li",
      { class: `dbt-history-row ${inv.status}`, "data-testid": "dbt-history-row", "data-status": inv.status, "data-invocation": inv.invocation_id },
      h("span", { class: "dbt-history-status" }, inv.status),
      h("code", { class: "dbt-history-command" }, formatCommandLine(inv.command, inv.args)),
      h("span", { class: "muted" }, inv.branch ?? ""),
      h("span", { class: "muted" }, new Date(inv.started_at * 1000).toLocaleTimeString()),
      h("span", { class: "muted" }, inv.elapsed_ms === null ? "running" : formatElapsed(inv.elapsed_ms)),
      h("span", { class: "muted" }, `${pass} pass · ${warn} warn · ${error} error · ${skip} skip`),
      downloadLinks(inv),
      cancel,
      rerun,
    );
  }
}
