// REST calls of the account and admin pages (docs/api.md), typed for them.
import { apiRequest, type Role, type Session } from "../../api";

const enc = encodeURIComponent;

/** A user as admins see it; SSO and break-glass fields appear when the server has them. */
export interface AdminUser {
  username: string;
  display_name: string | null;
  email: string | null;
  is_admin: boolean;
  disabled: boolean;
  [extra: string]: unknown;
}

export interface AdminProject {
  name: string;
  git_url: string;
  default_branch: string;
  members: number;
  deploy_token_set?: boolean;
  deploy_token_hint?: string | null;
}

export interface Member {
  username: string;
  role: Role;
}

export interface AdminSession extends Session {
  backend: string;
  age_seconds: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  detail: Record<string, unknown>;
}

export interface LoginEntry {
  created_at: string;
  last_seen: string;
  expires_at: string;
  current: boolean;
}

export type Connection =
  | { type: "duckdb"; attach?: { path: string; alias: string; read_only: boolean }[] }
  | { type: "postgres"; host: string; port?: number; database: string; sslmode?: string };

export interface DevCredentials {
  user?: string | null;
  schema?: string | null;
  threads?: number | null;
  password_set?: boolean;
}

export interface Me {
  git_token_set?: boolean;
  git_token_hint?: string | null;
  [extra: string]: unknown;
}

// The caller's own account.
export const getMe = (): Promise<Me> => apiRequest("GET", "/api/me");
export const changePassword = (current_password: string, new_password: string): Promise<void> =>
  apiRequest("POST", "/api/me/password", { current_password, new_password });
export const setGitToken = (token: string): Promise<{ hint: string }> =>
  apiRequest("PUT", "/api/me/git-token", { token });
export const removeGitToken = (): Promise<void> => apiRequest("DELETE", "/api/me/git-token");
export const listLogins = (): Promise<LoginEntry[]> => apiRequest("GET", "/api/me/logins");
export const endAllLogins = (): Promise<{ logins_ended: number }> => apiRequest("DELETE", "/api/me/logins");
export const getCredentials = (project: string): Promise<DevCredentials> =>
  apiRequest("GET", `/api/projects/${enc(project)}/credentials`);
export const putCredentials = (project: string, body: Record<string, unknown>): Promise<DevCredentials> =>
  apiRequest("PUT", `/api/projects/${enc(project)}/credentials`, body);
export const deleteCredentials = (project: string): Promise<void> =>
  apiRequest("DELETE", `/api/projects/${enc(project)}/credentials`);
export const testCredentials = (project: string): Promise<{ ok: boolean; message: string }> =>
  apiRequest("POST", `/api/projects/${enc(project)}/credentials/test`);
export const getConnection = (project: string): Promise<Connection> =>
  apiRequest("GET", `/api/projects/${enc(project)}/connection`);
export const putConnection = (project: string, body: Connection): Promise<Connection> =>
  apiRequest("PUT", `/api/projects/${enc(project)}/connection`, body);
export const deleteConnection = (project: string): Promise<void> =>
  apiRequest("DELETE", `/api/projects/${enc(project)}/connection`);
export interface GitProvider {
  kind: "github" | "gitlab" | "azure" | null;
  web_url: string | null;
  guessed: boolean;
}
export const getGitProvider = (project: string): Promise<GitProvider> =>
  apiRequest("GET", `/api/projects/${enc(project)}/git-provider`);
export const putGitProvider = (project: string, body: Record<string, string>): Promise<GitProvider> =>
  apiRequest("PUT", `/api/projects/${enc(project)}/git-provider`, body);
export const deleteGitProvider = (project: string): Promise<void> =>
  apiRequest("DELETE", `/api/projects/${enc(project)}/git-provider`);

// Users.
export const listUsers = (): Promise<AdminUser[]> => apiRequest("GET", "/api/admin/users");
export const createUser = (body: Record<string, unknown>): Promise<AdminUser> =>
  apiRequest("POST", "/api/admin/users", body);
export const setDisabled = (name: string, disabled: boolean): Promise<AdminUser> =>
  apiRequest("POST", `/api/admin/users/${enc(name)}/${disabled ? "disable" : "enable"}`);
export const resetPassword = (name: string, password: string): Promise<AdminUser> =>
  apiRequest("PUT", `/api/admin/users/${enc(name)}/password`, { password });
export const removeUser = (name: string, volumes: "keep" | "delete"): Promise<unknown> =>
  apiRequest("DELETE", `/api/admin/users/${enc(name)}?volumes=${volumes}`);
export const setAdmin = (name: string, is_admin: boolean): Promise<AdminUser> =>
  apiRequest("PUT", `/api/admin/users/${enc(name)}/admin`, { is_admin });

export const setBreakGlass = (name: string, break_glass: boolean): Promise<unknown> =>
  apiRequest("PUT", `/api/admin/users/${enc(name)}/break-glass`, { break_glass });

// Projects and members.
export const listAdminProjects = (): Promise<AdminProject[]> => apiRequest("GET", "/api/admin/projects");
export const addProject = (body: Record<string, string>): Promise<AdminProject> =>
  apiRequest("POST", "/api/admin/projects", body);
export const editProject = (name: string, body: Record<string, string>): Promise<AdminProject> =>
  apiRequest("PATCH", `/api/admin/projects/${enc(name)}`, body);
export const removeProject = (name: string, volumes: "keep" | "delete"): Promise<unknown> =>
  apiRequest("DELETE", `/api/admin/projects/${enc(name)}?volumes=${volumes}`);
export const setDeployToken = (name: string, token: string): Promise<{ hint: string }> =>
  apiRequest("PUT", `/api/admin/projects/${enc(name)}/deploy-token`, { token });
export const removeDeployToken = (name: string): Promise<void> =>
  apiRequest("DELETE", `/api/admin/projects/${enc(name)}/deploy-token`);
export const listMembers = (project: string): Promise<Member[]> =>
  apiRequest("GET", `/api/admin/projects/${enc(project)}/members`);
export const addMember = (project: string, username: string, role: string): Promise<unknown> =>
  apiRequest("POST", `/api/admin/projects/${enc(project)}/members`, { username, role });
export const setRole = (project: string, username: string, role: string): Promise<unknown> =>
  apiRequest("PUT", `/api/admin/projects/${enc(project)}/members/${enc(username)}`, { role });
export const removeMember = (project: string, username: string): Promise<unknown> =>
  apiRequest("DELETE", `/api/admin/projects/${enc(project)}/members/${enc(username)}`);

// Sessions and the audit log.
export const listAllSessions = (): Promise<AdminSession[]> => apiRequest("GET", "/api/admin/sessions");
export const stopAnySession = (id: string): Promise<Session> => apiRequest("DELETE", `/api/sessions/${enc(id)}`);
export function queryAudit(filters: Record<string, string>): Promise<AuditEntry[]> {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  return apiRequest("GET", `/api/admin/audit?${params.toString()}`);
}

/** "SSO" or "local" when the server says how the user signs in; null when it does not. */
export function signInKind(user: Record<string, unknown>): "SSO" | "local" | null {
  for (const key of ["auth", "auth_source", "source", "provider", "login_kind"]) {
    const value = user[key];
    if (typeof value === "string") return value === "local" ? "local" : "SSO";
  }
  if (typeof user.sso === "boolean") return user.sso ? "SSO" : "local";
  if (typeof user.is_sso === "boolean") return user.is_sso ? "SSO" : "local";
  if ("oidc_subject" in user || "issuer" in user) return user.oidc_subject || user.issuer ? "SSO" : "local";
  return null;
}
