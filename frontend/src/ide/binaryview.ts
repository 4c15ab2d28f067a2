// Files that are not text: images are shown as images, anything else says what it is
// ("binary file, N bytes") instead of an editor error. Read through the pod's contents API.
import { h } from "../dom";

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  ico: "image/x-icon",
  svg: "image/svg+xml",
};

function contentsUrl(sessionId: string, path: string, query: string): string {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `/sessions/${encodeURIComponent(sessionId)}/api/contents/${encoded}?${query}`;
}

export function imageTypeOf(path: string): string | null {
  const ext = path.toLowerCase().split(".").pop() ?? "";
  return IMAGE_TYPES[ext] ?? null;
}

/** The file's size in bytes, or null if the pod cannot say. */
async function sizeOf(sessionId: string, path: string): Promise<number | null> {
  const response = await fetch(contentsUrl(sessionId, path, "type=file&content=0"), { credentials: "same-origin" });
  if (!response.ok) return null;
  const model = (await response.json()) as { size?: number | null };
  return typeof model.size === "number" ? model.size : null;
}

/** True when the file exists and is not UTF-8 text (the pod refuses it as text). */
export async function isBinary(sessionId: string, path: string): Promise<boolean> {
  const response = await fetch(contentsUrl(sessionId, path, "type=file&format=text&content=1"), {
    credentials: "same-origin",
  });
  return response.status === 400;
}

function formatBytes(size: number): string {
  return `${size.toLocaleString("en")} bytes`;
}

export async function imageView(sessionId: string, path: string, type: string): Promise<HTMLElement> {
  const response = await fetch(contentsUrl(sessionId, path, "type=file&format=base64&content=1"), {
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`Cannot open ${path} (${response.status})`);
  const model = (await response.json()) as { content: string; size?: number };
  const image = h("img", {
    class: "binary-image",
    alt: path,
    "data-testid": "image-view",
    src: `data:${type};base64,${model.content.replace(/\s+/g, "")}`,
  });
  return h(
    "div",
    { class: "binary-view" },
    image,
    h("div", { class: "muted" }, typeof model.size === "number" ? `${path}, ${formatBytes(model.size)}` : path),
  );
}

export async function binaryNote(sessionId: string, path: string): Promise<HTMLElement> {
  const size = await sizeOf(sessionId, path);
  return h(
    "div",
    { class: "binary-view editor-message", "data-testid": "binary-view" },
    size === null ? "Binary file: it cannot be edited here." : `Binary file, ${formatBytes(size)}: it cannot be edited here.`,
  );
}
