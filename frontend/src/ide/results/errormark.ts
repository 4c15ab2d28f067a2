// Marks where a preview failed in the editor; the mark goes away at the next edit.
import { StateEffect, StateField, type Extension } from "@codemirror/state";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";

export interface SqlPosition {
  line: number; // 1-based, in the previewed SQL
  column: number; // 1-based
}

const setErrorMark = StateEffect.define<{ from: number; to: number } | null>();

const errorLine = Decoration.line({ class: "cm-preview-error-line" });
const errorToken = Decoration.mark({ class: "cm-preview-error", attributes: { "data-testid": "preview-error-mark" } });

const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, transaction) {
    if (transaction.docChanged) marks = Decoration.none;
    for (const effect of transaction.effects) {
      if (!effect.is(setErrorMark)) continue;
      if (effect.value === null) marks = Decoration.none;
      else {
        const { from, to } = effect.value;
        const line = transaction.state.doc.lineAt(from);
        marks = Decoration.set([errorLine.range(line.from), ...(to > from ? [errorToken.range(from, to)] : [])]);
      }
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

export const previewErrorMarks: Extension = errorField;

/** The offset of `position` inside `sql`, clamped to its text. */
export function offsetIn(sql: string, position: SqlPosition): number {
  const lines = sql.split("\n");
  const lineIndex = Math.min(Math.max(position.line, 1), lines.length) - 1;
  let offset = 0;
  for (let i = 0; i < lineIndex; i++) offset += lines[i]!.length + 1;
  return offset + Math.min(Math.max(position.column - 1, 0), lines[lineIndex]!.length);
}

/** Highlights the word at `sqlStart + position` (the preview ran the text from sqlStart). */
export function markPreviewError(view: EditorView, sql: string, sqlStart: number, position: SqlPosition): void {
  const doc = view.state.doc;
  const from = Math.min(sqlStart + offsetIn(sql, position), doc.length);
  const word = view.state.wordAt(from);
  const to = word && word.from === from ? word.to : Math.min(from + 1, doc.lineAt(from).to);
  view.dispatch({ effects: [setErrorMark.of({ from, to }), EditorView.scrollIntoView(from, { y: "center" })] });
}

export function clearPreviewError(view: EditorView): void {
  view.dispatch({ effects: setErrorMark.of(null) });
}
