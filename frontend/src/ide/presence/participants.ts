// The participants list in the session header: who is here, in which file, in their colour.
// Clicking someone follows them (clicking again, or acting in the editor, stops); the owner
// can ask everyone to follow them.
import { h, replaceChildren } from "../../dom";
import type { FollowMode } from "./follow";
import type { Participant, Presence } from "./presence";

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export class ParticipantsBar {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly followAll: HTMLButtonElement;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly presence: Presence,
    private readonly follow: FollowMode,
    isOwner: boolean,
  ) {
    this.list = h("ul", { class: "participants-list", "aria-label": "People in this session" });
    this.followAll = h(
      "button",
      {
        type: "button",
        class: "button subtle",
        "data-testid": "ask-to-follow",
        title: "Everyone's editor follows yours until they click or type",
      },
      "Ask everyone to follow me",
    );
    this.followAll.hidden = !isOwner;
    this.followAll.addEventListener("click", () => presence.askToFollow());
    this.el = h("div", { class: "participants", "data-testid": "participants" }, this.list, this.followAll);
    this.cleanups.push(
      presence.on("participants", () => this.render()),
      follow.onChange(() => this.render()),
    );
    this.render();
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private render(): void {
    const participants = this.presence.participants();
    // Alone, the list says nothing worth its space.
    this.el.dataset.alone = String(participants.filter((p) => !p.self).length === 0);
    this.followAll.disabled = participants.every((p) => p.self);
    replaceChildren(this.list, participants.map((p) => this.item(p)));
  }

  private item(participant: Participant): HTMLElement {
    const following = this.follow.following === participant.clientId;
    const label = participant.self ? `${participant.name} (you)` : participant.name;
    const where = participant.file ? baseName(participant.file) : "no file open";
    const button = h(
      "button",
      {
        type: "button",
        class: `participant${following ? " following" : ""}`,
        "data-testid": "participant",
        "data-username": participant.username,
        "data-following": String(following),
        "aria-pressed": String(following),
        title: participant.self
          ? `You${participant.file ? `, in ${participant.file}` : ""}`
          : following
            ? `Following ${participant.name}; click to stop`
            : `Follow ${participant.name}${participant.file ? ` (in ${participant.file})` : ""}`,
        disabled: participant.self,
        style: `--participant-color: ${participant.color}`,
      },
      h("span", { class: "participant-dot", "aria-hidden": "true" }),
      h("span", { class: "participant-name", "data-testid": "participant-name" }, label),
      h("span", { class: "participant-file", "data-testid": "participant-file" }, where),
    );
    button.addEventListener("click", () => {
      if (following) this.follow.stop();
      else this.follow.follow(participant.clientId);
    });
    return h("li", null, button);
  }
}
