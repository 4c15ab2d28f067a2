// Admin: a project's warehouse connection (GET/PUT/DELETE /api/projects/{name}/connection):
// DuckDB with read-only attachments, or PostgreSQL. Passwords are per developer, not here.
import { h, replaceChildren } from "../../dom";
import { ApiError } from "../../api";
import { confirmDialog } from "../../ui/dialog";
import { deleteConnection, getConnection, putConnection, type Connection } from "./client";
import { actionButton, checkbox, field, form, input, section, select, statusLine } from "./forms";

const NO_CONNECTION = "No connection configured yet: previews and dbt commands in this project's sessions say so until one is saved.";

type Attach = { path: string; alias: string; read_only: boolean };

export function connectionSection(project: string): { el: HTMLElement; load: () => Promise<void> } {
  const kind = select("conn-type", ["duckdb", "postgres"], "duckdb");
  const host = input("conn-host");
  const port = input("conn-port", { type: "number", placeholder: "5432" });
  const database = input("conn-database");
  const sslmode = select("conn-sslmode", ["", "disable", "prefer", "require", "verify-ca", "verify-full"], "");
  const attachRows = h("div", { class: "attach-rows", "data-testid": "conn-attach-rows" });
  const postgresFields = h("div", { class: "field-grid" }, field("Host", host), field("Port", port), field("Database", database), field("SSL mode", sslmode));
  const addAttach = h("button", { type: "button", class: "button small", "data-testid": "conn-attach-add" }, "Attach a database");
  const duckdbFields = h("div", null, h("p", { class: "muted" }, "Databases attached to each developer's own DuckDB file, by path on the server."), attachRows, addAttach);
  const note = h("p", { class: "muted", "data-testid": "conn-note" });

  const attachRow = (value: Attach): HTMLElement => {
    const path = input("conn-attach-path", { value: value.path, placeholder: "/srv/warehouse/raw.duckdb" });
    const alias = input("conn-attach-alias", { value: value.alias, placeholder: "raw" });
    const [roLabel, ro] = checkbox("read-only", "conn-attach-ro", value.read_only);
    const remove = h("button", { type: "button", class: "button small", "aria-label": "Remove" }, "×");
    const row = h("div", { class: "attach-row", "data-testid": "conn-attach-row" }, path, alias, roLabel, remove);
    remove.addEventListener("click", () => row.remove());
    (row as HTMLElement & { read?: () => Attach }).read = () => ({ path: path.value.trim(), alias: alias.value.trim(), read_only: ro.checked });
    return row;
  };
  addAttach.addEventListener("click", () => attachRows.append(attachRow({ path: "", alias: "", read_only: true })));

  const showKind = (): void => {
    postgresFields.hidden = kind.value !== "postgres";
    duckdbFields.hidden = kind.value !== "duckdb";
  };
  kind.addEventListener("change", showKind);

  const fill = (c: Connection): void => {
    remove.hidden = false;
    kind.value = c.type;
    if (c.type === "postgres") {
      host.value = c.host ?? "";
      port.value = c.port ? String(c.port) : "";
      database.value = c.database ?? "";
      sslmode.value = c.sslmode ?? "";
    } else {
      replaceChildren(attachRows, (c.attach ?? []).map(attachRow));
    }
    showKind();
  };

  const body = (): Connection => {
    if (kind.value === "postgres") {
      const c: Connection = { type: "postgres", host: host.value.trim(), database: database.value.trim() };
      if (port.value.trim()) c.port = Number(port.value);
      if (sslmode.value) c.sslmode = sslmode.value;
      return c;
    }
    const attach = [...attachRows.children].map((r) => (r as HTMLElement & { read: () => Attach }).read()).filter((a) => a.path);
    return attach.length ? { type: "duckdb", attach } : { type: "duckdb" };
  };

  const clear = (): void => {
    remove.hidden = true;
    kind.value = "duckdb";
    for (const box of [host, port, database]) box.value = "";
    sslmode.value = "";
    replaceChildren(attachRows, []);
    note.textContent = NO_CONNECTION;
    showKind();
  };
  const removed = statusLine("conn-remove-status");
  const remove = actionButton(
    "Remove connection",
    "conn-remove",
    async () => {
      const message = "Sessions started from now on have no warehouse; running ones keep theirs until they restart. Developers' own credentials are kept.";
      if (!(await confirmDialog(`Remove the connection of ${project}?`, message, "Remove connection", true))) return;
      removed.clear();
      try {
        await deleteConnection(project);
        clear();
        removed.ok("Removed.");
      } catch (error) {
        removed.fail(error);
      }
    },
    "danger",
  );
  remove.hidden = true;

  const el = section(
    "Connection",
    "project-connection",
    note,
    form("conn-form", [field("Warehouse", kind), postgresFields, duckdbFields], "Save connection", async () => {
      fill(await putConnection(project, body()));
      note.textContent = "";
      removed.clear();
      return "Saved. New sessions use it.";
    }),
    h("div", { class: "form-actions" }, remove, removed.el),
  );
  showKind();
  const load = async (): Promise<void> => {
    try {
      const connection = await getConnection(project);
      if (connection?.type) fill(connection);
      else note.textContent = "This server does not manage connections per project.";
    } catch (error) {
      note.textContent =
        error instanceof ApiError && error.status === 404 && error.code !== "project_not_found"
          ? NO_CONNECTION
          : error instanceof Error
            ? error.message
            : String(error);
    }
  };
  return { el, load };
}
