// In-page modal dialogs (instead of window.prompt/confirm, which block and are hard to style).
import { h } from "../dom";

interface DialogOptions {
  title: string;
  message?: string;
  /** When set, the dialog has a text field with this initial value. */
  value?: string;
  okLabel?: string;
  danger?: boolean;
  /** Returns an error message to keep the dialog open, or null when the value is fine. */
  validate?: (value: string) => string | null;
}

function openDialog(options: DialogOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const input =
      options.value !== undefined
        ? h("input", {
            type: "text",
            class: "dialog-input",
            "data-testid": "dialog-input",
            spellcheck: "false",
            autocomplete: "off",
          })
        : null;
    if (input) input.value = options.value ?? "";
    const error = h("div", { class: "dialog-error", "data-testid": "dialog-error", role: "alert" });
    const ok = h(
      "button",
      {
        type: "submit",
        class: options.danger ? "button danger" : "button primary",
        "data-testid": "dialog-ok",
      },
      options.okLabel ?? "OK",
    );
    const cancel = h(
      "button",
      { type: "button", class: "button", "data-testid": "dialog-cancel" },
      "Cancel",
    );
    const form = h(
      "form",
      { class: "dialog", role: "dialog", "aria-modal": "true", "data-testid": "dialog" },
      h("h2", null, options.title),
      options.message ? h("p", null, options.message) : null,
      input,
      error,
      h("div", { class: "dialog-actions" }, cancel, ok),
    );
    const backdrop = h("div", { class: "dialog-backdrop" }, form);

    const previousFocus = document.activeElement as HTMLElement | null;
    const close = (result: string | null): void => {
      backdrop.remove();
      previousFocus?.focus?.();
      document.removeEventListener("keydown", onKey, true);
      resolve(result);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") {
        event.preventDefault();
        close(null);
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input ? input.value.trim() : "";
      const problem = input && options.validate ? options.validate(value) : null;
      if (problem) {
        error.textContent = problem;
        return;
      }
      close(value);
    });
    cancel.addEventListener("click", () => close(null));
    backdrop.addEventListener("mousedown", (event) => {
      if (event.target === backdrop) close(null);
    });
    document.addEventListener("keydown", onKey, true);
    document.body.appendChild(backdrop);
    if (input) {
      input.focus();
      // Select the name without its extension, as file managers do.
      const dot = input.value.lastIndexOf(".");
      const slash = input.value.lastIndexOf("/");
      input.setSelectionRange(slash + 1, dot > slash + 1 ? dot : input.value.length);
    } else {
      ok.focus();
    }
  });
}

export function promptDialog(
  title: string,
  value: string,
  options: Omit<DialogOptions, "title" | "value"> = {},
): Promise<string | null> {
  return openDialog({ ...options, title, value });
}

export async function confirmDialog(
  title: string,
  message: string,
  okLabel = "OK",
  danger = false,
): Promise<boolean> {
  return (await openDialog({ title, message, okLabel, danger })) !== null;
}
