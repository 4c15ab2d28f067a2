// A virtualized results grid: only the rows in view (plus a margin) are in the DOM, so
// 10,000 streamed rows cost as much to show as fifty.
import { h, type View } from "../../dom";

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

  constructor() {
    this.header = h("div", { class: "grid-row grid-header", role: "row" });
    this.rowsHost = h("div", { class: "grid-rows" });
    this.body = h("div", { class: "grid-body", role: "rowgroup" }, this.rowsHost);
    this.el = h("div", { class: "grid", role: "grid", tabindex: "0", "data-testid": "results-grid", "data-rows": "0" }, this.header, this.body);
    this.el.addEventListener("scroll", () => this.schedule(), { passive: true });
  }

  setColumns(columns: Column[]): void {
    this.columns = columns;
    this.rows = [];
    this.widthsFixed = false;
    this.layout([]);
    this.header.replaceChildren(
      h("div", { class: "grid-cell grid-number" }, "#"),
      ...columns.map((column) =>
        h("div", { class: "grid-cell", role: "columnheader", title: `${column.name} (${column.type})`, "data-testid": "results-header-cell" },
          h("span", { class: "grid-name" }, column.name),
          h("span", { class: "grid-type" }, column.type)),
      ),
    );
    this.schedule();
  }

  appendRows(rows: unknown[][]): void {
    this.rows.push(...rows);
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
    const widths = this.columns.map((column, i) => columnWidth(column, samples, i));
    this.template = [NUMBER_WIDTH, ...widths].map((w) => `${w}px`).join(" ");
    this.el.style.setProperty("--grid-columns", this.template);
    this.el.style.setProperty("--grid-width", `${[NUMBER_WIDTH, ...widths].reduce((a, b) => a + b, 0)}px`);
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
      const row = this.rows[index]!;
      rows.push(
        h("div", { class: "grid-row", role: "row", "data-testid": "results-row", "data-index": index },
          h("div", { class: "grid-cell grid-number" }, index + 1),
          ...this.columns.map((_, i) => {
            const value = row[i];
            const text = formatCell(value);
            return h("div", {
              class: `grid-cell${value === null ? " null" : ""}${typeof value === "number" ? " number" : ""}`,
              role: "gridcell",
              title: text.length > 40 ? text : null,
              "data-testid": "results-cell",
            }, text);
          })),
      );
    }
    this.rowsHost.replaceChildren(...rows);
  }
}
