// The left column: one panel at a time (files or source control), chosen by a tab strip.
import { h } from "../dom";

export type SidebarPanel = "files" | "git" | "search" | "problems";

export class Sidebar {
  readonly el: HTMLElement;
  private readonly buttons = new Map<SidebarPanel, HTMLButtonElement>();
  private readonly badge: HTMLElement;
  private readonly panels: Record<SidebarPanel, HTMLElement>;
  current: SidebarPanel = "files";

  constructor(
    panels: Record<SidebarPanel, HTMLElement>,
    private readonly onShow: (panel: SidebarPanel) => void,
  ) {
    this.panels = panels;
    this.badge = h("span", { class: "count-badge", "data-testid": "git-change-count" });
    const strip = h("div", { class: "sidebar-tabs", role: "tablist" });
    for (const [panel, label] of [["files", "Files"], ["git", "Git"], ["search", "Search"], ["problems", "Problems"]] as const) {
      const button = h(
        "button",
        { type: "button", role: "tab", class: "sidebar-tab", "data-testid": `sidebar-${panel}` },
        label,
        panel === "git" ? this.badge : null,
      );
      button.addEventListener("click", () => this.show(panel));
      this.buttons.set(panel, button);
      strip.append(button);
    }
    this.el = h("aside", { class: "sidebar" }, strip, panels.files, panels.git, panels.search, panels.problems);
    this.setCount(0);
    this.show("files");
  }

  show(panel: SidebarPanel): void {
    this.current = panel;
    for (const [name, button] of this.buttons) {
      button.setAttribute("aria-selected", String(name === panel));
      this.panels[name].hidden = name !== panel;
    }
    this.onShow(panel);
  }

  setCount(count: number): void {
    this.badge.textContent = count ? String(count) : "";
    this.badge.dataset.count = String(count);
  }
}
