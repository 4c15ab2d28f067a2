// Shapes of the git/* messages (docs/protocol.md, "git/*") and a typed client over the RPC.
import type { RpcClient } from "../rpc";

export type FileStatus = "modified" | "added" | "deleted" | "renamed" | "untracked" | "conflicted";

export interface StatusFile {
  path: string;
  status: FileStatus;
  staged: boolean;
  unstaged: boolean;
  old_path?: string;
}

export interface GitStatus {
  branch: string | null;
  head: string | null;
  upstream: string | null;
  upstream_gone: boolean;
  ahead: number;
  behind: number;
  merging: boolean;
  merge_message?: string;
  default_branch: string;
  protected: boolean;
  files: StatusFile[];
}

export interface DiffLine {
  origin: " " | "+" | "-";
  content: string;
  old_lineno: number | null;
  new_lineno: number | null;
}

export interface DiffHunk {
  header: string;
  old_start: number;
  old_lines: number;
  new_start: number;
  new_lines: number;
  lines: DiffLine[];
}

export interface FileDiff {
  path: string;
  old_path: string;
  status: string;
  binary: boolean;
  additions: number;
  deletions: number;
  too_large: boolean;
  patch: string;
  hunks: DiffHunk[];
}

export interface LocalBranch {
  name: string;
  commit: string;
  upstream: string | null;
  ahead: number;
  behind: number;
  gone: boolean;
}

export interface Branches {
  current: string | null;
  local: LocalBranch[];
  remote: { name: string; commit: string }[];
}

export interface Person {
  name: string;
  email: string;
  time: number;
  offset: number;
}

export interface Commit {
  id: string;
  short_id: string;
  summary: string;
  message: string;
  author: Person;
  committer: Person;
  parents: string[];
}

export type PullOutcome = "up-to-date" | "fast-forward" | "merged" | "conflicts" | "no-upstream";

export interface PullResult {
  outcome: PullOutcome;
  branch: string;
  source: string | null;
  commit?: string;
  conflicts: string[];
}

export interface PushResult {
  branch: string;
  remote_branch: string;
  commit: string;
  upstream_set: boolean;
}

export interface GitProgress {
  op: "fetch" | "pull" | "clone" | "push";
  received_objects?: number;
  total_objects?: number;
  pushed_objects?: number;
}

export const GitErrorCode = {
  protectedBranch: -32010,
  nothingToCommit: -32011,
  emptyMessage: -32012,
  uncommittedChanges: -32013,
  pushRejected: -32014,
  authFailed: -32015,
  wrongState: -32016,
  cancelled: -32017,
  unresolvedConflicts: -32020,
  busy: -32021,
} as const;

/** Network operations may take minutes; they can be cancelled with git/cancel instead. */
const NETWORK_TIMEOUT_MS = 15 * 60_000;

export class GitClient {
  constructor(readonly rpc: RpcClient) {}

  status = (): Promise<GitStatus> => this.rpc.request("git/status");
  diff = (path: string, staged: boolean): Promise<{ files: FileDiff[] }> =>
    this.rpc.request("git/diff", { path, staged });
  stage = (paths?: string[]): Promise<unknown> => this.rpc.request("git/stage", paths ? { paths } : {});
  unstage = (paths?: string[]): Promise<unknown> => this.rpc.request("git/unstage", paths ? { paths } : {});
  discard = (paths: string[]): Promise<unknown> => this.rpc.request("git/discard", { paths });
  commit = (message: string, paths?: string[]): Promise<{ commit: string; branch: string }> =>
    this.rpc.request("git/commit", paths ? { message, paths } : { message });
  branches = (): Promise<Branches> => this.rpc.request("git/branches");
  createBranch = (name: string, base: string): Promise<{ branch: string }> =>
    this.rpc.request("git/create_branch", { name, base });
  checkout = (branch: string): Promise<{ branch: string }> => this.rpc.request("git/checkout", { branch });
  pull = (from?: string): Promise<PullResult> =>
    this.rpc.request("git/pull", from ? { from } : {}, NETWORK_TIMEOUT_MS);
  push = (): Promise<PushResult> => this.rpc.request("git/push", {}, NETWORK_TIMEOUT_MS);
  fetch = (): Promise<unknown> => this.rpc.request("git/fetch", {}, NETWORK_TIMEOUT_MS);
  cancel = (): Promise<{ cancelled: string | null }> => this.rpc.request("git/cancel");
  resolve = (path: string, force = false): Promise<{ remaining: string[] }> =>
    this.rpc.request("git/resolve", { path, force });
  abortMerge = (): Promise<unknown> => this.rpc.request("git/abort_merge");
  log = (skip: number, limit = 30): Promise<{ commits: Commit[]; next_skip: number | null }> =>
    this.rpc.request("git/log", { skip, limit });
  revert = (commit: string): Promise<{ commit: string }> => this.rpc.request("git/revert", { commit });
}
