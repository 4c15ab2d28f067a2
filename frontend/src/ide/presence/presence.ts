// Who is in this session and in which file: the pod's session-wide awareness room (a
// transient Yjs room that holds no document, only each participant's awareness state).
// Names and colours are the gateway's: it rewrites the `user` field of every update with
// the login's values, so what we publish there is only a first guess.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { Emitter } from "../../events";
import type { CollabUser } from "../collab";

/** The room name jupyter-server-ydoc keeps as a transient, session-wide awareness room. */
const PRESENCE_ROOM = "JupyterLab:globalAwareness";
/** The gateway closes a socket with these codes when the caller's access ends or changes. */
export const ACCESS_CLOSE_CODES: readonly number[] = [4401, 4403];

export interface Participant {
  clientId: number;
  name: string;
  username: string;
  color: string;
  /** The file in the participant's active tab, or null. */
  file: string | null;
  self: boolean;
}

interface PresenceState {
  user?: { name?: string; username?: string; color?: string };
  file?: string | null;
  /** Bumped by the owner's "Ask everyone to follow me". */
  followMe?: number | null;
}

interface PresenceEvents {
  participants: (participants: Participant[]) => void;
  /** Someone asked everyone to follow them (only honoured from the session's owner). */
  followRequest: (participant: Participant) => void;
  /** The gateway closed the socket: access ended or changed. */
  access: (code: number, reason: string) => void;
}

export class Presence {
  private readonly doc = new Y.Doc();
  private readonly provider: WebsocketProvider;
  private readonly events = new Emitter<PresenceEvents>();
  private readonly seenFollowRequests = new Map<number, number>();
  private destroyed = false;

  constructor(
    sessionId: string,
    user: CollabUser & { username: string },
    private readonly owner: string,
  ) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const server = `${scheme}//${location.host}/sessions/${encodeURIComponent(sessionId)}/api/collaboration/room`;
    this.provider = new WebsocketProvider(server, PRESENCE_ROOM, this.doc, {
      connect: false, // start() connects: constructors do no I/O
      disableBc: true,
      shouldReconnect: (event) => !ACCESS_CLOSE_CODES.includes(event.code) && !(event.code >= 4400 && event.code < 4500),
    });
    const awareness = this.provider.awareness;
    awareness.setLocalState({ user: { name: user.name, username: user.username, color: user.color }, file: null });
    awareness.on("change", ({ added }: { added: number[] }) => {
      // Greet newcomers at once rather than at the next 15 s renewal, so both sides see each other.
      if (added.some((id) => id !== this.doc.clientID)) awareness.setLocalState(awareness.getLocalState());
      this.checkFollowRequests();
      this.events.emit("participants", this.participants());
    });
    this.provider.on("connection-close", (event) => {
      if (event && ACCESS_CLOSE_CODES.includes(event.code)) this.events.emit("access", event.code, event.reason);
    });
  }

  /** Joins the room. */
  start(): void {
    if (!this.destroyed) this.provider.connect();
  }

  get clientId(): number {
    return this.doc.clientID;
  }

  participants(): Participant[] {
    const result: Participant[] = [];
    for (const [clientId, raw] of this.provider.awareness.getStates()) {
      const state = raw as PresenceState;
      if (!state.user?.username && !state.user?.name) continue;
      result.push({
        clientId,
        name: state.user.name || state.user.username || "?",
        username: state.user.username ?? "",
        color: state.user.color ?? "#888888",
        file: typeof state.file === "string" ? state.file : null,
        self: clientId === this.doc.clientID,
      });
    }
    return result.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
  }

  participant(clientId: number): Participant | null {
    return this.participants().find((p) => p.clientId === clientId) ?? null;
  }

  /** Tells the others which file our active tab shows. */
  setFile(path: string | null): void {
    // Every set is sent to everyone, changed or not: send only changes.
    if (this.destroyed || (this.provider.awareness.getLocalState() as PresenceState | null)?.file === path) return;
    this.provider.awareness.setLocalStateField("file", path);
  }

  /** "Ask everyone to follow me". */
  askToFollow(): void {
    this.provider.awareness.setLocalStateField("followMe", Date.now());
  }

  on<K extends keyof PresenceEvents>(event: K, listener: PresenceEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.events.clear();
    this.provider.destroy();
    this.doc.destroy();
  }

  private checkFollowRequests(): void {
    for (const [clientId, raw] of this.provider.awareness.getStates()) {
      const state = raw as PresenceState;
      const at = state.followMe;
      if (clientId === this.doc.clientID || typeof at !== "number") continue;
      if (this.seenFollowRequests.get(clientId) === at) continue;
      const first = !this.seenFollowRequests.has(clientId);
      this.seenFollowRequests.set(clientId, at);
      // A request made before we joined is history, not a request to us.
      if (first && Date.now() - at > 10_000) continue;
      const participant = this.participant(clientId);
      if (participant && participant.username === this.owner) this.events.emit("followRequest", participant);
    }
  }
}
