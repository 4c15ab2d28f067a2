// The pod's notices about one document, shown over its editor: the file changed on disk
// while this document had unsaved edits (both kept: compare, then keep one), or the
// document grew past what can be saved and opened again.
import type { CollabFile } from "./collab";

interface Conflict {
  message: string;
}

interface TooLarge {
  message: string;
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

  constructor(
    private readonly file: CollabFile,
    private readonly sessionId: string,
    private readonly path: string,
    private readonly readOnly: boolean,
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

  private render(): void {
    const conflict = this.file.state.get("ide_conflict") as Conflict | undefined;
    const tooLarge = this.file.state.get("ide_too_large") as TooLarge | undefined;
    this.el.hidden = !conflict && !tooLarge;
    this.el.replaceChildren();
    if (tooLarge) this.el.append(this.text(tooLarge.message));
    if (!conflict) return;
    this.el.append(this.text(conflict.message));
    if (this.readOnly) return;
    const compare = document.createElement("pre");
    compare.className = "doc-notice-disk";
    compare.hidden = true;
    this.el.append(
      this.button("Compare", async () => {
        compare.textContent = await diskVersion(this.sessionId, this.path);
        compare.hidden = !compare.hidden;
      }),
      this.button("Keep my edits", () => this.file.save()),
      this.button("Use the file on disk", async () => {
        const disk = await diskVersion(this.sessionId, this.path);
        // Made equal to the file, the document is settled: the pod clears the notice.
        this.file.doc.transact(() => {
          this.file.text.delete(0, this.file.text.length);
          this.file.text.insert(0, disk);
        });
      }),
      compare,
    );
  }

  private text(message: string): HTMLElement {
    const el = document.createElement("span");
    el.textContent = message;
    return el;
  }

  private button(label: string, action: () => Promise<unknown>): HTMLButtonElement {
    const el = document.createElement("button");
    el.type = "button";
    el.textContent = label;
    el.addEventListener("click", () => {
      el.disabled = true;
      void action().finally(() => (el.disabled = false));
    });
    return el;
  }
}
