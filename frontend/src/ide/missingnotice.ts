// The notice of a tab whose file is gone ("… is not on this branch (it is on X)" / "… was
// deleted"): the same words whether the file vanished under an open document (the room's
// `ide_missing` state) or was already gone when the tab opened (a reload after a branch
// switch: fs/read_binary's not-found data). "Save as file" only when there is text to save.
import { h } from "../dom";
import { RpcError } from "./rpc";

/** Why a file is gone, as the pod says it. */
export interface Missing {
  reason: "branch" | "deleted";
  message: string;
}

/** What the notice can do with a tab whose file is gone. */
export interface MissingActions {
  /** Writes `content` to `path` (then the tab follows that file). */
  saveAs?: (path: string, content: string) => Promise<void>;
  close: () => void;
}

/** The pod's description of a missing file in a not-found error, if it is one. */
export function missingFromError(error: unknown): Missing | null {
  if (!(error instanceof RpcError) || error.code !== -32003) return null;
  return asMissing(error.data);
}

export function asMissing(value: unknown): Missing | null {
  if (!value || typeof value !== "object") return null;
  const { reason, message } = value as Record<string, unknown>;
  if ((reason !== "branch" && reason !== "deleted") || typeof message !== "string") return null;
  return { reason, message };
}

function button(label: string, action: () => Promise<unknown>, testid: string): HTMLButtonElement {
  const el = h("button", { type: "button", "data-testid": testid }, label);
  el.addEventListener("click", () => {
    el.disabled = true;
    void action().finally(() => (el.disabled = false));
  });
  return el;
}

/**
 * The notice's parts for `missing`: the sentence, then "Save as file" (when `text` gives
 * some text and the user may write) and "Close tab".
 */
export function missingNotice(
  missing: Missing,
  path: string,
  options: { readOnly: boolean; text: (() => string) | null; actions: MissingActions },
): HTMLElement[] {
  const saveTo = options.actions.saveAs;
  const canSave = options.text !== null && !options.readOnly && saveTo !== undefined;
  const advice = options.text === null ? "" : " Your text is kept in this tab only: save it as a file or close the tab.";
  const line = h("span", { "data-testid": "doc-missing", "data-reason": missing.reason }, `${missing.message}${advice}`);
  const close = button("Close tab", async () => options.actions.close(), "doc-missing-close");
  if (!canSave || !options.text || !saveTo) return [line, close];
  const text = options.text;
  const target = h("input", { type: "text", class: "doc-notice-path", "data-testid": "doc-missing-path", "aria-label": "Save as" });
  target.value = path;
  const error = h("span", { class: "doc-notice-error", "data-testid": "doc-missing-error", hidden: true });
  const saveAs = async (): Promise<void> => {
    const to = target.value.trim().replace(/^\/+/, "");
    if (!to) return;
    error.hidden = true;
    try {
      await saveTo(to, text());
    } catch (failure) {
      error.textContent = `Not saved: ${failure instanceof Error ? failure.message : String(failure)}`;
      error.hidden = false;
    }
  };
  target.addEventListener("keydown", (event) => {
    if (event.key === "Enter") void saveAs();
  });
  return [line, target, button("Save as file", saveAs, "doc-missing-save"), close, error];
}
