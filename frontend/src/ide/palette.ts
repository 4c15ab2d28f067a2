// The command palette: Ctrl/Cmd-P opens a file by fuzzy name, Ctrl/Cmd-Shift-P (or ">"
// typed first) runs a command, "?" outside a text field lists the keyboard shortcuts.
import { h } from "../dom";
import { errorMessage, showNotice } from "../ui/notice";

export interface PaletteCommand {
  id: string;
  title: string;
  /** Shown on the right, and listed with the shortcuts. */
  shortcut?: string;
  /** False hides the command for now (nothing to act on, read-only). */
  available?: () => boolean;
  run: () => unknown;
}

export interface PaletteSource {
  /** The project's files, read once per opening of the palette. */
  files: () => Promise<string[]>;
  openFile: (path: string) => void;
  commands: () => PaletteCommand[];
}

const MAX_SHOWN = 50;

/** The editor's and the IDE's own keys, listed by "?". */
export const SHORTCUTS: [string, string][] = [
  ["Ctrl/Cmd-P", "Open a file by name"],
  ["Ctrl/Cmd-Shift-P", "Run a command"],
  ["Ctrl/Cmd-Shift-F", "Search in files"],
  ["Ctrl/Cmd-S", "Save now (edits also save by themselves)"],
  ["Ctrl/Cmd-Enter", "Preview the query or model"],
  ["Ctrl/Cmd-Shift-Enter", "Compile with dbt"],
  ["Ctrl/Cmd-F", "Find in the file"],
  ["Shift-Alt-F", "Format the open file (SQLFluff or sqlfmt)"],
  ["Ctrl/Cmd-B", "Hide or show the sidebar"],
  ["Ctrl/Cmd-Z, Ctrl/Cmd-Shift-Z", "Undo, redo"],
  ["F2, Delete", "Rename, delete the selected file in the tree"],
  ["?", "This list (outside a text field)"],
  ["Escape", "Close this window"],
];

/**
 * Scores `candidate` against `query` as a subsequence (null: no match). Consecutive
 * characters, matches at word starts and in the file name score higher.
 */
export function fuzzyScore(query: string, candidate: string): number | null {
  const q = query.toLowerCase();
  const c = candidate.toLowerCase();
  if (!q) return 0;
  const nameStart = c.lastIndexOf("/") + 1;
  let score = 0;
  let at = 0;
  let previous = -2;
  for (const char of q) {
    const found = c.indexOf(char, at);
    if (found < 0) return null;
    score += 1;
    if (found === previous + 1) score += 3;
    if (found === 0 || "/_-. ".includes(c[found - 1]!)) score += 2;
    if (found >= nameStart) score += 2;
    previous = found;
    at = found + 1;
  }
  return score - candidate.length / 100;
}

type Mode = "files" | "commands" | "shortcuts";

export class CommandPalette {
  readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly list: HTMLElement;
  private mode: Mode = "files";
  private files: string[] = [];
  private items: { label: string; detail?: string; run: () => unknown }[] = [];
  private selected = 0;
  private generation = 0;

  constructor(private readonly source: PaletteSource) {
    this.input = h("input", {
      type: "text",
      class: "palette-input",
      "data-testid": "palette-input",
      "aria-label": "Command palette",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.list = h("div", { class: "palette-list", role: "listbox", "data-testid": "palette-list" });
    const box = h("div", { class: "palette", role: "dialog", "aria-modal": "true", "data-testid": "palette" }, this.input, this.list);
    this.el = h("div", { class: "palette-backdrop" }, box);
    this.el.hidden = true;
    this.el.addEventListener("mousedown", (event) => {
      if (event.target === this.el) this.close();
    });
    this.input.addEventListener("input", () => this.render());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }

  open(mode: Mode): void {
    const generation = ++this.generation;
    this.mode = mode;
    this.el.hidden = false;
    this.el.dataset.mode = mode;
    this.input.value = mode === "commands" ? ">" : "";
    this.input.hidden = mode === "shortcuts";
    this.input.placeholder = mode === "files" ? "Open a file by name (> for commands)" : "";
    this.render();
    if (mode === "shortcuts") this.list.focus();
    else this.input.focus();
    if (mode === "files") {
      this.el.dataset.loading = "true";
      this.source.files().then(
        (files) => {
          if (generation !== this.generation) return;
          this.files = files;
          this.el.dataset.loading = "false";
          this.render();
        },
        (error) => {
          this.el.dataset.loading = "false";
          showNotice(`Cannot list the files: ${errorMessage(error)}`);
        },
      );
    }
  }

  close(): void {
    this.el.hidden = true;
    this.generation += 1;
  }

  /** The IDE's global keys; true when the key was the palette's. */
  handleKey(event: KeyboardEvent): boolean {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (mod && key === "p") {
      event.preventDefault();
      this.open(event.shiftKey ? "commands" : "files");
      return true;
    }
    if (event.key === "?" && !mod && !isTextField(event.target)) {
      event.preventDefault();
      this.open("shortcuts");
      return true;
    }
    if (event.key === "Escape" && this.isOpen) {
      this.close();
      return true;
    }
    return false;
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.selected = (this.selected + step + this.items.length) % Math.max(1, this.items.length);
      this.highlight();
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.choose(this.selected);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  }

  private choose(index: number): void {
    const item = this.items[index];
    if (!item) return;
    this.close();
    try {
      void Promise.resolve(item.run()).catch((error) => showNotice(errorMessage(error)));
    } catch (error) {
      showNotice(errorMessage(error));
    }
  }

  private render(): void {
    const text = this.input.value;
    if (this.mode !== "shortcuts") this.mode = text.startsWith(">") ? "commands" : "files";
    this.el.dataset.mode = this.mode;
    if (this.mode === "shortcuts") {
      this.items = [];
      this.list.replaceChildren(
        h("div", { class: "palette-heading" }, "Keyboard shortcuts"),
        ...SHORTCUTS.map(([keys, what]) =>
          h("div", { class: "palette-shortcut", "data-testid": "shortcut" }, h("kbd", null, keys), h("span", null, what)),
        ),
      );
      return;
    }
    if (this.mode === "commands") {
      const query = text.slice(1).trim();
      this.items = this.source
        .commands()
        .filter((command) => command.available?.() ?? true)
        .map((command) => ({ command, score: fuzzyScore(query, command.title) }))
        .filter((entry) => entry.score !== null)
        .sort((a, b) => (query ? b.score! - a.score! : 0))
        .map(({ command }) => ({ label: command.title, detail: command.shortcut, run: command.run }));
    } else {
      const query = text.trim();
      const ranked: { path: string; score: number }[] = [];
      for (const path of this.files) {
        const score = fuzzyScore(query, path);
        if (score !== null) ranked.push({ path, score });
      }
      if (query) ranked.sort((a, b) => b.score - a.score);
      this.items = ranked.slice(0, MAX_SHOWN).map(({ path }) => ({
        label: path.split("/").pop() ?? path,
        detail: path,
        run: () => this.source.openFile(path),
      }));
    }
    this.selected = 0;
    const rows = this.items.map((item, index) => {
      const row = h(
        "div",
        {
          class: "palette-item",
          role: "option",
          "data-testid": "palette-item",
          "data-label": item.label,
          "data-detail": item.detail ?? "",
        },
        h("span", { class: "palette-label" }, item.label),
        item.detail ? h("span", { class: "palette-detail muted" }, item.detail) : null,
      );
      row.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.choose(index);
      });
      return row;
    });
    const empty =
      this.mode === "files" && this.el.dataset.loading === "true"
        ? "Listing the files…"
        : this.mode === "files"
          ? "No file matches."
          : "No command matches.";
    this.list.replaceChildren(...(rows.length ? rows : [h("div", { class: "palette-empty muted" }, empty)]));
    this.highlight();
  }

  private highlight(): void {
    const rows = this.list.querySelectorAll<HTMLElement>("[data-testid=palette-item]");
    rows.forEach((row, index) => {
      const on = index === this.selected;
      row.setAttribute("aria-selected", String(on));
      if (on) row.scrollIntoView({ block: "nearest" });
    });
  }
}

function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.closest(".cm-editor") !== null;
}
