// Login with a local username and password (POST /api/auth/login).
import { h, type View } from "../dom";
import { ApiError, login, type User } from "../api";

export function createLoginView(onLoggedIn: (user: User) => void): View {
  const username = h("input", {
    id: "login-username",
    name: "username",
    type: "text",
    autocomplete: "username",
    required: true,
    "data-testid": "login-username",
  });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "login-password",
  });
  const error = h("div", { class: "form-error", role: "alert", "data-testid": "login-error" });
  error.hidden = true;
  const submit = h(
    "button",
    { type: "submit", class: "button primary wide", "data-testid": "login-submit" },
    "Log in",
  );
  const form = h(
    "form",
    { class: "login-card", "data-testid": "login-form" },
    h("h1", null, "Analytics IDE"),
    h("p", { class: "muted" }, "Log in to open your projects."),
    h("label", { for: "login-username" }, "Username"),
    username,
    h("label", { for: "login-password" }, "Password"),
    password,
    error,
    submit,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      onLoggedIn(await login(username.value.trim(), password.value));
    } catch (failure) {
      error.textContent =
        failure instanceof ApiError && failure.status === 401
          ? "Wrong username or password."
          : failure instanceof Error
            ? failure.message
            : "Login failed.";
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });

  const el = h("main", { class: "login-page" }, form);
  queueMicrotask(() => username.focus());
  return { el, dispose: () => undefined };
}
