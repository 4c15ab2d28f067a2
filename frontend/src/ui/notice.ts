// Short-lived messages in a corner: errors of background actions a person should see.
import { h } from "../dom";

let region: HTMLElement | null = null;

export function showNotice(message: string, kind: "error" | "info" = "error"): void {
  if (!region || !region.isConnected) {
    region = h("div", { class: "notices", "aria-live": "polite" });
    document.body.appendChild(region);
  }
  const item = h("div", { class: `notice ${kind}`, "data-testid": "notice", role: "status" }, message);
  const dismiss = h("button", { class: "notice-close", "aria-label": "Dismiss" }, "×");
  item.appendChild(dismiss);
  dismiss.addEventListener("click", () => item.remove());
  region.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
