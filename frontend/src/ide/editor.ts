// The CodeMirror view of one open file, bound to its Y.Text with y-codemirror.next.
import { conflictMarkers } from "./conflictmarkers";
import { EditorState, type Extension } from "@codemirror/state";
import {
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import {
  HighlightStyle,
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import {
  type CompletionSource,
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from "@codemirror/autocomplete";
import { tags as t } from "@lezer/highlight";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import type { CollabFile } from "./collab";
import { previewErrorMarks } from "./results/errormark";

// Colours come from CSS variables so one style serves the light and the dark scheme.
const highlightStyle = HighlightStyle.define([
  { tag: [t.keyword, t.operatorKeyword, t.modifier], color: "var(--syn-keyword)", fontWeight: "500" },
  { tag: [t.string, t.special(t.string), t.regexp], color: "var(--syn-string)" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "var(--syn-number)" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: "var(--syn-function)" },
  { tag: [t.typeName, t.className, t.standard(t.name)], color: "var(--syn-type)" },
  { tag: [t.propertyName, t.attributeName], color: "var(--syn-property)" },
  { tag: [t.bracket, t.paren, t.punctuation, t.separator], color: "var(--syn-punct)" },
  // Jinja's `{{ }}`, `{% %}` and `{# #}` delimiters: templating stands out from the SQL.
  { tag: t.brace, color: "var(--syn-meta)", fontWeight: "500" },
  { tag: [t.processingInstruction, t.meta, t.tagName], color: "var(--syn-meta)" },
  { tag: [t.heading], color: "var(--syn-keyword)", fontWeight: "600" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.strong, fontWeight: "600" },
  { tag: t.link, color: "var(--syn-string)", textDecoration: "underline" },
  { tag: t.invalid, color: "var(--danger)" },
]);

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "13px", backgroundColor: "var(--editor-bg)", color: "var(--fg)" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.5" },
  ".cm-content": { caretColor: "var(--fg)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  ".cm-gutters": {
    backgroundColor: "var(--editor-bg)",
    color: "var(--fg-muted)",
    borderRight: "1px solid var(--border)",
  },
  ".cm-activeLine": { backgroundColor: "var(--active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--active-line)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    backgroundColor: "var(--selection) !important",
  },
  ".cm-tooltip": { backgroundColor: "var(--panel-bg)", border: "1px solid var(--border)" },
  ".cm-panels": { backgroundColor: "var(--panel-bg)", color: "var(--fg)" },
});

export interface EditorOptions {
  language: Extension;
  readOnly: boolean;
  onSave: () => void;
  /** Ctrl/Cmd-Enter: preview the selection, or the whole file. */
  onPreview: () => void;
  /** Ctrl/Cmd-Shift-Enter: compile the file with dbt. */
  onCompile: () => void;
  /** Completion beside the language's own (dbt names in a model). */
  completions?: CompletionSource;
}

export function createEditor(file: CollabFile, options: EditorOptions): EditorView {
  const saveKey = {
    key: "Mod-s",
    preventDefault: true,
    run: () => {
      options.onSave();
      return true;
    },
  };
  const previewKey = {
    key: "Mod-Enter",
    preventDefault: true,
    run: () => {
      options.onPreview();
      return true;
    },
  };
  const compileKey = {
    key: "Mod-Shift-Enter",
    preventDefault: true,
    run: () => {
      options.onCompile();
      return true;
    },
  };
  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(highlightStyle),
    bracketMatching(),
    closeBrackets(),
    autocompletion(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    keymap.of([
      saveKey,
      compileKey,
      previewKey,
      ...closeBracketsKeymap,
      ...yUndoManagerKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...foldKeymap,
      ...completionKeymap,
      indentWithTab,
    ]),
    theme,
    options.language,
    previewErrorMarks,
    conflictMarkers,
    yCollab(file.text, file.provider.awareness),
    options.completions ? EditorState.languageData.of(() => [{ autocomplete: options.completions }]) : [],
    EditorState.readOnly.of(options.readOnly),
    EditorView.contentAttributes.of({
      "aria-label": "File contents",
      "data-readonly": String(options.readOnly),
    }),
  ];
  return new EditorView({
    state: EditorState.create({ doc: file.text.toString(), extensions }),
  });
}
