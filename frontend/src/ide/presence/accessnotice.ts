// The banner a guest sees when the owner changes their access (the gateway closed a socket
// with 4401/4403 and the session answered with another mode).
import { h } from "../../dom";

export function accessChangedBanner(mode: string, onDismiss: () => void): HTMLElement {
  const dismiss = h("button", { type: "button", class: "button subtle" }, "OK");
  const el = h(
    "div",
    { class: "access-banner", role: "alert", "data-testid": "access-changed" },
    h("span", null, `Your access to this session changed: you can now ${MODE_WORDS[mode] ?? mode}.`),
    dismiss,
  );
  dismiss.addEventListener("click", () => {
    el.remove();
    onDismiss();
  });
  return el;
}

const MODE_WORDS: Record<string, string> = {
  view: "only view files and follow",
  edit: "edit files",
  full: "edit files and run git, previews and dbt",
};
