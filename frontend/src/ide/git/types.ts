// A client over the git/* methods. Their shapes come from the file generated from the pod's
// registry (docs/protocol.md, "git/*"), re-exported here under the names the panel uses.
import { ErrorCode, type Methods, type PullResult, type StatusFile } from "../generated/protocol";
import type { RpcClient } from "../rpc";

export type {
  Branches,
  Commit,
  DiffHunk,
  DiffLine,
  FileDiff,
  GitProgress,
  GitStatus,
  LocalBranch,
  Person,
  PullResult,
  PushResult,
  RemoteFetch,
  StatusFile,
} from "../generated/protocol";

export type FileStatus = StatusFile["status"];
export type PullOutcome = PullResult["outcome"];

/** The pod's error codes, git's among them (generated, so none can be missing). */
export const GitErrorCode = ErrorCode;

type Result<M extends keyof Methods> = Promise<Methods[M]["result"]>;

/** Network operations may take minutes; they can be cancelled with git/cancel instead. */
const NETWORK_TIMEOUT_MS = 15 * 60_000;

export class GitClient {
  constructor(readonly rpc: RpcClient) {}

  status = (): Result<"git/status"> => this.rpc.request("git/status");
  diff = (path: string, staged: boolean): Result<"git/diff"> => this.rpc.request("git/diff", { path, staged });
  stage = (paths?: string[]): Result<"git/stage"> => this.rpc.request("git/stage", paths ? { paths } : {});
  unstage = (paths?: string[]): Result<"git/unstage"> => this.rpc.request("git/unstage", paths ? { paths } : {});
  discard = (paths: string[]): Result<"git/discard"> => this.rpc.request("git/discard", { paths });
  commit = (message: string, paths?: string[]): Result<"git/commit"> =>
    this.rpc.request("git/commit", paths ? { message, paths } : { message });
  branches = (): Result<"git/branches"> => this.rpc.request("git/branches");
  createBranch = (name: string, base: string): Result<"git/create_branch"> =>
    this.rpc.request("git/create_branch", { name, base });
  checkout = (branch: string): Result<"git/checkout"> => this.rpc.request("git/checkout", { branch });
  pull = (from?: string): Result<"git/pull"> =>
    this.rpc.request("git/pull", from ? { from } : {}, NETWORK_TIMEOUT_MS);
  push = (): Result<"git/push"> => this.rpc.request("git/push", {}, NETWORK_TIMEOUT_MS);
  fetch = (): Result<"git/fetch"> => this.rpc.request("git/fetch", {}, NETWORK_TIMEOUT_MS);
  /** Starts the background fetch and answers at once; its end comes as git/remote_fetch. */
  refreshRemote = (): Result<"git/refresh_remote"> => this.rpc.request("git/refresh_remote", {});
  cancel = (): Result<"git/cancel"> => this.rpc.request("git/cancel");
  resolve = (path: string, force = false): Result<"git/resolve"> => this.rpc.request("git/resolve", { path, force });
  abortMerge = (): Result<"git/abort_merge"> => this.rpc.request("git/abort_merge");
  log = (skip: number, limit = 30): Result<"git/log"> => this.rpc.request("git/log", { skip, limit });
  revert = (commit: string): Result<"git/revert"> => this.rpc.request("git/revert", { commit });
  show = (commit: string): Result<"git/show"> => this.rpc.request("git/show", { commit });
  pullRequestUrl = (): Result<"git/pull_request_url"> => this.rpc.request("git/pull_request_url");
}
