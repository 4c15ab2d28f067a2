// The branch picker's popup: type to filter, arrow keys and Enter, local and remote
// sections, "Create branch <name>" for a name no branch has, Escape to close.
import { h } from "../../dom";

export interface BranchChoice {
  kind: "local" | "remote" | "create";
  /** What git/checkout takes (local name, origin/x), or the name to create. */
  name: string;
  disabled?: string;
}

export interface BranchLists {
  current: string | null;
  local: string[];
  /** Remote branches with no local branch of the same name, as origin/x. */
  remote: string[];
}

/** The choices shown for `query`: a case-insensitive substring match, then "create". */
export function branchChoices(query: string, lists: BranchLists, validate: (name: string) => string | null): BranchChoice[] {
  const q = query.trim().toLowerCase();
  const match = (name: string): boolean => name.toLowerCase().includes(q);
  const choices: BranchChoice[] = [
    ...lists.local.filter(match).map((name): BranchChoice => ({ kind: "local", name })),
    ...lists.remote.filter(match).map((name): BranchChoice => ({ kind: "remote", name })),
  ];
  const typed = query.trim();
  const exists = lists.local.includes(typed) || lists.remote.includes(`origin/${typed}`) || lists.remote.includes(typed);
  if (typed && !exists) choices.push({ kind: "create", name: typed, disabled: validate(typed) ?? undefined });
  return choices;
}

const SECTION_TITLES = { local: "Local", remote: "Remote", create: "" } as const;

export class BranchMenu {
  readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly list: HTMLElement;
  private readonly footer: HTMLElement;
  private choices: BranchChoice[] = [];
  private active = 0;
  private lists: BranchLists = { current: null, local: [], remote: [] };
  private readonly closeOnOutside = (event: MouseEvent): void => {
    if (!this.el.contains(event.target as Node) && !this.anchor.contains(event.target as Node)) this.close();
  };

  constructor(
    private readonly anchor: HTMLElement,
    private readonly validate: (name: string) => string | null,
    private readonly choose: (choice: BranchChoice) => void,
  ) {
    this.input = h("input", {
      class: "branch-menu-filter",
      type: "text",
      placeholder: "Find or create a branch",
      "aria-label": "Find or create a branch",
      autocomplete: "off",
      spellcheck: "false",
      role: "combobox",
      "aria-expanded": "true",
      "aria-controls": "git-branch-options",
      "data-testid": "git-branch-filter",
    });
    this.list = h("div", { class: "branch-menu-list", role: "listbox", id: "git-branch-options", "data-testid": "git-branch-options" });
    this.footer = h("div", { class: "branch-menu-footer muted", "data-testid": "git-branch-menu-fetch" });
    this.el = h("div", { class: "branch-menu", "data-testid": "git-branch-menu" }, this.input, this.list, this.footer);
    this.el.hidden = true;
    this.input.addEventListener("input", () => this.render(0));
    this.input.addEventListener("keydown", (event) => this.onKey(event));
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }

  /** New lists (after a refresh or a fetch) keep the typed filter. */
  setLists(lists: BranchLists, fetchNote: string): void {
    this.lists = lists;
    this.footer.textContent = fetchNote;
    if (this.isOpen) this.render(this.active);
  }

  open(): void {
    this.el.hidden = false;
    this.anchor.setAttribute("aria-expanded", "true");
    this.input.value = "";
    this.render(0);
    this.input.focus();
    document.addEventListener("mousedown", this.closeOnOutside, true);
  }

  close(refocus = false): void {
    if (!this.isOpen) return;
    this.el.hidden = true;
    this.anchor.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", this.closeOnOutside, true);
    if (refocus) this.anchor.focus();
  }

  private onKey(event: KeyboardEvent): void {
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (event.key in moves) {
      event.preventDefault();
      const last = this.choices.length - 1;
      this.setActive(Math.max(0, Math.min(last, this.active + moves[event.key]!)));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const choice = this.choices[this.active];
      if (choice) this.pick(choice);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // the IDE's own Escape handlers (overlays) stay untouched
      this.close(true);
    }
  }

  private pick(choice: BranchChoice): void {
    if (choice.disabled) return;
    this.close(true);
    this.choose(choice);
  }

  private render(active: number): void {
    this.choices = branchChoices(this.input.value, this.lists, this.validate);
    this.active = Math.min(active, Math.max(0, this.choices.length - 1));
    const rows: HTMLElement[] = [];
    let section: BranchChoice["kind"] | null = null;
    this.choices.forEach((choice, index) => {
      if (choice.kind !== section && choice.kind !== "create") {
        rows.push(h("div", { class: "branch-menu-section", role: "presentation", "data-testid": "git-branch-section", "data-section": choice.kind }, SECTION_TITLES[choice.kind]));
      }
      section = choice.kind;
      rows.push(this.row(choice, index));
    });
    if (!this.choices.length) rows.push(h("div", { class: "branch-menu-empty muted" }, "No branches."));
    this.list.replaceChildren(...rows);
    this.setActive(this.active);
  }

  private setActive(index: number): void {
    this.active = index;
    let shown: HTMLElement | null = null;
    for (const option of this.list.querySelectorAll<HTMLElement>("[role=option]")) {
      const on = option.id === `git-branch-option-${index}`;
      option.setAttribute("aria-selected", String(on));
      if (on) shown = option;
    }
    if (shown) {
      shown.scrollIntoView({ block: "nearest" });
      this.input.setAttribute("aria-activedescendant", shown.id);
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  private row(choice: BranchChoice, index: number): HTMLElement {
    const isCurrent = choice.kind === "local" && choice.name === this.lists.current;
    const label =
      choice.kind === "create"
        ? [h("span", { class: "branch-menu-plus" }, "+"), "Create branch ", h("strong", null, choice.name), choice.disabled ? h("span", { class: "branch-menu-note" }, choice.disabled) : null]
        : [choice.name, isCurrent ? h("span", { class: "branch-menu-note" }, "current") : null];
    const row = h(
      "div",
      {
        class: "branch-menu-option",
        role: "option",
        id: `git-branch-option-${index}`,
        "aria-selected": String(index === this.active),
        "aria-disabled": choice.disabled ? "true" : null,
        "data-testid": choice.kind === "create" ? "git-branch-create" : "git-branch-option",
        "data-branch": choice.name,
        "data-kind": choice.kind,
        "data-current": isCurrent ? "true" : null,
      },
      ...label,
    );
    row.addEventListener("mousedown", (event) => event.preventDefault()); // keep the input's focus
    row.addEventListener("click", () => this.pick(choice));
    row.addEventListener("mousemove", () => this.setActive(index));
    return row;
  }
}
