// Login with a local username and password (POST /api/auth/login), and "Sign in with
// <provider>" for single sign-on when GET /api/auth/providers offers it.
import { h, type View } from "../dom";
import { ApiError, fetchProviders, login, type AuthProviders, type User } from "../api";

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

  const ssoError = SSO_ERRORS[new URLSearchParams(window.location.search).get("sso_error") ?? ""];
  if (ssoError) {
    error.textContent = ssoError;
    error.hidden = false;
  }

  const el = h("main", { class: "login-page" }, form);
  queueMicrotask(() => username.focus());
  void fetchProviders().then(
    (offered) => offerProviders(form, offered),
    () => undefined, // an older server, or offline: the password form is all there is
  );
  return { el, dispose: () => undefined };
}

// What the callback's error codes mean to a person (docs/api.md); the URL carries the code only.
const SSO_ERRORS: Record<string, string> = {
  bad_state: "That sign-in expired or was started in another browser. Please sign in again.",
  code_refused: "The identity provider refused the sign-in. Please sign in again.",
  invalid_token: "The identity provider's answer could not be verified, so it was refused.",
  sso_refused:
    "Your account may not sign in here (unverified email, an email domain not allowed, or an account disabled here). Ask an admin.",
  provider_unavailable: "The identity provider cannot be reached. Try again in a moment.",
  provider_error: "The identity provider answered with an error. Ask an admin.",
};

function offerProviders(form: HTMLElement, offered: AuthProviders): void {
  const heading = form.querySelector("p.muted");
  const anchor = heading?.nextSibling ?? null;
  // Back to where the user was once signed in (a local path: the server checks it too).
  const next = `/${window.location.hash}`;
  for (const provider of offered.providers) {
    const link = h(
      "a",
      {
        class: "button primary wide",
        href: `${provider.login_url}?next=${encodeURIComponent(next)}`,
        "data-testid": `login-sso-${provider.id}`,
      },
      `Sign in with ${provider.name}`,
    );
    form.insertBefore(link, anchor);
  }
  if (!offered.local && offered.providers.length) {
    // Only break-glass accounts log in with a password: fold the form away.
    const fields = Array.from(form.children).filter(
      (child) => child !== heading && child.tagName !== "H1" && !child.matches("a.button"),
    );
    const details = h(
      "details",
      { class: "login-break-glass", "data-testid": "login-break-glass" },
      h("summary", null, "Break-glass login"),
    );
    for (const field of fields) details.append(field);
    form.append(details);
  } else if (offered.providers.length) {
    form.insertBefore(h("p", { class: "muted login-or" }, "or with a local account"), anchor);
  }
}
