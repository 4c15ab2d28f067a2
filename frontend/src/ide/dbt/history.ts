// The command lines typed into the command bar, newest last, for the up/down arrows. Kept
// in this browser (localStorage) per project, so they outlive a reload; a store that
// cannot be used (private mode, quota) leaves the list in memory only.

const MAX_LINES = 100;

export class CommandHistory {
  private readonly lines: string[];
  /** Where the arrows are: lines.length means "the line being typed". */
  private cursor: number;
  private draft = "";

  constructor(private readonly storageKey: string) {
    this.lines = this.load();
    this.cursor = this.lines.length;
  }

  /** Records a line that was run (a repeat of the last one is not stored twice). */
  add(line: string): void {
    if (this.lines[this.lines.length - 1] !== line) this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.cursor = this.lines.length;
    this.draft = "";
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.lines));
    } catch {
      // Not stored: the list still works for this page.
    }
  }

  /** The line before the shown one (ArrowUp); `current` is kept as the draft. */
  previous(current: string): string | null {
    if (this.cursor === 0) return null;
    if (this.cursor === this.lines.length) this.draft = current;
    this.cursor -= 1;
    return this.lines[this.cursor]!;
  }

  /** The line after the shown one (ArrowDown), and finally the draft again. */
  next(): string | null {
    if (this.cursor >= this.lines.length) return null;
    this.cursor += 1;
    return this.cursor === this.lines.length ? this.draft : this.lines[this.cursor]!;
  }

  private load(): string[] {
    try {
      const stored: unknown = JSON.parse(localStorage.getItem(this.storageKey) ?? "[]");
      return Array.isArray(stored) ? stored.filter((line): line is string => typeof line === "string") : [];
    } catch {
      return [];
    }
  }
}
