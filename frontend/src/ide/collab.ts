// One open file bound to its collaborative room in the pod (jupyter-server-ydoc routes,
// y-websocket protocol). The room is the editor buffer; the pod writes it to disk.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import { Emitter } from "../events";

/** y-websocket message type the pod uses for raw requests such as "save". */
const MESSAGE_RAW = 2;
/** Close code of the room socket when the server-side document session changed. */
const CLOSE_SESSION_CHANGED = 1003;
const SAVE_TIMEOUT_MS = 30_000;
/** The gateway closes a guest's sockets with these when their access ends. */
const ACCESS_ENDED_CODES = [4401, 4403];

export type SaveStatus = "success" | "skipped" | "failed";
export type RoomStatus = "connecting" | "connected" | "disconnected";

export interface Collaborator {
  name: string;
  color: string;
  /** The login's username (the gateway sets it on every awareness update). */
  username?: string;
}

export interface CollabUser extends Collaborator {
  colorLight: string;
}

interface CollabEvents {
  dirty: (dirty: boolean) => void;
  status: (status: RoomStatus) => void;
  synced: () => void;
  /** The server's document session changed: this object is dead, open the file again. */
  reset: () => void;
  /** The room refused this file for good (not found, not text, failed to load). */
  failed: (reason: string) => void;
  peers: (peers: Collaborator[]) => void;
}

function parseCloseReason(reason: string): { reason?: string; errorReason?: string; reloadable?: boolean } {
  try {
    const parsed: unknown = JSON.parse(reason);
    if (parsed && typeof parsed === "object") return parsed;
  } catch {
    // A plain-text reason.
  }
  return reason ? { reason } : {};
}

export class CollabError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "CollabError";
  }
}

export class CollabFile {
  readonly doc = new Y.Doc();
  readonly text: Y.Text;
  readonly state: Y.Map<unknown>;
  readonly provider: WebsocketProvider;
  synced = false;
  status: RoomStatus = "connecting";
  private saveCounter = 0;
  private readonly saves = new Map<
    number,
    { resolve: (s: SaveStatus) => void; timer: ReturnType<typeof setTimeout> }
  >();
  private readonly events = new Emitter<CollabEvents>();
  private destroyed = false;

  /** Asks the pod for the file's document session, then joins its room. */
  static async open(
    sessionId: string,
    path: string,
    user: CollabUser,
    readOnly: boolean,
  ): Promise<CollabFile> {
    const base = `/sessions/${encodeURIComponent(sessionId)}/api/collaboration`;
    const response = await fetch(`${base}/session/${encodeURIComponent(path)}`, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ format: "text", type: "file" }),
    });
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw new CollabError(
        response.status,
        `Cannot open ${path} (${response.status})${detail ? `: ${detail.slice(0, 200)}` : ""}`,
      );
    }
    const answer = (await response.json()) as { fileId: string; sessionId: string };
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const roomServer = `${scheme}//${location.host}${base}/room`;
    return new CollabFile(roomServer, answer.fileId, answer.sessionId, user, readOnly);
  }

  private constructor(
    roomServer: string,
    readonly fileId: string,
    readonly roomSessionId: string,
    user: CollabUser,
    private readonly readOnly: boolean,
  ) {
    this.text = this.doc.getText("source");
    this.state = this.doc.getMap("state");
    this.provider = new WebsocketProvider(roomServer, `text:file:${fileId}`, this.doc, {
      params: { sessionId: roomSessionId },
      // The pod is the only source of truth (and the gateway filters read-only updates).
      disableBc: true,
      // 4xxx: the room refused the file (4404 not found, 4400 bad request, 4500 load error);
      // 1003: the document session changed. Retrying the same URL cannot help either.
      shouldReconnect: (event) => event.code !== CLOSE_SESSION_CHANGED && !(event.code >= 4000 && event.code < 5000),
    });
    this.provider.messageHandlers[MESSAGE_RAW] = (_encoder, decoder) => {
      this.receiveRaw(decoding.readVarString(decoder));
    };
    this.provider.awareness.setLocalStateField("user", user);
    this.provider.on("status", ({ status }) => {
      this.status = status;
      this.events.emit("status", status);
    });
    this.provider.on("sync", (isSynced) => {
      if (isSynced && !this.synced) {
        this.synced = true;
        this.events.emit("synced");
      }
    });
    this.provider.on("closed", ({ code, reason }) => {
      const detail = parseCloseReason(reason);
      if (code === CLOSE_SESSION_CHANGED && detail.reloadable !== false) {
        // Reconnecting would merge our stale copy into a fresh room: text doubled.
        setTimeout(() => this.events.emit("reset"), 0);
      } else {
        const message = ACCESS_ENDED_CODES.includes(code)
          ? "Your access to this session ended."
          : null;
        const why = detail.errorReason ?? detail.reason ?? (code === 4404 ? "file not found" : `code ${code}`);
        setTimeout(() => this.events.emit("failed", message ?? `The file cannot be opened (${why}).`), 0);
      }
    });
    this.state.observe(() => this.events.emit("dirty", this.dirty));
    this.text.observe((_event, transaction) => {
      if (this.readOnly || transaction.origin === this.provider) return;
      if (this.state.get("dirty") !== true) this.state.set("dirty", true);
    });
    this.provider.awareness.on("change", ({ added }: { added: number[] }) => {
      // The room does not tell a newcomer who is already there; people announce themselves
      // only every 15 s. Greet each newcomer at once so both sides see each other.
      if (added.some((id) => id !== this.doc.clientID)) {
        this.provider.awareness.setLocalState(this.provider.awareness.getLocalState());
      }
      this.events.emit("peers", this.peers());
    });
  }

  /** True while the disk is behind the document. */
  get dirty(): boolean {
    return this.state.get("dirty") === true;
  }

  peers(): Collaborator[] {
    const result: Collaborator[] = [];
    for (const [clientId, state] of this.provider.awareness.getStates()) {
      if (clientId === this.doc.clientID) continue;
      const user = (state as { user?: Collaborator }).user;
      if (user?.name) result.push({ name: user.name, color: user.color });
    }
    return result;
  }

  /** Asks the pod to write the document to disk now. */
  save(): Promise<SaveStatus> {
    const ws = this.provider.ws;
    if (this.destroyed || !ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.resolve("failed");
    }
    const id = ++this.saveCounter;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_RAW);
    encoding.writeVarString(encoder, "save");
    encoding.writeVarUint(encoder, id);
    ws.send(encoding.toUint8Array(encoder));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.saves.delete(id);
        resolve("failed");
      }, SAVE_TIMEOUT_MS);
      this.saves.set(id, { resolve, timer });
    });
  }

  on<K extends keyof CollabEvents>(event: K, listener: CollabEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /** Leaves the room and frees the document. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const { resolve, timer } of this.saves.values()) {
      clearTimeout(timer);
      resolve("failed");
    }
    this.saves.clear();
    this.events.clear();
    this.provider.destroy();
    this.doc.destroy();
  }

  private receiveRaw(raw: string): void {
    let reply: { type?: string; responseTo?: number; status?: SaveStatus };
    try {
      reply = JSON.parse(raw);
    } catch {
      return;
    }
    if (reply.type !== "save" || typeof reply.responseTo !== "number") return;
    const waiting = this.saves.get(reply.responseTo);
    if (!waiting) return;
    this.saves.delete(reply.responseTo);
    clearTimeout(waiting.timer);
    waiting.resolve(reply.status ?? "failed");
  }
}
