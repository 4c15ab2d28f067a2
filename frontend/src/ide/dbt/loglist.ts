// The streamed log of one invocation: dbt/log lines, coloured by level, following the end
// unless the reader scrolled up.
import { h } from "../../dom";
import type { DbtLog } from "../generated/protocol";

/** Enough to read a long build; the oldest lines go first (the full log is dbt's). */
const MAX_LINES = 5000;

/** dbt colours its status words for terminals; here the line's level gives the colour. */
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

export class LogList {
  readonly el: HTMLElement;

  constructor() {
    this.el = h("div", { class: "dbt-log", "data-testid": "dbt-log", role: "log" });
  }

  clear(): void {
    this.el.replaceChildren();
  }

  add(line: DbtLog): void {
    const atEnd = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 4;
    const time = line.ts ? line.ts.replace(/^.*T/, "").replace(/\..*$/, "") : "";
    this.el.append(h(
      "div",
      { class: `dbt-log-line ${line.level}`, "data-testid": "dbt-log-line", "data-level": line.level },
      h("span", { class: "dbt-log-time" }, time),
      h("span", { class: "dbt-log-msg" }, line.msg.replace(ANSI_ESCAPE, "")),
    ));
    while (this.el.childElementCount > MAX_LINES) this.el.firstElementChild!.remove();
    if (atEnd) this.el.scrollTop = this.el.scrollHeight;
  }
}
