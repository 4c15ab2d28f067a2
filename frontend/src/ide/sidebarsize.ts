// The sidebar's width, dragged from its right edge, and collapsing it (Ctrl/Cmd-B).
import { h } from "../dom";

const MIN_WIDTH = 160;
const MAX_WIDTH = 640;

export class SidebarSize {
  readonly handle: HTMLElement;
  readonly toggle: HTMLButtonElement;
  width: number | null = null;
  collapsed = false;

  constructor(
    private readonly ide: HTMLElement,
    private readonly changed: () => void,
  ) {
    this.handle = h("div", {
      class: "sidebar-resizer",
      role: "separator",
      "aria-orientation": "vertical",
      "aria-label": "Resize the sidebar",
      "data-testid": "sidebar-resizer",
    });
    this.toggle = h(
      "button",
      { type: "button", class: "sidebar-toggle icon-button", "data-testid": "sidebar-toggle", title: "Hide the sidebar (Ctrl/Cmd-B)", "aria-label": "Hide the sidebar" },
      "⟨",
    );
    this.toggle.addEventListener("click", () => this.setCollapsed(!this.collapsed));
    this.handle.addEventListener("pointerdown", (event) => this.drag(event));
  }

  setWidth(width: number | null): void {
    this.width = width === null ? null : Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, Math.round(width)));
    if (this.width === null) this.ide.style.removeProperty("--sidebar-width");
    else this.ide.style.setProperty("--sidebar-width", `${this.width}px`);
    this.ide.dataset.sidebarWidth = this.width === null ? "" : String(this.width);
  }

  setCollapsed(collapsed: boolean): void {
    this.collapsed = collapsed;
    this.ide.classList.toggle("sidebar-collapsed", collapsed);
    this.ide.dataset.sidebar = collapsed ? "collapsed" : "shown";
    this.toggle.textContent = collapsed ? "⟩" : "⟨";
    const label = collapsed ? "Show the sidebar (Ctrl/Cmd-B)" : "Hide the sidebar (Ctrl/Cmd-B)";
    this.toggle.title = label;
    this.toggle.setAttribute("aria-label", label.replace(/ \(.*/, ""));
    this.changed();
  }

  private drag(start: PointerEvent): void {
    start.preventDefault();
    const left = this.ide.getBoundingClientRect().left;
    const move = (event: PointerEvent): void => this.setWidth(event.clientX - left);
    const up = (): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.ide.classList.remove("resizing");
      this.changed();
    };
    this.ide.classList.add("resizing");
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }
}
