// The dbt command bar under the editor: type `build -s customers+`, Enter runs it through
// dbt/run; the up/down arrows walk the lines run before; Ctrl-C (with nothing selected) or
// Cancel stops the running command. The pod's refusal (a bad flag: -32602 naming it) is
// shown under the line.
import { h, type View } from "../../dom";
import { errorMessage } from "../../ui/notice";
import { parseCommandLine } from "./commandline";
import { commonPrefix, complete, completesNodes } from "./completion";
import { CommandHistory } from "./history";
import type { DbtInvocations } from "./invocations";
import { ModelActions } from "./modelactions";

export class CommandBar implements View {
  readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly runButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private readonly hints: HTMLElement;
  private readonly history: CommandHistory;
  private readonly modelActions = new ModelActions((line) => void this.submit(line));
  private readonly cleanups: (() => void)[] = [];
  private readOnly = true;

  constructor(
    private readonly invocations: DbtInvocations,
    project: string,
    /** The project's node names, for completing selectors (may be slow the first time). */
    private readonly nodeNames: () => Promise<string[]>,
  ) {
    this.history = new CommandHistory(`ide.dbt.history.${project}`);
    this.input = h("input", {
      class: "dbt-input", type: "text", spellcheck: "false", autocomplete: "off",
      placeholder: "build -s customers+   (Enter runs, Tab completes, ↑ ↓ history, Ctrl-C cancels)",
      "aria-label": "dbt command", "data-testid": "dbt-command",
    });
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => this.showHints([]));
    this.hints = h("div", { class: "dbt-completions", "data-testid": "dbt-completions", hidden: true });
    this.runButton = h("button", { type: "button", class: "button small primary", "data-testid": "dbt-run" }, "Run");
    this.runButton.addEventListener("click", () => void this.submit());
    this.cancelButton = h("button", { type: "button", class: "button small", "data-testid": "dbt-cancel", hidden: true }, "Cancel");
    this.cancelButton.addEventListener("click", () => void this.cancel());
    this.message = h("div", { class: "dbt-command-error", role: "alert", "data-testid": "dbt-command-error", hidden: true });
    this.el = h(
      "div",
      { class: "dbt-command-bar", "data-testid": "dbt-command-bar" },
      h("div", { class: "dbt-command-row" }, h("span", { class: "dbt-prompt" }, "dbt"), this.input, this.runButton, this.cancelButton, this.modelActions.el),
      this.hints,
      this.message,
    );
    const update = (): void => this.update();
    this.cleanups.push(
      invocations.events.on("started", update),
      invocations.events.on("done", update),
      invocations.events.on("refused", update),
    );
    this.setReadOnly(true);
  }

  /** Read-only members cannot run commands (the pod says -32001); say so up front. */
  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    this.modelActions.setReadOnly(readOnly);
    this.input.disabled = readOnly;
    this.runButton.disabled = readOnly;
    if (readOnly) this.input.placeholder = "Read-only members cannot run dbt commands.";
    else this.input.placeholder = "build -s customers+   (Enter runs, Tab completes, ↑ ↓ history, Ctrl-C cancels)";
  }

  /** The open file: Build / Run / Test act on the node it defines. */
  setFile(path: string | null): void {
    this.modelActions.setFile(path);
  }

  focus(): void {
    this.input.focus();
  }

  /** A control of another view in the bar's row (the lineage toggle). */
  addControl(control: HTMLElement): void {
    this.modelActions.el.after(control);
  }

  /** Runs a command line (the typed one, or one given: rerun from the history). */
  async submit(line = this.input.value): Promise<void> {
    if (this.readOnly) return;
    this.showError(null);
    let parsed;
    try {
      parsed = parseCommandLine(line);
    } catch (error) {
      this.showError(errorMessage(error));
      return;
    }
    this.history.add(line.trim());
    this.input.value = "";
    try {
      await this.invocations.run(parsed.command, parsed.args);
    } catch (error) {
      this.showError(errorMessage(error));
      // Keep what was typed, to be corrected.
      if (!this.input.value) this.input.value = line.trim();
    }
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private async cancel(): Promise<void> {
    try {
      if (!(await this.invocations.cancel())) this.showError("The command had already finished.");
    } catch (error) {
      this.showError(`Cannot cancel: ${errorMessage(error)}`);
    }
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === "Tab" && !event.shiftKey && this.input.value.trim()) {
      event.preventDefault();
      void this.completeWord();
    } else if (event.key === "Enter") {
      event.preventDefault();
      void this.submit();
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const line = event.key === "ArrowUp" ? this.history.previous(this.input.value) : this.history.next();
      if (line === null) return;
      event.preventDefault();
      this.input.value = line;
      this.input.setSelectionRange(line.length, line.length);
    } else if (event.key.toLowerCase() === "c" && event.ctrlKey && this.invocations.running
      && this.input.selectionStart === this.input.selectionEnd) {
      event.preventDefault();
      void this.cancel();
    }
  }

  /** Completes the word before the cursor as far as it is unambiguous; lists the options. */
  private async completeWord(): Promise<void> {
    const line = this.input.value;
    const cursor = this.input.selectionStart ?? line.length;
    const nodes = completesNodes(line, cursor) ? await this.nodeNames().catch(() => []) : [];
    // The person may have typed on while the names were read.
    if (this.input.value !== line) return;
    const { from, to, options } = complete(line, cursor, nodes);
    if (options.length === 0) return;
    // A selector method (`tag:`) is completed without the space: its value follows.
    const only = options.length === 1 ? options[0]! : null;
    const text = only !== null ? (only.endsWith(":") ? only : `${only} `) : commonPrefix(options);
    if (text.length < to - from) return;
    this.input.value = line.slice(0, from) + text + line.slice(to);
    const end = from + text.length;
    this.input.setSelectionRange(end, end);
    this.showHints(options.length > 1 ? options : []);
  }

  private showHints(options: readonly string[]): void {
    this.hints.hidden = options.length === 0;
    this.hints.replaceChildren(...options.slice(0, 30).map((option) => h("span", { class: "dbt-completion", "data-testid": "dbt-completion" }, option)));
  }

  private update(): void {
    this.cancelButton.hidden = !this.invocations.running;
    this.el.dataset.running = String(this.invocations.running);
  }

  private showError(text: string | null): void {
    this.message.hidden = text === null;
    this.message.textContent = text ?? "";
  }
}
