// The invocation drawer: the running (or last) invocation of this tab — its summary, its
// per-node results and its streamed log — and, on the History view, the past invocations
// of the session (dbt/history) with Rerun.
import { h, type View } from "../../dom";
import { errorMessage, showNotice } from "../../ui/notice";
import type { DbtDone } from "../generated/protocol";
import { formatElapsed } from "../results/pane";
import { formatCommandLine } from "./commandline";
import { HistoryList } from "./historylist";
import type { DbtInvocations, LiveInvocation } from "./invocations";
import { LogList } from "./loglist";
import { NodeList } from "./nodelist";
import { listStoredInvocations, mergeInvocations, type PastInvocation } from "./stored";

export type InvocationState = "idle" | "running" | "success" | "error" | "cancelled";
type PanelView = "run" | "history";

/** How often the History view reads dbt/history again while an invocation runs. */
const HISTORY_POLL_MS = 2000;

export class InvocationPanel implements View {
  readonly el: HTMLElement;
  private readonly nodes = new NodeList();
  private readonly log = new LogList();
  private readonly history: HistoryList;
  private readonly title: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly runView: HTMLElement;
  private readonly viewButtons = new Map<PanelView, HTMLButtonElement>();
  private readonly cleanups: (() => void)[] = [];
  private shown: LiveInvocation | null = null;
  private historyTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(
    private readonly invocations: DbtInvocations,
    private readonly rerun: (command: string, args: readonly string[]) => void,
    /** The project whose stored history (past sessions too) the History view lists. */
    private readonly project?: string,
  ) {
    this.history = new HistoryList({ rerun, cancel: (id) => void this.cancel(id) });
    this.title = h("code", { class: "dbt-panel-command", "data-testid": "dbt-panel-command" }, "No command run yet");
    this.summary = h("div", { class: "dbt-summary", role: "status", "data-testid": "dbt-summary" });
    const rerunButton = h("button", { type: "button", class: "button small", "data-testid": "dbt-rerun", title: "Run this command again" }, "Rerun");
    rerunButton.addEventListener("click", () => {
      if (this.shown?.command) this.rerun(this.shown.command, this.shown.args);
    });
    const toggle = h("button", { type: "button", class: "icon-button dbt-panel-toggle", title: "Show or hide the dbt panel", "aria-label": "Show or hide the dbt panel", "data-testid": "dbt-panel-toggle" }, "▾");
    toggle.addEventListener("click", () => this.el.classList.toggle("collapsed"));
    this.runView = h("div", { class: "dbt-run-view" }, this.nodes.el, this.log.el);
    this.el = h(
      "section",
      { class: "dbt-panel collapsed", "data-testid": "dbt-panel", "data-state": "idle", "data-view": "run" },
      h("header", { class: "dbt-panel-header" },
        h("strong", null, "dbt"), this.viewButton("run", "Invocation"), this.viewButton("history", "History"),
        this.title, this.summary, this.log.debugToggle, rerunButton, toggle),
      h("div", { class: "dbt-panel-body" }, this.runView, this.history.el),
    );
    this.setView("run");
    const events = invocations.events;
    this.cleanups.push(
      events.on("started", (inv) => {
        // Another tab's run: shown unless this tab's own is still running, in any view.
        if (!inv.foreign) this.showInvocation(inv);
        else if (!this.shown || this.shown.done) this.showInvocation(inv, false);
      }),
      events.on("described", (inv) => {
        if (inv === this.shown) this.title.textContent = this.titleOf(inv);
      }),
      events.on("log", (inv, line) => {
        if (inv === this.shown) this.log.add(line);
      }),
      events.on("node", (inv, node) => {
        if (inv === this.shown) this.nodes.add(node);
      }),
      events.on("done", (inv, done) => {
        if (inv === this.shown) this.finish(done);
        if (this.el.dataset.view === "history") void this.refreshHistory();
      }),
      events.on("refused", (inv) => {
        if (inv === this.shown) this.setState("idle", "Not started");
      }),
    );
  }

  dispose(): void {
    this.disposed = true;
    if (this.historyTimer) clearTimeout(this.historyTimer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private showInvocation(inv: LiveInvocation, switchView = true): void {
    this.shown = inv;
    this.nodes.clear();
    this.log.clear();
    for (const node of inv.nodes) this.nodes.add(node);
    for (const line of inv.log) this.log.add(line);
    this.title.textContent = this.titleOf(inv);
    this.el.dataset.foreign = String(inv.foreign);
    this.el.classList.remove("collapsed");
    if (switchView) this.setView("run");
    this.setState("running", "Running…");
  }

  private titleOf(inv: LiveInvocation): string {
    if (inv.foreign && !inv.command) return "dbt … (started in another tab)";
    const line = formatCommandLine(inv.command, inv.args);
    return inv.foreign ? `${line} (another tab)` : line;
  }

  private finish(done: DbtDone): void {
    const state: InvocationState = done.cancelled ? "cancelled" : done.success ? "success" : "error";
    const label = done.cancelled ? "Cancelled" : done.success ? "Succeeded" : "Failed";
    const { pass, warn, error, skip } = done.counts;
    this.setState(state, label, formatElapsed(done.elapsed_ms), `${pass} pass · ${warn} warn · ${error} error · ${skip} skip`);
  }

  private setState(state: InvocationState, ...parts: string[]): void {
    this.el.dataset.state = state;
    this.summary.dataset.state = state;
    this.summary.replaceChildren(...parts.map((part, i) => h("span", { "data-testid": i === 0 ? "dbt-summary-status" : null }, part)));
  }

  private viewButton(view: PanelView, label: string): HTMLButtonElement {
    const button = h("button", { type: "button", class: "dbt-view-button", "data-testid": `dbt-view-${view}` }, label);
    button.addEventListener("click", () => {
      this.el.classList.remove("collapsed");
      this.setView(view);
      if (view === "history") void this.refreshHistory();
    });
    this.viewButtons.set(view, button);
    return button;
  }

  private setView(view: PanelView): void {
    this.el.dataset.view = view;
    this.runView.hidden = view !== "run";
    this.history.el.hidden = view !== "history";
    for (const [key, button] of this.viewButtons) button.setAttribute("aria-pressed", String(key === view));
  }

  private async cancel(invocationId: string): Promise<void> {
    try {
      if (!(await this.invocations.cancel(invocationId))) showNotice("The command had already finished.", "info");
    } catch (error) {
      showNotice(`Cannot cancel: ${errorMessage(error)}`);
    }
    await this.refreshHistory();
  }

  /** The gateway's index; the session's own history still shows if it cannot be read. */
  private async storedHistory(): Promise<PastInvocation[]> {
    if (!this.project) return [];
    try {
      return await listStoredInvocations(this.project);
    } catch {
      return [];
    }
  }

  /** Shows dbt/history; while one is running (maybe from another tab) and shown, again soon. */
  private async refreshHistory(): Promise<void> {
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = null;
    try {
      const [live, stored] = await Promise.all([this.invocations.history(), this.storedHistory()]);
      const invocations = mergeInvocations(live, stored);
      this.history.show(invocations);
      if (this.disposed || this.el.dataset.view !== "history") return;
      if (invocations.some((inv) => inv.status === "running")) {
        this.historyTimer = setTimeout(() => void this.refreshHistory(), HISTORY_POLL_MS);
      }
    } catch (error) {
      this.history.el.replaceChildren(h("li", { class: "dbt-error", role: "alert" }, `Cannot read the history: ${errorMessage(error)}`));
    }
  }
}
