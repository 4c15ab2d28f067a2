// Follow mode: keep the file a participant is in open, and their cursor in view. Our own
// click or keystroke in the editor area stops following.
import * as Y from "yjs";
import { EditorView } from "@codemirror/view";
import { Emitter } from "../../events";
import type { OpenFile } from "../openfile";
import type { Participant, Presence } from "./presence";

export interface FollowHost {
  /** Opens (or activates) a file without moving the keyboard focus. */
  open(path: string): void;
  active(): OpenFile | null;
  /** Where our own clicks and keystrokes end following. */
  area: HTMLElement;
}

interface CursorState {
  user?: { username?: string; name?: string };
  cursor?: { anchor: unknown; head: unknown } | null;
}

export class FollowMode {
  private target: number | null = null;
  private readonly events = new Emitter<{ change: (target: Participant | null) => void }>();
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly presence: Presence,
    private readonly host: FollowHost,
  ) {
    const stopOnOwnAction = (event: Event): void => {
      if (event.isTrusted && this.target !== null) this.stop();
    };
    host.area.addEventListener("mousedown", stopOnOwnAction, true);
    host.area.addEventListener("keydown", stopOnOwnAction, true);
    this.cleanups.push(
      () => host.area.removeEventListener("mousedown", stopOnOwnAction, true),
      () => host.area.removeEventListener("keydown", stopOnOwnAction, true),
      presence.on("participants", () => this.sync()),
    );
  }

  get following(): number | null {
    return this.target;
  }

  follow(clientId: number): void {
    if (clientId === this.presence.clientId) return;
    this.target = clientId;
    this.events.emit("change", this.presence.participant(clientId));
    this.sync();
  }

  stop(): void {
    if (this.target === null) return;
    this.target = null;
    this.events.emit("change", null);
  }

  onChange(listener: (target: Participant | null) => void): () => void {
    return this.events.on("change", listener);
  }

  /** Brings our editor to where the followed participant is; called on every presence or cursor change. */
  sync(): void {
    if (this.target === null) return;
    const participant = this.presence.participant(this.target);
    if (!participant) {
      this.stop(); // they left
      return;
    }
    if (participant.file && this.host.active()?.path !== participant.file) {
      this.host.open(participant.file);
      return; // the cursor is scrolled to once the file's room has synced and the view exists
    }
    this.scrollToCursor(participant);
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.events.clear();
  }

  private scrollToCursor(participant: Participant): void {
    const file = this.host.active();
    const view = file?.view;
    const collab = file?.file;
    if (!view || !collab) return;
    for (const [clientId, raw] of collab.provider.awareness.getStates()) {
      const state = raw as CursorState;
      if (clientId === collab.doc.clientID || state.user?.username !== participant.username || !state.cursor) continue;
      const head = Y.createAbsolutePositionFromRelativePosition(
        Y.createRelativePositionFromJSON(state.cursor.head),
        collab.doc,
      );
      if (!head || head.type !== collab.text) continue;
      const pos = Math.min(head.index, view.state.doc.length);
      view.dispatch({ effects: EditorView.scrollIntoView(pos, { y: "nearest", yMargin: 48 }) });
      return;
    }
  }
}
