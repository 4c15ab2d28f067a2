// The bottom line: session state, connection, the active file's save state, peers, user.
import { h } from "../dom";
import type { Role, SessionState, User } from "../api";
import type { ConnectionState } from "./rpc";
import type { WarehouseInUse } from "./protocol";
import { SAVE_STATE_LABELS, type OpenFile } from "./openfile";

const CONNECTION_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

export class StatusBar {
  readonly el: HTMLElement;
  private readonly session = h("span", { class: "status-item", "data-testid": "status-session" });
  private readonly connection = h("span", { class: "status-item", "data-testid": "status-connection" });
  private readonly warehouse = h("span", { class: "status-item", "data-testid": "status-warehouse" });
  private readonly saveState = h("span", { class: "status-item", "data-testid": "save-state" });
  private readonly presence = h("span", { class: "status-item presence", "data-testid": "presence" });
  private readonly role = h("span", { class: "status-item", "data-testid": "status-role" });
  private readonly user: HTMLElement;

  constructor(user: User) {
    this.user = h(
      "span",
      { class: "status-item", "data-testid": "status-user", "data-username": user.username },
      user.display_name || user.username,
    );
    this.el = h(
      "footer",
      { class: "statusbar", "data-testid": "statusbar" },
      h("div", { class: "status-left" }, this.session, this.connection, this.warehouse),
      h("div", { class: "status-right" }, this.presence, this.saveState, this.role, this.user),
    );
    this.setFile(null);
    this.role.hidden = true;
    this.warehouse.hidden = true;
  }

  /** The warehouse connection previews and dbt commands use: type, database, target schema. */
  setWarehouse(warehouse: WarehouseInUse | null): void {
    this.warehouse.hidden = false;
    if (!warehouse) {
      this.warehouse.dataset.type = "none";
      this.warehouse.textContent = "No warehouse connection";
      this.warehouse.title = "this project has no warehouse connection; an admin sets it in the project's settings";
      return;
    }
    const kind = warehouse.type === "duckdb" ? "DuckDB" : "PostgreSQL";
    this.warehouse.dataset.type = warehouse.type;
    this.warehouse.textContent = `${kind} · ${warehouse.database} · ${warehouse.schema}`;
    const attached = warehouse.attached.length ? `; attached read-only: ${warehouse.attached.join(", ")}` : "";
    this.warehouse.title = `Warehouse: ${kind}, database ${warehouse.database}, target schema ${warehouse.schema}${attached}`;
  }

  setSession(state: SessionState): void {
    this.session.dataset.state = state;
    this.session.textContent = `Session: ${state}`;
  }

  setConnection(state: ConnectionState): void {
    this.connection.dataset.state = state;
    this.connection.textContent = CONNECTION_LABELS[state];
  }

  setRole(role: Role): void {
    this.role.hidden = false;
    this.role.dataset.role = role;
    this.role.textContent = role === "read-only" ? "Read-only" : role === "admin" ? "Admin" : "Developer";
  }

  setFile(file: OpenFile | null): void {
    if (!file) {
      this.saveState.hidden = true;
      this.saveState.dataset.state = "none";
      this.presence.hidden = true;
      return;
    }
    const state = file.saveState;
    this.saveState.hidden = false;
    this.saveState.dataset.state = state;
    this.saveState.dataset.path = file.path;
    this.saveState.textContent = SAVE_STATE_LABELS[state];
    const peers = file.peers();
    this.presence.hidden = peers.length === 0;
    this.presence.replaceChildren(
      ...peers.map((peer) =>
        h("span", { class: "peer", style: `--peer:${peer.color}`, "data-testid": "peer", title: `${peer.name} is here` }, peer.name),
      ),
    );
  }
}
