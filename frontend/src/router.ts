// Hash routing: `#/` is the project list, `#/session/<id>` a session (progress, then IDE),
// `#/settings` the account page, `#/admin/<tab>[/<project>]` the admin pages,
// `#/invite/<code>` an invite link being accepted.

export type AdminTab = "users" | "projects" | "sessions" | "audit";
const ADMIN_TABS: readonly AdminTab[] = ["users", "projects", "sessions", "audit"];

export type Route =
  | { name: "projects" }
  | { name: "session"; id: string }
  | { name: "account" }
  | { name: "admin"; tab: AdminTab; project?: string }
  | { name: "invite"; code: string };

export function parseRoute(hash: string = location.hash): Route {
  const match = /^#\/session\/([^/?#]+)/.exec(hash);
  if (match) return { name: "session", id: decodeURIComponent(match[1]) };
  if (/^#\/settings\/?$/.test(hash)) return { name: "account" };
  const admin = /^#\/admin(?:\/([a-z]+))?(?:\/([^/?#]+))?\/?$/.exec(hash);
  if (admin) {
    const tab = ADMIN_TABS.find((t) => t === admin[1]) ?? "users";
    const project = tab === "projects" && admin[2] ? decodeURIComponent(admin[2]) : undefined;
    return project ? { name: "admin", tab, project } : { name: "admin", tab };
  }
  const invite = /^#\/invite\/([^/?#]+)/.exec(hash);
  if (invite) return { name: "invite", code: decodeURIComponent(invite[1]) };
  return { name: "projects" };
}

export function hashOf(route: Route): string {
  switch (route.name) {
    case "session":
      return `#/session/${encodeURIComponent(route.id)}`;
    case "account":
      return "#/settings";
    case "admin":
      return `#/admin/${route.tab}${route.project ? `/${encodeURIComponent(route.project)}` : ""}`;
    case "invite":
      return `#/invite/${encodeURIComponent(route.code)}`;
    default:
      return "#/";
  }
}

export function navigate(route: Route): void {
  const hash = hashOf(route);
  if (location.hash !== hash) location.hash = hash;
}

export function onRouteChange(listener: (route: Route) => void): () => void {
  const handler = (): void => listener(parseRoute());
  window.addEventListener("hashchange", handler);
  return () => window.removeEventListener("hashchange", handler);
}
