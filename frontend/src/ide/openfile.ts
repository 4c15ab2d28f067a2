// One tab's file: its collaborative document, its editor view, and its save state.
import type { CompletionSource } from "@codemirror/autocomplete";
import type { EditorView } from "@codemirror/view";
import { CollabFile, type Collaborator, type CollabUser, type SaveStatus } from "./collab";
import { DocumentNotice, missingOf } from "./docnotice";
import { missingFromError, missingNotice, type Missing } from "./missingnotice";
import { binaryNote, imageTypeOf, imageView, type ReadBinary } from "./binaryview";
import { createEditor } from "./editor";
import { h } from "../dom";
import { Emitter } from "../events";
import { languageFor, loadLanguage } from "./languages";
import { errorMessage } from "../ui/notice";

/** How long a room may take to sync before the tab asks whether its file is there at all. */
const SYNC_PROBE_MS = 3000;

export type SaveState =
  | "loading"
  | "saved"
  | "dirty"
  | "saving"
  | "failed"
  | "missing"
  | "gone"
  | "offline"
  | "binary"
  | "error";

export const SAVE_STATE_LABELS: Record<SaveState, string> = {
  loading: "Opening…",
  saved: "Saved",
  dirty: "Unsaved changes",
  saving: "Saving…",
  failed: "Save failed",
  missing: "File gone: edits not saved",
  gone: "File not found",
  offline: "Offline: edits are kept in this tab",
  binary: "Not a text file",
  error: "Cannot open",
};

export interface OpenFileContext {
  sessionId: string;
  user: CollabUser;
  readOnly: boolean;
  /** Runs a preview of the active editor (Ctrl/Cmd-Enter). */
  preview: () => void;
  /** Compiles the active editor's text with dbt (Ctrl/Cmd-Shift-Enter). */
  compile: () => void;
  /** Completion of dbt names (ref, source, macros, columns) in SQL files. */
  dbtCompletions?: CompletionSource;
  /** Writes a tab's text (its file is gone) to `to`, and has the tab follow that file. */
  saveAs?: (from: string, to: string, content: string) => Promise<void>;
  /** Closes the tab of `path`. */
  closeTab?: (path: string) => void;
  /** Reads a file's bytes (images, binary files). */
  readBinary?: ReadBinary;
  /** Reads a file's text on disk. */
  readText?: (path: string) => Promise<string>;
}

export class OpenFile {
  /** Holds the editor; stays the same element across document resets. */
  readonly host: HTMLElement;
  file: CollabFile | null = null;
  view: EditorView | null = null;
  private notice: DocumentNotice | null = null;
  error: string | null = null;
  private saving = 0;
  private lastSave: SaveStatus | null = null;
  private closed = false;
  private generation = 0;
  private resets: number[] = [];
  /** Shown instead of an editor: an image, or a binary file's size. */
  private binary = false;
  /** The file was not there when the tab opened (nothing to save): why, as the pod says. */
  gone: Missing | null = null;
  private readonly events = new Emitter<{ change: () => void }>();

  constructor(
    public path: string,
    private readonly context: OpenFileContext,
  ) {
    this.host = document.createElement("div");
    this.host.className = "editor-host";
    this.host.dataset.testid = "editor";
    this.host.dataset.path = path;
  }

  get dirty(): boolean {
    return this.file?.dirty ?? false;
  }

  /** Opening it again may work (it failed, or its file was not there). */
  get retryable(): boolean {
    return this.error !== null || this.gone !== null;
  }

  get saveState(): SaveState {
    if (this.error) return "error";
    if (this.gone) return "gone";
    if (this.binary) return "binary";
    if (!this.file || !this.view) return "loading";
    if (this.saving > 0) return "saving";
    if (this.file.status !== "connected") return "offline";
    if (missingOf(this.file)) return "missing";
    if (this.lastSave === "failed") return "failed";
    return this.file.dirty ? "dirty" : "saved";
  }

  peers(): Collaborator[] {
    return this.file?.peers() ?? [];
  }

  /** Notified on every change of dirty flag, save state, connection or peers. */
  onChange(listener: () => void): () => void {
    return this.events.on("change", listener);
  }

  async open(): Promise<void> {
    const generation = ++this.generation;
    this.error = null;
    this.gone = null;
    this.binary = false;
    this.host.dataset.synced = "false";
    this.host.replaceChildren(this.message("Opening…"));
    this.notify();
    const image = imageTypeOf(this.path);
    const readBinary = this.context.readBinary;
    if (image && readBinary) {
      try {
        const view = await imageView(readBinary, this.path, image);
        if (this.closed || generation !== this.generation) return;
        this.showBinary(view);
      } catch (error) {
        if (this.closed || generation !== this.generation) return;
        const missing = missingFromError(error);
        if (missing) this.showGone(missing);
        else this.fail(errorMessage(error));
      }
      return;
    }
    let file: CollabFile;
    let language;
    try {
      [file, language] = await Promise.all([
        CollabFile.open(this.context.sessionId, this.path, this.context.user, this.context.readOnly),
        loadLanguage(languageFor(this.path)),
      ]);
    } catch (error) {
      if (this.closed || generation !== this.generation) return;
      if (await this.explainRefusal(generation)) return;
      this.error = errorMessage(error);
      this.host.replaceChildren(this.message(this.error, "editor-error"));
      this.notify();
      return;
    }
    if (this.closed || generation !== this.generation) {
      file.destroy();
      return;
    }
    this.file = file;
    file.on("dirty", () => {
      if (this.lastSave === "failed" && !file.dirty) {
        this.lastSave = null;
        this.notice?.setSaveFailure(null);
      }
      this.notify();
    });
    file.on("status", () => this.notify());
    file.on("peers", () => this.notify());
    file.on("reset", () => void this.reopen());
    file.on("failed", (reason) => {
      void this.explainRefusal(generation).then((shown) => {
        if (!shown && generation === this.generation) this.fail(reason);
      });
    });
    // Build the view from the synced text so the first paint shows the file, not an empty buffer.
    const ready = (): void => {
      if (this.file !== file || this.closed) return;
      this.view = createEditor(file, {
        language,
        readOnly: this.context.readOnly,
        onSave: () => void this.save(),
        onPreview: () => this.context.preview(),
        onCompile: () => this.context.compile(),
        completions: languageFor(this.path) === "sql" ? this.context.dbtCompletions : undefined,
      });
      this.notice = new DocumentNotice(file, this.context.sessionId, this.path, this.context.readOnly, {
        saveAs: async (to, content) => {
          if (!this.context.saveAs) throw new Error("saving elsewhere is not available here");
          await this.context.saveAs(this.path, to, content);
        },
        close: () => this.context.closeTab?.(this.path),
        readDisk: this.context.readText ? () => this.context.readText!(this.path) : undefined,
      });
      this.host.replaceChildren(this.notice.el, this.view.dom);
      this.host.dataset.synced = "true";
      this.notify();
    };
    if (file.synced) ready();
    else {
      file.on("synced", ready);
      // A room whose file vanished as it opened may neither sync nor close: ask once.
      setTimeout(() => {
        if (this.file === file && !file.synced && !this.closed) void this.explainRefusal(generation);
      }, SYNC_PROBE_MS);
    }
  }

  /** The pod's document session changed (e.g. pod restart): start over from a fresh PUT. */
  private async reopen(): Promise<void> {
    // A pod that keeps changing sessions would otherwise have us loop forever.
    const now = Date.now();
    this.resets = this.resets.filter((at) => now - at < 30_000);
    this.resets.push(now);
    if (this.resets.length > 3) {
      this.fail("The document keeps being reset by the server; reopen the file later.");
      return;
    }
    const hadFocus = this.view?.hasFocus ?? false;
    this.teardown();
    await this.open();
    if (hadFocus) this.view?.focus();
  }

  async save(): Promise<SaveStatus> {
    if (!this.file || this.context.readOnly) return "skipped";
    this.saving += 1;
    this.notify();
    const file = this.file;
    try {
      this.lastSave = await file.save();
    } finally {
      this.saving -= 1;
      this.notify();
    }
    // Every failed save is said where the person looks: over the editor.
    if (this.lastSave === "failed" && this.file === file) {
      const why = file.status !== "connected" ? "the connection to the session is down" : "the session could not write the file";
      this.notice?.setSaveFailure(`Save failed: ${why}. Your edits are kept in this tab; try again.`);
    } else if (this.lastSave === "success") {
      this.notice?.setSaveFailure(null);
    }
    return this.lastSave;
  }

  /**
   * A file the room refused, asked about through fs/read_binary (every way of opening a file
   * ends here: tree, palette, search, lineage, a restored tab): a binary file says so and its
   * size; a file that is not there gets the missing-file notice. False: neither, show the error.
   */
  private async explainRefusal(generation: number): Promise<boolean> {
    const read = this.context.readBinary;
    if (!read) return false;
    let file;
    try {
      file = await read(this.path);
    } catch (error) {
      const missing = missingFromError(error);
      if (!missing || this.closed || generation !== this.generation) return false;
      this.teardown();
      this.showGone(missing);
      return true;
    }
    if (file.text || this.closed || generation !== this.generation) return false;
    this.teardown();
    this.showBinary(binaryNote(file));
    return true;
  }

  /** The missing-file notice alone: there is no document, so nothing to save, only to close. */
  private showGone(missing: Missing): void {
    this.gone = missing;
    const notice = h("div", { class: "doc-notice", "data-testid": "doc-notice", "data-missing": missing.reason });
    const close = (): void => this.context.closeTab?.(this.path);
    notice.append(...missingNotice(missing, this.path, { readOnly: this.context.readOnly, text: null, actions: { close } }));
    this.host.replaceChildren(notice);
    this.host.dataset.synced = "true";
    this.notify();
  }

  private showBinary(view: HTMLElement): void {
    this.binary = true;
    this.error = null;
    this.host.replaceChildren(view);
    this.host.dataset.synced = "true";
    this.notify();
  }

  private fail(reason: string): void {
    this.teardown();
    this.error = reason;
    this.host.replaceChildren(this.message(reason, "editor-error"));
    this.notify();
  }

  /** Re-measures after the host was re-attached to the document. */
  shown(): void {
    this.view?.requestMeasure();
  }

  focus(): void {
    this.view?.focus();
  }

  close(): void {
    this.closed = true;
    this.teardown();
    this.events.clear();
  }

  private teardown(): void {
    this.notice?.destroy();
    this.notice = null;
    this.view?.destroy();
    this.view = null;
    this.file?.destroy();
    this.file = null;
    this.lastSave = null;
    this.saving = 0;
    this.host.replaceChildren();
  }

  private message(text: string, testid = "editor-message"): HTMLElement {
    const el = document.createElement("div");
    el.className = "editor-message";
    el.dataset.testid = testid;
    el.textContent = text;
    return el;
  }

  private notify(): void {
    this.events.emit("change");
  }
}
