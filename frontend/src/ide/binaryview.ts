// Files that are not text: images are shown as images, anything else says what it is
// ("binary file, N bytes") instead of an editor error. Read with fs/read_binary.
import { h } from "../dom";
import type { BinaryResult } from "./generated/protocol";

export type ReadBinary = (path: string) => Promise<BinaryResult>;

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  ico: "image/x-icon",
};

export function imageTypeOf(path: string): string | null {
  const ext = path.toLowerCase().split(".").pop() ?? "";
  return IMAGE_TYPES[ext] ?? null;
}

function formatBytes(size: number): string {
  return `${size.toLocaleString("en")} bytes`;
}

export async function imageView(read: ReadBinary, path: string, type: string): Promise<HTMLElement> {
  const file = await read(path);
  if (file.base64 === null) return binaryNote(file);
  const image = h("img", {
    class: "binary-image",
    alt: path,
    "data-testid": "image-view",
    src: `data:${type};base64,${file.base64}`,
  });
  return h("div", { class: "binary-view" }, image, h("div", { class: "muted" }, `${path}, ${formatBytes(file.size)}`));
}

export function binaryNote(file: BinaryResult): HTMLElement {
  return h(
    "div",
    { class: "binary-view editor-message", "data-testid": "binary-view" },
    `Binary file, ${formatBytes(file.size)}: it cannot be edited here.`,
  );
}
