// The streamed log of one invocation: dbt/log lines, coloured by level, following the end
// unless the reader scrolled up. dbt's debug lines arrive too and are shown on request
// (the "debug" toggle, remembered in this browser): kept, and drawn only while it is on.
import { h } from "../../dom";
import type { DbtLog } from "../generated/protocol";

/** Enough to read a long build; the oldest lines go first (the full log is dbt's). */
const MAX_LINES = 20_000;
const DEBUG_KEY = "ide.dbt.log.debug";

/** dbt colours its status words for terminals; here the line's level gives the colour. */
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

export class LogList {
  readonly el: HTMLElement;
  /** The debug-lines toggle, for the drawer's header. */
  readonly debugToggle: HTMLButtonElement;
  private lines: DbtLog[] = [];
  private debug = false;

  constructor() {
    this.el = h("div", { class: "dbt-log", "data-testid": "dbt-log", role: "log" });
    this.debugToggle = h("button", { type: "button", class: "dbt-filter", "data-testid": "dbt-log-debug", title: "Show dbt's debug lines (the SQL it runs, timings, …)" }, "debug log");
    this.debugToggle.addEventListener("click", () => this.setDebug(this.debugToggle.getAttribute("aria-pressed") !== "true"));
    let stored = false;
    try {
      stored = localStorage.getItem(DEBUG_KEY) === "true";
    } catch {
      // No storage: off.
    }
    this.setDebug(stored, false);
  }

  setDebug(on: boolean, remember = true): void {
    this.debugToggle.setAttribute("aria-pressed", String(on));
    this.el.dataset.debug = String(on);
    if (on !== this.debug) {
      this.debug = on;
      this.el.replaceChildren(...this.lines.filter((line) => this.shows(line)).map((line) => this.render(line)));
      this.el.scrollTop = this.el.scrollHeight;
    }
    if (!remember) return;
    try {
      localStorage.setItem(DEBUG_KEY, String(on));
    } catch {
      // Not remembered; still toggled.
    }
  }

  clear(): void {
    this.lines = [];
    this.el.replaceChildren();
  }

  add(line: DbtLog): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    if (!this.shows(line)) return;
    const atEnd = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 4;
    this.el.append(this.render(line));
    while (this.el.childElementCount > MAX_LINES) this.el.firstElementChild!.remove();
    if (atEnd) this.el.scrollTop = this.el.scrollHeight;
  }

  private shows(line: DbtLog): boolean {
    return this.debug || line.level !== "debug";
  }

  private render(line: DbtLog): HTMLElement {
    const time = line.ts ? line.ts.replace(/^.*T/, "").replace(/\..*$/, "") : "";
    return h(
      "div",
      { class: `dbt-log-line ${line.level}`, "data-testid": "dbt-log-line", "data-level": line.level },
      h("span", { class: "dbt-log-time" }, time),
      h("span", { class: "dbt-log-msg" }, line.msg.replace(ANSI_ESCAPE, "")),
    );
  }
}
