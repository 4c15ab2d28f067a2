// The gateway's REST API (docs/api.md). Every call is same-origin with the login cookie.
import { Emitter } from "./events";

export interface User {
  username: string;
  display_name: string | null;
  email: string | null;
  is_admin: boolean;
}

export type Role = "admin" | "developer" | "read-only";

export interface Project {
  name: string;
  git_url: string | null;
  default_branch: string | null;
  role: Role;
}

export type SessionState = "pending" | "starting" | "ready" | "stopping" | "stopped" | "failed";

export interface Session {
  id: string;
  project: string;
  user: string;
  state: SessionState;
  reason: string | null;
  progress: string | null;
  created_at: string;
  updated_at: string;
  url: string;
  /** Set when the caller is not the owner but a guest the session was shared with. */
  role?: "owner" | "guest";
  /** The owner's username. */
  owner?: string;
  /** A guest's effective mode on the session (view, edit or full). */
  mode?: "view" | "edit" | "full";
}

export const TERMINAL_STATES: readonly SessionState[] = ["ready", "failed", "stopped"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole error object of the answer: some codes carry more (e.g. `branches`). */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const events = new Emitter<{ unauthorized: () => void }>();

/** Called when any request other than login answers 401: the login session is gone. */
export function onUnauthorized(listener: () => void): () => void {
  return events.on("unauthorized", listener);
}

export async function apiRequest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers = { ...init.headers, "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network_error", "The server cannot be reached. Check your connection.");
  }
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string } } | null)?.error;
    const apiError = new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      (error as Record<string, unknown> | undefined) ?? {},
    );
    if (response.status === 401 && path !== "/api/auth/login") {
      events.emit("unauthorized");
    }
    throw apiError;
  }
  return payload as T;
}

export async function login(username: string, password: string): Promise<User> {
  const answer = await apiRequest<{ user: User }>("POST", "/api/auth/login", { username, password });
  return answer.user;
}

/** Ends the login; an SSO login also ends at the provider, whose page the browser visits. */
export async function logout(): Promise<void> {
  const answer = await apiRequest<{ end_session_url?: string } | undefined>(
    "POST",
    "/api/auth/logout",
  );
  if (answer?.end_session_url) window.location.assign(answer.end_session_url);
}

export interface AuthProvider {
  id: string;
  name: string;
  login_url: string;
}

export interface AuthProviders {
  mode: "local" | "oidc" | "both";
  /** Whether the password form is for everyone (false: break-glass accounts only). */
  local: boolean;
  providers: AuthProvider[];
}

/** What the login page offers (GET /api/auth/providers). */
export function fetchProviders(): Promise<AuthProviders> {
  return apiRequest<AuthProviders>("GET", "/api/auth/providers");
}

/** The logged-in user, or null when there is no valid login session. */
export async function fetchMe(): Promise<User | null> {
  try {
    return await apiRequest<User>("GET", "/api/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function listProjects(): Promise<Project[]> {
  return apiRequest<Project[]>("GET", "/api/projects");
}

export function startSession(project: string): Promise<Session> {
  return apiRequest<Session>("POST", "/api/sessions", { project });
}

/** The caller's sessions that are not stopped. */
export function listSessions(): Promise<Session[]> {
  return apiRequest<Session[]>("GET", "/api/sessions");
}

export function getSession(id: string): Promise<Session> {
  return apiRequest<Session>("GET", `/api/sessions/${encodeURIComponent(id)}`);
}

export function stopSession(id: string): Promise<Session> {
  return apiRequest<Session>("DELETE", `/api/sessions/${encodeURIComponent(id)}`);
}

/**
 * Follows a session's state through the server-sent event stream until it reaches a
 * terminal state. The stream ends on the server after ready/failed/stopped, so the
 * EventSource is closed there: otherwise the browser would reconnect forever.
 */
export function followSession(
  id: string,
  onUpdate: (session: Session) => void,
  onError: (error: Error) => void,
): () => void {
  const source = new EventSource(`/api/sessions/${encodeURIComponent(id)}/events`, {
    withCredentials: true,
  });
  let closed = false;
  const close = (): void => {
    closed = true;
    source.close();
  };
  source.addEventListener("session", (event) => {
    let session: Session;
    try {
      session = JSON.parse((event as MessageEvent<string>).data) as Session;
    } catch {
      return;
    }
    if (TERMINAL_STATES.includes(session.state)) close();
    onUpdate(session);
  });
  source.addEventListener("ended", () => {
    // The server ended the stream: this login no longer reaches the session.
    close();
    onError(new Error("Your access to this session ended."));
  });
  source.addEventListener("error", () => {
    if (closed) return;
    // EventSource retries by itself while CONNECTING; a CLOSED source (e.g. 401/404) will not.
    if (source.readyState === EventSource.CLOSED) {
      close();
      onError(new Error("Lost the session event stream."));
    }
  });
  return close;
}

export function ideSocketUrl(sessionId: string, suffix: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/sessions/${encodeURIComponent(sessionId)}/${suffix}`;
}
