// Everything pairing adds to one IDE: session-wide presence, follow mode, the participants
// list and the owner's Share button (shown in the session header), and the report of a
// guest's access ending.
import { h } from "../../dom";
import type { Session, User } from "../../api";
import { showNotice } from "../../ui/notice";
import type { CollabUser } from "../collab";
import { FollowMode, type FollowHost } from "./follow";
import { ParticipantsBar } from "./participants";
import { Presence } from "./presence";
import { openShareDialog } from "./sharedialog";

export interface PairingOptions {
  session: Session;
  user: User;
  collabUser: CollabUser;
  host: FollowHost;
  /** The gateway closed our socket with 4401/4403: access ended or changed. */
  onAccessLost: (code: number) => void;
}

export class Pairing {
  /** Goes in the session header: participants, then Share for the owner. */
  readonly headerEl: HTMLElement;
  readonly presence: Presence;
  readonly follow: FollowMode;
  private readonly bar: ParticipantsBar;

  constructor(options: PairingOptions) {
    const { session, user } = options;
    const owner = session.owner ?? session.user;
    const isOwner = session.role !== "guest" && owner === user.username;
    this.presence = new Presence(session.id, { ...options.collabUser, username: user.username }, owner);
    this.follow = new FollowMode(this.presence, options.host);
    this.bar = new ParticipantsBar(this.presence, this.follow, isOwner);
    const share = h(
      "button",
      { type: "button", class: "button", "data-testid": "share-session", title: "Invite project members to this session" },
      "Share",
    );
    share.hidden = !isOwner;
    share.addEventListener("click", () => openShareDialog(session.id, user.username));
    const guestBadge = h(
      "span",
      { class: "badge guest-badge", "data-testid": "guest-badge" },
      `${owner}'s session · ${session.mode ?? "edit"}`,
    );
    guestBadge.hidden = isOwner;
    this.headerEl = h("div", { class: "pairing" }, guestBadge, this.bar.el, share);
    this.presence.on("followRequest", (participant) => {
      this.follow.follow(participant.clientId);
      showNotice(`${participant.name} asked everyone to follow them. Click or type to stop.`, "info");
    });
    this.presence.on("access", (code) => options.onAccessLost(code));
  }

  start(): void {
    this.presence.start();
  }

  /** Our active tab changed: tell the others, and keep following. */
  setActiveFile(path: string | null): void {
    this.presence.setFile(path);
    this.follow.sync();
  }

  dispose(): void {
    this.bar.dispose();
    this.follow.dispose();
    this.presence.destroy();
    this.headerEl.remove();
  }
}
