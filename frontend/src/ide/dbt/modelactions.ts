// Build / Run / Test for the open model, with its scope: this model, +upstream,
// downstream+, or both (`-s +customers+`). The buttons fill nothing in: they run at once
// through the command bar, so the line lands in its history like a typed one.
import { basename, h } from "../../dom";

export type Scope = "model" | "upstream" | "downstream" | "both";

const SCOPES: readonly [Scope, string][] = [
  ["model", "this model"],
  ["upstream", "+upstream"],
  ["downstream", "downstream+"],
  ["both", "+both+"],
];

/** dbt's node selector for a name in a scope. */
export function selectorFor(name: string, scope: Scope): string {
  const up = scope === "upstream" || scope === "both" ? "+" : "";
  const down = scope === "downstream" || scope === "both" ? "+" : "";
  return `${up}${name}${down}`;
}

/** The node a file defines under dbt's default paths, or null (`models/a/b.sql` → `b`). */
export function nodeNameOf(path: string): string | null {
  const match = /^(?:models|snapshots)\/.+\.(?:sql|py)$|^seeds\/.+\.csv$/.exec(path);
  return match ? basename(path).replace(/\.[^.]+$/, "") : null;
}

export class ModelActions {
  readonly el: HTMLElement;
  private readonly scope: HTMLSelectElement;
  private readonly buttons: HTMLButtonElement[] = [];
  private name: string | null = null;
  private readOnly = true;

  constructor(private readonly run: (line: string) => void) {
    this.scope = h("select", { class: "dbt-scope", "aria-label": "Which nodes", "data-testid": "dbt-scope" },
      SCOPES.map(([value, label]) => h("option", { value }, label)));
    this.scope.addEventListener("change", () => this.update());
    for (const command of ["build", "run", "test"]) {
      const button = h("button", { type: "button", class: "button small", "data-testid": `dbt-model-${command}` },
        command[0]!.toUpperCase() + command.slice(1));
      button.addEventListener("click", () => {
        if (this.name) this.run(`${command} -s ${selectorFor(this.name, this.scope.value as Scope)}`);
      });
      this.buttons.push(button);
    }
    this.el = h("div", { class: "dbt-model-actions", "data-testid": "dbt-model-actions" }, this.scope, ...this.buttons);
    this.update();
  }

  /** The open file changed: the buttons act on the node it defines, if any. */
  setFile(path: string | null): void {
    this.name = path === null ? null : nodeNameOf(path);
    this.update();
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly;
    this.update();
  }

  private update(): void {
    const disabled = this.readOnly || this.name === null;
    this.el.dataset.node = this.name ?? "";
    this.scope.disabled = disabled;
    for (const button of this.buttons) {
      button.disabled = disabled;
      button.title = this.name ? `dbt ${button.textContent!.toLowerCase()} -s ${selectorFor(this.name, this.scope.value as Scope)}` : "Open a model to build, run or test it";
    }
  }
}
