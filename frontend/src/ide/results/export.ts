// The fetched rows as text: TSV for the clipboard, CSV and JSON files to download. All in
// the browser, from the rows it holds; nothing goes to the server.
import type { Column } from "./grid";

function plain(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Tab-separated, one line per row; tabs and newlines inside a value become spaces. */
export function toTsv(columns: Column[] | null, rows: unknown[][]): string {
  const clean = (value: unknown): string => plain(value).replace(/[\t\r\n]+/g, " ");
  const lines = rows.map((row) => row.map(clean).join("\t"));
  if (columns) lines.unshift(columns.map((column) => clean(column.name)).join("\t"));
  return lines.join("\n");
}

/** RFC 4180 CSV with a header line; NULL is an empty field. */
export function toCsv(columns: Column[], rows: unknown[][]): string {
  const quote = (value: unknown): string => {
    const text = plain(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.map((c) => quote(c.name)), ...rows.map((row) => row.map(quote))]
    .map((fields) => fields.join(","))
    .join("\r\n") + "\r\n";
}

/** An array of objects keyed by column name (a repeated name gets a suffix). */
export function toJson(columns: Column[], rows: unknown[][]): string {
  const seen = new Map<string, number>();
  const keys = columns.map((column) => {
    const count = seen.get(column.name) ?? 0;
    seen.set(column.name, count + 1);
    return count ? `${column.name}_${count + 1}` : column.name;
  });
  return JSON.stringify(rows.map((row) => Object.fromEntries(keys.map((key, i) => [key, row[i] ?? null]))), null, 2);
}

export function download(filename: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const NUMERIC_TYPE = /^(tiny|small|medium|big|huge|u)?int|integer|^int\d*|decimal|numeric|number|float|double|real|money|hugeint|^u?bigint/i;

/** A column of numbers, by the warehouse's type (DECIMAL values arrive as strings). */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim());
}

/** Compares two cell values for sorting: NULLs last, numbers as numbers. */
export function compareValues(a: unknown, b: unknown, numeric: boolean): number {
  const aNull = a === null || a === undefined;
  const bNull = b === null || b === undefined;
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? 1 : -1;
  if (numeric) {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  }
  return plain(a).localeCompare(plain(b), undefined, { numeric: true });
}
