// Hash routing: `#/` is the project list, `#/session/<id>` a session (progress, then IDE).

export type Route = { name: "projects" } | { name: "session"; id: string };

export function parseRoute(hash: string = location.hash): Route {
  const match = /^#\/session\/([^/?#]+)/.exec(hash);
  if (match) return { name: "session", id: decodeURIComponent(match[1]) };
  return { name: "projects" };
}

export function navigate(route: Route): void {
  const hash = route.name === "session" ? `#/session/${encodeURIComponent(route.id)}` : "#/";
  if (location.hash !== hash) location.hash = hash;
}

export function onRouteChange(listener: (route: Route) => void): () => void {
  const handler = (): void => listener(parseRoute());
  window.addEventListener("hashchange", handler);
  return () => window.removeEventListener("hashchange", handler);
}
