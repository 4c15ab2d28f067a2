// The pod's notices about one document, shown over its editor: the file changed on disk
// while this document had unsaved edits (both kept: compare, then keep one), the
// document grew past what can be saved and opened again, the file is gone (not on this
// branch, deleted: save the text as a file or close the tab), or a save failed.
import type { CollabFile } from "./collab";
import { asMissing, missingNotice, type Missing, type MissingActions } from "./missingnotice";

interface Conflict {
  message: string;
}

interface TooLarge {
  message: string;
}

/** What the notice can do: with a document whose file is gone, and with a conflict. */
export interface NoticeActions extends MissingActions {
  /** The file's text on disk (fs/read: the gateway does not proxy Jupyter's contents API). */
  readDisk?: () => Promise<string>;
}

/** The pod's `ide_missing` state: the file vanished under the document. */
export function missingOf(file: CollabFile): Missing | undefined {
  return asMissing(file.state.get("ide_missing")) ?? undefined;
}

/** The file's content on disk, through the pod's contents API (not the room). */
async function diskVersion(sessionId: string, path: string): Promise<string> {
  const url = `/sessions/${encodeURIComponent(sessionId)}/api/contents/${path
    .split("/")
    .map(encodeURIComponent)
    .join("/")}?type=file&format=text&content=1`;
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`cannot read the file on disk (${response.status})`);
  return ((await response.json()) as { content: string }).content;
}

export class DocumentNotice {
  readonly el = document.createElement("div");
  private readonly unobserve: () => void;
  private saveFailure: string | null = null;

  constructor(
    private readonly file: CollabFile,
    private readonly sessionId: string,
    private readonly path: string,
    private readonly readOnly: boolean,
    private readonly actions: NoticeActions,
  ) {
    this.el.className = "doc-notice";
    this.el.dataset.testid = "doc-notice";
    const render = (): void => this.render();
    file.state.observe(render);
    this.unobserve = () => file.state.unobserve(render);
    this.render();
  }

  destroy(): void {
    this.unobserve();
    this.el.remove();
  }

  /** Shows (or, with null, clears) why the last save wrote nothing. */
  setSaveFailure(message: string | null): void {
    if (message === this.saveFailure) return;
    this.saveFailure = message;
    this.render();
  }

  private render(): void {
    const conflict = this.file.state.get("ide_conflict") as Conflict | undefined;
    const tooLarge = this.file.state.get("ide_too_large") as TooLarge | undefined;
    const missing = missingOf(this.file);
    this.el.hidden = !conflict && !tooLarge && !missing && !this.saveFailure;
    this.el.dataset.missing = missing?.reason ?? "";
    this.el.replaceChildren();
    // The missing notice says it all: a failed save of a vanished file adds nothing.
    if (this.saveFailure && !missing) {
      this.el.append(this.text(this.saveFailure, "save-failure"));
    }
    if (missing) this.renderMissing(missing);
    if (tooLarge) this.el.append(this.text(tooLarge.message));
    if (!conflict) return;
    this.el.append(this.text(conflict.message));
    if (this.readOnly) return;
    const compare = document.createElement("pre");
    compare.className = "doc-notice-disk";
    compare.hidden = true;
    this.el.append(
      this.button("Compare", async () => {
        compare.textContent = await this.disk();
        compare.hidden = !compare.hidden;
      }),
      this.button("Keep my edits", () => this.file.save()),
      this.button("Use the file on disk", async () => {
        const disk = await this.disk();
        // Made equal to the file, the document is settled: the pod clears the notice.
        this.file.doc.transact(() => {
          this.file.text.delete(0, this.file.text.length);
          this.file.text.insert(0, disk);
        });
      }),
      compare,
    );
  }

  private disk(): Promise<string> {
    return this.actions.readDisk ? this.actions.readDisk() : diskVersion(this.sessionId, this.path);
  }

  private renderMissing(missing: Missing): void {
    const text = (): string => this.file.text.toString();
    this.el.append(...missingNotice(missing, this.path, { readOnly: this.readOnly, text, actions: this.actions }));
  }

  private text(message: string, testid?: string): HTMLElement {
    const el = document.createElement("span");
    el.textContent = message;
    if (testid) el.dataset.testid = testid;
    return el;
  }

  private button(label: string, action: () => Promise<unknown>, testid?: string): HTMLButtonElement {
    const el = document.createElement("button");
    el.type = "button";
    el.textContent = label;
    if (testid) el.dataset.testid = testid;
    el.addEventListener("click", () => {
      el.disabled = true;
      void action().finally(() => (el.disabled = false));
    });
    return el;
  }
}
