// Development credentials per project (the caller's own warehouse login), with
// "Test connection". The password is never shown back: the server only says it is set.
import { h, replaceChildren } from "../../dom";
import { ApiError, listProjects, type Project } from "../../api";
import { errorMessage } from "../../ui/notice";
import {
  deleteCredentials,
  getConnection,
  getCredentials,
  putCredentials,
  testCredentials,
  type Connection,
  type DevCredentials,
} from "../admin/client";
import { actionButton, field, input, section, statusLine } from "../admin/forms";

function describe(connection: Connection | null): string {
  if (!connection) return "No connection configured yet.";
  if (connection.type === "postgres") {
    return `PostgreSQL ${connection.host}${connection.port ? `:${connection.port}` : ""} / ${connection.database}`;
  }
  return "DuckDB (each developer builds into their own database)";
}

function projectCard(project: Project, connection: Connection | null, saved: DevCredentials): HTMLElement {
  const postgres = connection?.type === "postgres";
  const user = input("cred-user", { value: saved.user ?? "", autocomplete: "off" });
  const password = input("cred-password", {
    type: "password",
    autocomplete: "new-password",
    placeholder: saved.password_set ? "set (leave empty to keep it)" : "",
  });
  const schema = input("cred-schema", { value: saved.schema ?? "" });
  const threads = input("cred-threads", { type: "number", value: saved.threads ? String(saved.threads) : "" });
  const status = statusLine("cred-status");
  const state = h("span", { class: "badge", "data-testid": "cred-state" }, saved.password_set ? "password set" : "no password");

  const save = actionButton("Save", "cred-save", async () => {
    status.clear();
    const body: Record<string, unknown> = {};
    if (user.value.trim()) body.user = user.value.trim();
    if (password.value) body.password = password.value;
    if (schema.value.trim()) body.schema = schema.value.trim();
    if (threads.value.trim()) body.threads = Number(threads.value);
    try {
      const answer = await putCredentials(project.name, body);
      password.value = "";
      password.placeholder = answer.password_set ? "set (leave empty to keep it)" : "";
      state.textContent = answer.password_set ? "password set" : "no password";
      status.ok("Saved. New sessions of this project use them.");
    } catch (error) {
      status.fail(error);
    }
  }, "primary");
  const test = actionButton("Test connection", "cred-test", async () => {
    status.clear();
    try {
      const result = await testCredentials(project.name);
      if (result.ok) status.ok(result.message || "Connected.");
      else status.fail(new Error(result.message || "The connection failed."));
    } catch (error) {
      status.fail(error);
    }
  });
  const remove = actionButton("Remove", "cred-remove", async () => {
    status.clear();
    try {
      await deleteCredentials(project.name);
      user.value = schema.value = threads.value = password.value = "";
      password.placeholder = "";
      state.textContent = "no password";
      status.ok("Removed.");
    } catch (error) {
      status.fail(error);
    }
  });

  return h(
    "div",
    { class: "subcard", "data-testid": "cred-project", "data-project": project.name },
    h("h3", null, project.name, " ", state),
    h("p", { class: "muted" }, describe(connection)),
    h(
      "div",
      { class: "field-grid" },
      postgres ? field("User", user) : null,
      postgres ? field("Password", password) : null,
      field(postgres ? "Schema" : "Dev schema", schema),
      field("Threads", threads),
    ),
    h("div", { class: "form-actions" }, save, test, remove, status.el),
  );
}

export function credentialsSection(): { el: HTMLElement; load: () => Promise<void> } {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const el = section(
    "Development credentials",
    "account-credentials",
    h("p", { class: "muted" }, "Your own login to each project's warehouse, used by previews and dbt in your sessions."),
    body,
  );
  const load = async (): Promise<void> => {
    try {
      const projects = await listProjects();
      if (projects.length === 0) {
        replaceChildren(body, h("p", { class: "muted" }, "You are not a member of any project yet."));
        return;
      }
      const cards = await Promise.all(
        projects.map(async (project) => {
          try {
            const [connection, saved] = await Promise.all([
              getConnection(project.name).catch((e: unknown) => {
                if (e instanceof ApiError && e.status === 404) return null;
                throw e;
              }),
              getCredentials(project.name).catch((e: unknown) => {
                if (e instanceof ApiError && e.status === 404) return {} as DevCredentials;
                throw e;
              }),
            ]);
            return projectCard(project, connection?.type ? connection : null, saved ?? {});
          } catch (error) {
            return h("div", { class: "subcard form-error" }, `${project.name}: ${errorMessage(error)}`);
          }
        }),
      );
      replaceChildren(body, cards);
    } catch (error) {
      replaceChildren(body, h("p", { class: "form-error", role: "alert" }, errorMessage(error)));
    }
  };
  return { el, load };
}
