// Merge conflict markers in the editor: the current and incoming sides highlighted, and
// "Accept current / incoming / both" above each conflict (one edit each, undoable).
import { RangeSetBuilder, StateField, type EditorState, type Extension } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";

export interface Conflict {
  start: number; // line number of <<<<<<<
  middle: number; // line number of =======
  end: number; // line number of >>>>>>>
  base: number | null; // line number of ||||||| (diff3), if any
}

/** The conflicts of a document, by line numbers (1-based). */
export function findConflicts(state: EditorState): Conflict[] {
  const doc = state.doc;
  const found: Conflict[] = [];
  let open: Partial<Conflict> | null = null;
  for (let n = 1; n <= doc.lines; n++) {
    const text = doc.line(n).text;
    if (text.startsWith("<<<<<<<")) open = { start: n, base: null };
    else if (open && text.startsWith("|||||||") && open.middle === undefined) open.base = n;
    else if (open && text.startsWith("=======") && open.middle === undefined) open.middle = n;
    else if (open && open.middle !== undefined && text.startsWith(">>>>>>>")) {
      found.push({ start: open.start!, middle: open.middle, end: n, base: open.base ?? null });
      open = null;
    }
  }
  return found;
}

type Choice = "current" | "incoming" | "both";

function resolve(view: EditorView, conflict: Conflict, choice: Choice): void {
  const doc = view.state.doc;
  const lines = (from: number, to: number): string[] => {
    const out: string[] = [];
    for (let n = from; n <= to; n++) out.push(doc.line(n).text);
    return out;
  };
  const current = lines(conflict.start + 1, (conflict.base ?? conflict.middle) - 1);
  const incoming = lines(conflict.middle + 1, conflict.end - 1);
  const kept = choice === "current" ? current : choice === "incoming" ? incoming : [...current, ...incoming];
  const from = doc.line(conflict.start).from;
  const endLine = doc.line(conflict.end);
  const to = endLine.to < doc.length ? endLine.to + 1 : endLine.to;
  const insert = kept.length ? kept.join("\n") + (endLine.to < doc.length ? "\n" : "") : "";
  view.dispatch({ changes: { from, to, insert }, userEvent: "input.resolve" });
}

class ActionsWidget extends WidgetType {
  constructor(private readonly conflict: Conflict) {
    super();
  }

  override eq(other: ActionsWidget): boolean {
    return other.conflict.start === this.conflict.start && other.conflict.end === this.conflict.end;
  }

  toDOM(view: EditorView): HTMLElement {
    const bar = document.createElement("div");
    bar.className = "cm-conflict-actions";
    bar.dataset.testid = "conflict-actions";
    const labels: [Choice, string][] = [
      ["current", "Accept current"],
      ["incoming", "Accept incoming"],
      ["both", "Accept both"],
    ];
    for (const [choice, label] of labels) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.testid = `conflict-accept-${choice}`;
      button.addEventListener("mousedown", (event) => {
        event.preventDefault();
        // Found again at click time: the document may have changed since this was drawn.
        const now = findConflicts(view.state).find((c) => c.start === this.conflict.start);
        if (now && !view.state.readOnly) resolve(view, now, choice);
      });
      bar.append(button);
    }
    return bar;
  }

  override ignoreEvent(): boolean {
    return true;
  }
}

const marker = Decoration.line({ class: "cm-conflict-marker" });
const currentLine = Decoration.line({ class: "cm-conflict-current" });
const incomingLine = Decoration.line({ class: "cm-conflict-incoming" });

function decorate(state: EditorState): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  const doc = state.doc;
  for (const conflict of findConflicts(state)) {
    const first = doc.line(conflict.start);
    if (!state.readOnly) {
      builder.add(first.from, first.from, Decoration.widget({ widget: new ActionsWidget(conflict), side: -1, block: true }));
    }
    for (let n = conflict.start; n <= conflict.end; n++) {
      const line = doc.line(n);
      const isMarker = n === conflict.start || n === conflict.middle || n === conflict.end || n === conflict.base;
      const inCurrent = n < (conflict.base ?? conflict.middle);
      builder.add(line.from, line.from, isMarker ? marker : inCurrent ? currentLine : incomingLine);
    }
  }
  return builder.finish();
}

// A state field, not a view plugin: block widgets (the actions bar) must come from state.
const conflictField = StateField.define<DecorationSet>({
  create: (state) => decorate(state),
  update: (decorations, transaction) => (transaction.docChanged ? decorate(transaction.state) : decorations),
  provide: (field) => EditorView.decorations.from(field),
});

export const conflictMarkers: Extension = [conflictField];
