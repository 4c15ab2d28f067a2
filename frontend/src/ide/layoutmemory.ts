// What a reload restores, per user and session: open tabs, the active one, expanded
// folders, the sidebar's width and whether it is collapsed. Kept in localStorage (this
// browser only); nothing about it is on the server.
export interface SavedLayout {
  tabs: string[];
  active: string | null;
  expanded: string[];
  sidebarWidth: number | null;
  sidebarCollapsed: boolean;
}

const EMPTY: SavedLayout = { tabs: [], active: null, expanded: [], sidebarWidth: null, sidebarCollapsed: false };

export class LayoutMemory {
  private readonly key: string;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(username: string, sessionId: string) {
    this.key = `ide-layout:${username}:${sessionId}`;
  }

  load(): SavedLayout {
    try {
      const raw = localStorage.getItem(this.key);
      if (!raw) return { ...EMPTY };
      const parsed = JSON.parse(raw) as Partial<SavedLayout>;
      const strings = (value: unknown): string[] =>
        Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
      return {
        tabs: strings(parsed.tabs),
        active: typeof parsed.active === "string" ? parsed.active : null,
        expanded: strings(parsed.expanded),
        sidebarWidth: typeof parsed.sidebarWidth === "number" ? parsed.sidebarWidth : null,
        sidebarCollapsed: parsed.sidebarCollapsed === true,
      };
    } catch {
      return { ...EMPTY }; // storage refused or a damaged entry: start afresh
    }
  }

  /** Writes `read()` soon (bursts of changes make one write). */
  schedule(read: () => SavedLayout): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        localStorage.setItem(this.key, JSON.stringify(read()));
      } catch {
        // Storage full or refused: the layout is simply not remembered.
      }
    }, 200);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
