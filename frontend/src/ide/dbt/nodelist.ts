// Per-node results of one invocation as dbt/node reports them, filterable by outcome.
import { h } from "../../dom";
import type { DbtNode } from "../generated/protocol";
import { formatElapsed } from "../results/pane";

export type Outcome = "pass" | "warn" | "error" | "skip";
const OUTCOMES: readonly Outcome[] = ["pass", "warn", "error", "skip"];

/** dbt's node statuses grouped as its summary line counts them. */
export function outcomeOf(status: string): Outcome {
  if (status === "warn") return "warn";
  if (status === "error" || status === "fail" || status === "runtime error") return "error";
  if (status === "skipped" || status === "skip") return "skip";
  return "pass";
}

/** `model.demo.customers` → `customers` with its type; tests keep their full name. */
function nodeLabel(uniqueId: string): { type: string; name: string } {
  const [type = "", , ...rest] = uniqueId.split(".");
  return { type, name: rest.join(".") || uniqueId };
}

export class NodeList {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly filters = new Map<Outcome | "all", HTMLButtonElement>();
  private filter: Outcome | "all" = "all";

  constructor() {
    const bar = h("div", { class: "dbt-filters", role: "group", "aria-label": "Show nodes" });
    for (const outcome of ["all", ...OUTCOMES] as const) {
      const button = h("button", { type: "button", class: "dbt-filter", "data-testid": "dbt-filter", "data-outcome": outcome }, outcome);
      button.addEventListener("click", () => this.setFilter(outcome));
      this.filters.set(outcome, button);
      bar.append(button);
    }
    this.list = h("ol", { class: "dbt-nodes", "data-testid": "dbt-nodes" });
    this.el = h("div", { class: "dbt-node-pane" }, bar, this.list);
    this.setFilter("all");
  }

  clear(): void {
    this.list.replaceChildren();
    this.updateCounts();
  }

  add(node: DbtNode): void {
    const { type, name } = nodeLabel(node.unique_id);
    const outcome = outcomeOf(node.status);
    const item = h(
      "li",
      { class: `dbt-node ${outcome}`, "data-testid": "dbt-node", "data-unique-id": node.unique_id, "data-status": node.status, "data-outcome": outcome, title: node.message ?? node.unique_id },
      h("span", { class: "dbt-node-status" }, node.status),
      h("span", { class: "dbt-node-type" }, type),
      h("span", { class: "dbt-node-name" }, name),
      h("span", { class: "dbt-node-elapsed" }, formatElapsed(node.elapsed_ms)),
    );
    item.hidden = this.filter !== "all" && this.filter !== outcome;
    this.list.append(item);
    this.updateCounts();
  }

  private setFilter(filter: Outcome | "all"): void {
    this.filter = filter;
    for (const [key, button] of this.filters) button.setAttribute("aria-pressed", String(key === filter));
    for (const item of this.list.children) {
      (item as HTMLElement).hidden = filter !== "all" && (item as HTMLElement).dataset.outcome !== filter;
    }
  }

  private updateCounts(): void {
    const counts = new Map<string, number>();
    for (const item of this.list.children) {
      const outcome = (item as HTMLElement).dataset.outcome!;
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    for (const [key, button] of this.filters) {
      const count = key === "all" ? this.list.children.length : (counts.get(key) ?? 0);
      button.textContent = `${key} ${count}`;
      button.dataset.count = String(count);
    }
  }
}
