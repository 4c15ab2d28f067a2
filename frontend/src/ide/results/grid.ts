// A virtualized results grid: only the rows in view (plus a margin) are in the DOM, so
// 10,000 streamed rows cost as much to show as fifty. Sorted (on the fetched rows), columns
// resized by dragging their header's edge, cells selected and copied as TSV, the fetched
// rows downloaded as CSV or JSON: all in the browser.
import { h, type View } from "../../dom";
import { compareValues, download, isNumericType, toCsv, toJson, toTsv } from "./export";

export interface Column {
  name: string;
  type: string;
}

const ROW_HEIGHT = 24;
const OVERSCAN = 10;
const NUMBER_WIDTH = 56;

export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function columnWidth(column: Column, samples: unknown[][], index: number): number {
  // The header holds the name and (smaller) the type.
  let chars = column.name.length + Math.min(column.type.length, 14) * 0.8 + 1;
  for (const row of samples) chars = Math.max(chars, formatCell(row[index]).length);
  return Math.max(64, Math.min(360, chars * 7.5 + 20));
}

export class ResultsGrid implements View {
  readonly el: HTMLElement;
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private readonly rowsHost: HTMLElement;
  private columns: Column[] = [];
  private rows: unknown[][] = [];
  private template = "";
  private widthsFixed = false;
  private frame = 0;
  private rendered = { start: -1, end: -1, count: -1 };
  private widths: number[] = [];
  private numeric: boolean[] = [];
  /** Sort: column index and direction; `view` holds row indices in the shown order. */
  private sort: { column: number; direction: 1 | -1 } | null = null;
  private view: number[] | null = null;
  /** Selected cells: a rectangle from anchor to focus, in shown rows × columns. */
  private anchor: { row: number; col: number } | null = null;
  private focusCell: { row: number; col: number } | null = null;
  /** Sort note and export buttons, shown by the pane in its header. */
  readonly tools: HTMLElement;
  private readonly sortNote: HTMLElement;

  constructor() {
    this.header = h("div", { class: "grid-row grid-header", role: "row" });
    this.rowsHost = h("div", { class: "grid-rows" });
    this.body = h("div", { class: "grid-body", role: "rowgroup" }, this.rowsHost);
    this.el = h("div", { class: "grid", role: "grid", tabindex: "0", "data-testid": "results-grid", "data-rows": "0" }, this.header, this.body);
    this.el.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    this.rowsHost.addEventListener("mousedown", (event) => this.onCellDown(event));
    this.sortNote = h("span", { class: "grid-sort-note muted", "data-testid": "results-sort-note" });
    const tool = (label: string, title: string, testid: string, action: () => void): HTMLButtonElement => {
      const button = h("button", { type: "button", class: "button small", title, "data-testid": testid }, label);
      button.addEventListener("click", action);
      return button;
    };
    this.tools = h(
      "span",
      { class: "grid-tools", "data-testid": "results-tools" },
      this.sortNote,
      tool("Copy", "Copy the selected cells (or all fetched rows) as TSV (Ctrl/Cmd-C)", "results-copy", () => void this.copy()),
      tool("CSV", "Download the fetched rows as CSV", "results-csv", () =>
        download("results.csv", "text/csv", toCsv(this.columns, this.shownRows()))),
      tool("JSON", "Download the fetched rows as JSON", "results-json", () =>
        download("results.json", "application/json", toJson(this.columns, this.shownRows()))),
    );
    this.tools.hidden = true;
  }

  /** The fetched rows in the order shown. */
  shownRows(): unknown[][] {
    return this.view ? this.view.map((i) => this.rows[i]!) : this.rows;
  }

  /** The selected cells as TSV (every fetched row with a header when nothing is selected). */
  selectionTsv(): string {
    const rows = this.shownRows();
    if (!this.anchor || !this.focusCell) return toTsv(this.columns, rows);
    const [r0, r1] = [Math.min(this.anchor.row, this.focusCell.row), Math.max(this.anchor.row, this.focusCell.row)];
    const [c0, c1] = [Math.min(this.anchor.col, this.focusCell.col), Math.max(this.anchor.col, this.focusCell.col)];
    return toTsv(null, rows.slice(r0, r1 + 1).map((row) => row.slice(c0, c1 + 1)));
  }

  private async copy(): Promise<void> {
    const text = this.selectionTsv();
    this.el.dataset.copied = text;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission (an http origin): fall back to a selected textarea.
      const area = h("textarea", { class: "grid-copy-buffer" }, text);
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
  }

  private onKey(event: KeyboardEvent): void {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "c") {
      event.preventDefault();
      void this.copy();
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "a") {
      event.preventDefault();
      const count = this.shownRows().length;
      if (!count || !this.columns.length) return;
      this.anchor = { row: 0, col: 0 };
      this.focusCell = { row: count - 1, col: this.columns.length - 1 };
      this.refresh();
    }
  }

  private onCellDown(event: MouseEvent): void {
    const target = (event.target as HTMLElement).closest<HTMLElement>("[data-row]");
    if (!target) return;
    const row = Number(target.dataset.row);
    const col = target.dataset.col === undefined ? -1 : Number(target.dataset.col);
    if (col < 0) {
      // The row number selects the whole row.
      this.anchor = event.shiftKey && this.anchor ? { row: this.anchor.row, col: 0 } : { row, col: 0 };
      this.focusCell = { row, col: this.columns.length - 1 };
    } else if (event.shiftKey && this.anchor) {
      this.focusCell = { row, col };
    } else {
      this.anchor = { row, col };
      this.focusCell = { row, col };
    }
    this.el.focus();
    this.refresh();
  }

  private isSelected(row: number, col: number): boolean {
    if (!this.anchor || !this.focusCell) return false;
    return (
      row >= Math.min(this.anchor.row, this.focusCell.row) &&
      row <= Math.max(this.anchor.row, this.focusCell.row) &&
      col >= Math.min(this.anchor.col, this.focusCell.col) &&
      col <= Math.max(this.anchor.col, this.focusCell.col)
    );
  }

  private refresh(): void {
    this.rendered = { start: -1, end: -1, count: -1 };
    this.schedule();
  }

  private toggleSort(column: number): void {
    if (!this.sort || this.sort.column !== column) this.sort = { column, direction: 1 };
    else if (this.sort.direction === 1) this.sort = { column, direction: -1 };
    else this.sort = null;
    this.anchor = this.focusCell = null;
    this.applySort();
    this.renderHeader();
    this.refresh();
  }

  private applySort(): void {
    const sort = this.sort;
    if (!sort) {
      this.view = null;
      this.sortNote.textContent = "";
      delete this.el.dataset.sort;
      return;
    }
    const numeric = this.numeric[sort.column] ?? false;
    const index = this.rows.map((_, i) => i);
    index.sort((a, b) => compareValues(this.rows[a]![sort.column], this.rows[b]![sort.column], numeric) * sort.direction || a - b);
    this.view = index;
    const name = this.columns[sort.column]?.name ?? "";
    this.el.dataset.sort = `${name}:${sort.direction === 1 ? "asc" : "desc"}`;
    this.sortNote.textContent = `Sorted by ${name} on the ${this.rows.length.toLocaleString()} fetched rows`;
  }

  private renderHeader(): void {
    this.header.replaceChildren(
      h("div", { class: "grid-cell grid-number" }, "#"),
      ...this.columns.map((column, index) => {
        const sorted = this.sort?.column === index ? (this.sort.direction === 1 ? "asc" : "desc") : "none";
        const handle = h("span", { class: "grid-resize", "data-testid": "results-col-resize", title: "Drag to resize" });
        handle.addEventListener("pointerdown", (event) => this.resizeColumn(event, index));
        handle.addEventListener("click", (event) => event.stopPropagation());
        const cell = h(
          "div",
          {
            class: `grid-cell${this.numeric[index] ? " number" : ""}`,
            role: "columnheader",
            title: `${column.name} (${column.type}): click to sort the fetched rows`,
            "aria-sort": sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none",
            "data-testid": "results-header-cell",
            "data-sort": sorted,
            "data-type": column.type,
          },
          h("span", { class: "grid-name" }, column.name),
          h("span", { class: "grid-type", "data-testid": "results-col-type" }, column.type),
          sorted !== "none" ? h("span", { class: "grid-sort" }, sorted === "asc" ? "▲" : "▼") : null,
          handle,
        );
        cell.addEventListener("click", () => this.toggleSort(index));
        return cell;
      }),
    );
  }

  private resizeColumn(start: PointerEvent, index: number): void {
    start.preventDefault();
    start.stopPropagation();
    const startX = start.clientX;
    const startWidth = this.widths[index] ?? 100;
    const move = (event: PointerEvent): void => {
      this.widths[index] = Math.max(40, Math.min(1200, startWidth + event.clientX - startX));
      this.applyWidths();
    };
    const up = (): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  private applyWidths(): void {
    this.template = [NUMBER_WIDTH, ...this.widths].map((w) => `${w}px`).join(" ");
    this.el.style.setProperty("--grid-columns", this.template);
    this.el.style.setProperty("--grid-width", `${[NUMBER_WIDTH, ...this.widths].reduce((a, b) => a + b, 0)}px`);
  }

  setColumns(columns: Column[]): void {
    this.columns = columns;
    this.numeric = columns.map((column) => isNumericType(column.type));
    this.rows = [];
    this.sort = null;
    this.view = null;
    this.anchor = this.focusCell = null;
    this.applySort();
    this.widthsFixed = false;
    this.layout([]);
    this.renderHeader();
    this.tools.hidden = false;
    this.schedule();
  }

  appendRows(rows: unknown[][]): void {
    this.rows.push(...rows);
    if (this.sort) this.applySort();
    // Widths come from the first batch, so columns do not jump while rows stream in.
    if (!this.widthsFixed && this.rows.length) {
      this.layout(this.rows.slice(0, 200));
      this.widthsFixed = true;
    }
    this.el.dataset.rows = String(this.rows.length);
    this.schedule();
  }

  clear(): void {
    this.columns = [];
    this.rows = [];
    this.sort = null;
    this.view = null;
    this.anchor = this.focusCell = null;
    this.applySort();
    this.tools.hidden = true;
    this.header.replaceChildren();
    this.rowsHost.replaceChildren();
    this.el.dataset.rows = "0";
    this.rendered = { start: -1, end: -1, count: -1 };
    this.el.scrollTop = 0;
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
  }

  private layout(samples: unknown[][]): void {
    this.widths = this.columns.map((column, i) => columnWidth(column, samples, i));
    this.applyWidths();
    this.rendered = { start: -1, end: -1, count: -1 };
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const count = this.rows.length;
    this.body.style.height = `${count * ROW_HEIGHT}px`;
    const top = Math.max(0, this.el.scrollTop - this.header.offsetHeight);
    const start = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((this.el.clientHeight || 400) / ROW_HEIGHT) + 2 * OVERSCAN;
    const end = Math.min(count, start + visible);
    const same = this.rendered.start === start && this.rendered.end === end && this.rendered.count === count;
    if (same || (this.rendered.start === start && this.rendered.end === end && end < count)) return;
    this.rendered = { start, end, count };
    this.rowsHost.style.transform = `translateY(${start * ROW_HEIGHT}px)`;
    const rows: HTMLElement[] = [];
    for (let index = start; index < end; index++) {
      const row = this.view ? this.rows[this.view[index]!]! : this.rows[index]!;
      rows.push(
        h("div", { class: "grid-row", role: "row", "data-testid": "results-row", "data-index": index },
          h("div", { class: "grid-cell grid-number", "data-row": index, title: "Select the row" }, index + 1),
          ...this.columns.map((_, i) => {
            const value = row[i];
            const text = formatCell(value);
            const numeric = typeof value === "number" || (this.numeric[i] && value !== null);
            const selected = this.isSelected(index, i);
            return h("div", {
              class: `grid-cell${value === null ? " null" : ""}${numeric ? " number" : ""}${selected ? " selected" : ""}`,
              role: "gridcell",
              title: text.length > 40 ? text : null,
              "data-testid": "results-cell",
              "data-row": index,
              "data-col": i,
              "aria-selected": selected ? "true" : null,
            }, text);
          })),
      );
    }
    this.rowsHost.replaceChildren(...rows);
  }
}
