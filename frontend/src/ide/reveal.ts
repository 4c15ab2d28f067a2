// Puts the cursor at a line and column of a file once its editor is ready, and scrolls to it.
import { EditorSelection } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import type { OpenFile } from "./openfile";

/** `line` and `column` are 1-based; `length` characters from there are selected. */
export function revealAt(file: OpenFile, line: number, column = 1, length = 0): void {
  const apply = (): boolean => {
    const view = file.view;
    if (!view) return false;
    const doc = view.state.doc;
    const target = doc.line(Math.max(1, Math.min(line, doc.lines)));
    const from = Math.min(target.from + Math.max(0, column - 1), target.to);
    const to = Math.min(from + length, target.to);
    view.dispatch({
      selection: EditorSelection.single(from, to),
      effects: EditorView.scrollIntoView(from, { y: "center" }),
    });
    view.focus();
    return true;
  };
  if (apply()) return;
  const stop = file.onChange(() => {
    if (apply()) stop();
  });
  // A file that never opens (an error) must not keep the listener forever.
  setTimeout(stop, 30_000);
}
