// Sharing a session with project members (docs/api.md, "Sharing a session"): shares, invite
// links, the sessions shared with the caller.
import { apiRequest } from "./api";

export type ShareMode = "view" | "edit" | "full";

export const SHARE_MODES: readonly ShareMode[] = ["view", "edit", "full"];

export const SHARE_MODE_LABELS: Record<ShareMode, string> = {
  view: "View: read files, see cursors, follow",
  edit: "Edit: also edit files",
  full: "Full: also git, previews and dbt, with your credentials",
};

export interface Share {
  session_id: string;
  user: string;
  mode: ShareMode;
  /** The lower of the share's mode and the guest's own project role. */
  effective_mode: ShareMode;
  expires_at: string;
  created_at: string;
}

export interface SharedSession {
  session_id: string;
  owner: string;
  owner_display_name: string | null;
  project: string;
  mode: ShareMode;
  state: string;
  expires_at: string;
}

export interface Invite {
  url: string;
  expires_at: string;
}

const base = (sessionId: string): string => `/api/sessions/${encodeURIComponent(sessionId)}`;

export function createShare(sessionId: string, user: string, mode: ShareMode): Promise<Share> {
  return apiRequest<Share>("POST", `${base(sessionId)}/shares`, { user, mode });
}

export async function listShares(sessionId: string): Promise<Share[]> {
  return (await apiRequest<{ shares: Share[] }>("GET", `${base(sessionId)}/shares`)).shares;
}

export function revokeShare(sessionId: string, user: string): Promise<void> {
  return apiRequest<void>("DELETE", `${base(sessionId)}/shares/${encodeURIComponent(user)}`);
}

export function createInvite(sessionId: string, mode: ShareMode): Promise<Invite> {
  return apiRequest<Invite>("POST", `${base(sessionId)}/invites`, { mode });
}

export async function sharedWithMe(): Promise<SharedSession[]> {
  return (await apiRequest<{ sessions: SharedSession[] }>("GET", "/api/shared-with-me")).sessions;
}

export function acceptInvite(code: string): Promise<{ session_id: string; mode: ShareMode }> {
  return apiRequest("POST", `/api/invites/${encodeURIComponent(code)}/accept`);
}

export interface Member {
  username: string;
  display_name: string | null;
  role: string;
}

/** The project's other members, for the owner's Share picker; empty when it cannot be read. */
export async function sessionMembers(sessionId: string): Promise<Member[]> {
  try {
    return (await apiRequest<{ members: Member[] }>("GET", `${base(sessionId)}/members`)).members;
  } catch {
    return [];
  }
}
