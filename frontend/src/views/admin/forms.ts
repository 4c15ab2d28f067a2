// Small form pieces shared by the account and admin pages: labelled fields, a status
// line, and a button that runs an async action with its errors shown next to it.
import { h, type Child } from "../../dom";
import { errorMessage } from "../../ui/notice";

let fieldCount = 0;

export function input(
  testid: string,
  options: { type?: string; value?: string; placeholder?: string; autocomplete?: string } = {},
): HTMLInputElement {
  const el = h("input", {
    type: options.type ?? "text",
    "data-testid": testid,
    placeholder: options.placeholder ?? null,
    autocomplete: options.autocomplete ?? "off",
    spellcheck: "false",
  });
  el.value = options.value ?? "";
  return el;
}

export function select(testid: string, values: readonly string[], value?: string): HTMLSelectElement {
  const el = h(
    "select",
    { class: "select", "data-testid": testid },
    values.map((v) => h("option", { value: v }, v)),
  );
  if (value !== undefined) el.value = value;
  return el;
}

/** A label and its control; the label names the control for assistive technology. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `field-${++fieldCount}`;
  control.id = id;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("div", { class: "field-hint muted" }, hint) : null,
  );
}

export function checkbox(label: string, testid: string, checked = false): [HTMLElement, HTMLInputElement] {
  const box = h("input", { type: "checkbox", "data-testid": testid });
  box.checked = checked;
  return [h("label", { class: "check" }, box, " ", label), box];
}

/** A line that says how the last action went. */
export function statusLine(testid: string): {
  el: HTMLElement;
  ok: (text: string) => void;
  fail: (error: unknown) => void;
  clear: () => void;
} {
  const el = h("div", { class: "form-status", role: "status", "data-testid": testid });
  return {
    el,
    ok: (text) => {
      el.className = "form-status ok";
      el.textContent = text;
    },
    fail: (error) => {
      el.className = "form-status form-error";
      el.textContent = errorMessage(error);
    },
    clear: () => {
      el.className = "form-status";
      el.textContent = "";
    },
  };
}

/** A button that disables itself while ``action`` runs. */
export function actionButton(
  label: string,
  testid: string,
  action: () => Promise<void>,
  kind: "" | "primary" | "danger" | "small" = "",
): HTMLButtonElement {
  const button = h("button", { type: "button", class: `button ${kind}`.trim(), "data-testid": testid }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A form whose submit runs ``action``; its status line shows the outcome. */
export function form(
  testid: string,
  children: Child[],
  submitLabel: string,
  action: () => Promise<string | void>,
): HTMLFormElement {
  const status = statusLine(`${testid}-status`);
  const submit = h("button", { type: "submit", class: "button primary", "data-testid": `${testid}-submit` }, submitLabel);
  const el = h("form", { class: "card-form", "data-testid": testid }, ...children, h("div", { class: "form-actions" }, submit, status.el));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.clear();
    try {
      const done = await action();
      if (done) status.ok(done);
    } catch (error) {
      status.fail(error);
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

export function section(title: string, testid: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card", "data-testid": testid }, h("h2", null, title), ...children);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
