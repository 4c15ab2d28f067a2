// Generated from the pod's method registry (ide_server/workspace/methods.py) by
//   uv run --frozen python -m ide_server.workspace.protocol_gen
// Do not edit: declare the change in the registry and run the generator (docs/protocol.md).

export interface CancelParams {
  invocation_id: string;
}

export interface CancelResult {
  invocation_id: string;
  cancelled: boolean;
}

export type NoParams = Record<string, never>;

export interface CatalogNode {
  name: string;
  unique_id: string;
  path: string;
  description: string;
  columns: string[];
}

export interface CatalogSource {
  source: string;
  table: string;
  unique_id: string;
  description: string;
  columns: string[];
}

export interface CatalogMacro {
  name: string;
  package: string;
  arguments: string[];
}

export interface StaleParse {
  message: string;
  path: string | null;
  line: number | null;
}

export interface CatalogResult {
  models: CatalogNode[];
  seeds: CatalogNode[];
  snapshots: CatalogNode[];
  sources: CatalogSource[];
  macros: CatalogMacro[];
  stale?: StaleParse;
}

export interface CompileParams {
  path: string;
  content?: string | null;
}

export interface CompileResult {
  path: string;
  compiled_sql: string;
  elapsed_ms: number;
}

export interface HistoryParams {
  limit?: number;
}

export interface DbtCounts {
  pass: number;
  warn: number;
  error: number;
  skip: number;
}

export interface DbtInvocation {
  invocation_id: string;
  command: string;
  args: string[];
  user: string;
  branch: string | null;
  commit: string | null;
  started_at: number;
  elapsed_ms: number | null;
  status: string;
  counts: DbtCounts;
}

export interface HistoryResult {
  invocations: DbtInvocation[];
}

export interface LineageParams {
  path?: string | null;
  unique_id?: string | null;
  upstream?: number;
  downstream?: number;
}

export interface LineageNode {
  unique_id: string;
  name: string;
  resource_type: string;
  path: string;
}

export interface LineageResult {
  nodes: LineageNode[];
  edges: string[][];
  stale?: StaleParse;
}

export interface RunParams {
  invocation_id: string;
  command: string;
  args?: string[];
}

export interface RunResult {
  invocation_id: string;
}

export interface FormatParams {
  path: string;
  content?: string | null;
}

export interface FormatResult {
  tool: "sqlfluff" | "sqlfmt";
  templater: string | null;
  path: string;
  content: string;
  changed: boolean;
}

export interface PathParams {
  path: string;
}

export interface PathResult {
  path: string;
}

export interface FilesResult {
  paths: string[];
  truncated: boolean;
}

export interface ListParams {
  path?: string;
}

export interface FsEntry {
  name: string;
  path: string;
  type: "file" | "directory" | "symlink";
  size: number;
  mtime: number;
  target_type?: "file" | "directory" | null;
}

export interface FsListResult {
  path: string;
  entries: FsEntry[];
}

export interface FsReadResult {
  path: string;
  content: string;
  mtime: number;
}

export interface BinaryParams {
  path: string;
}

export interface BinaryResult {
  path: string;
  size: number;
  text: boolean;
  base64: string | null;
}

export interface RenameParams {
  path: string;
  new_path: string;
}

export interface SearchParams {
  query: string;
  regex?: boolean;
  case_sensitive?: boolean;
  glob?: string | null;
  max_results?: number;
}

export interface SearchMatch {
  path: string;
  line: number;
  column: number;
  length: number;
  text: string;
}

export interface SearchResult {
  matches: SearchMatch[];
  files_searched: number;
  truncated: boolean;
  truncated_by: "results" | "time" | null;
}

export interface WriteParams {
  path: string;
  content: string;
  expected_mtime?: number | null;
}

export interface FsWriteResult {
  path: string;
  mtime: number;
}

export interface AbortMergeResult {
  aborted: true;
  restored: string[];
}

export interface LocalBranch {
  name: string;
  commit: string;
  upstream: string | null;
  ahead: number;
  behind: number;
  gone: boolean;
}

export interface RemoteBranch {
  name: string;
  commit: string;
}

export interface RemoteFetch {
  state: "idle" | "fetching" | "done" | "failed";
  message: string | null;
  finished_at: number | null;
  new_branches: string[];
  updated_branches: string[];
  received_objects?: number;
  total_objects?: number;
}

export interface Branches {
  current: string | null;
  local: LocalBranch[];
  remote: RemoteBranch[];
  fetch: RemoteFetch;
}

export interface GitCancelResult {
  cancelled: string | null;
}

export interface CheckoutParams {
  branch: string;
}

export interface CheckoutResult {
  branch: string;
  commit: string;
}

export interface CommitParams {
  message: string;
  paths?: string[] | null;
}

export interface CommitResult {
  commit: string;
  branch: string;
}

export interface CreateBranchParams {
  name: string;
  base?: string | null;
  checkout?: boolean;
}

export interface CreateBranchResult {
  branch: string;
  commit: string;
  base: string;
}

export interface DiffParams {
  path?: string | null;
  staged?: boolean;
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
  old_text?: string | null;
  new_text?: string | null;
}

export interface DiffResult {
  staged: boolean;
  path: string | null;
  files: FileDiff[];
}

export interface PathsParams {
  paths?: string[] | null;
}

export interface PathsResult {
  paths: string[];
}

export interface FetchParams {
  prune?: boolean;
}

export interface FetchResult {
  received_objects: number;
  total_objects: number;
}

export interface LogParams {
  path?: string | null;
  ref?: string | null;
  skip?: number;
  limit?: number;
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

export interface LogResult {
  commits: Commit[];
  next_skip: number | null;
}

export interface PruneParams {
  dry_run?: boolean;
}

export interface KeptBranch {
  name: string;
  reason: string;
}

export interface PruneResult {
  deleted: string[];
  kept: KeptBranch[];
  dry_run: boolean;
}

export interface PullParams {
  from?: string | null;
}

export interface PullResult {
  outcome: "up-to-date" | "fast-forward" | "merged" | "conflicts" | "no-upstream";
  branch: string;
  source: string | null;
  commit?: string;
  conflicts: string[];
  message?: string;
}

export interface PullRequestUrl {
  url: string | null;
  provider: "github" | "gitlab" | "azure" | null;
  branch: string | null;
  base: string;
}

export interface PushResult {
  branch: string;
  remote_branch: string;
  commit: string;
  upstream_set: boolean;
}

export interface RefreshRemoteParams {
  wait?: boolean;
}

export interface ResolveParams {
  path: string;
  force?: boolean;
}

export interface ResolveResult {
  path: string;
  remaining: string[];
}

export interface RevertParams {
  commit: string;
}

export interface RevertResult {
  commit: string;
  reverted: string;
  branch: string;
}

export interface ShowResult {
  commit: Commit;
  files: FileDiff[];
}

export interface StatusFile {
  path: string;
  status: "modified" | "added" | "deleted" | "renamed" | "untracked" | "conflicted";
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

export interface LintParams {
  paths?: string[] | null;
}

export interface Problem {
  line: number;
  column: number;
  end_line: number | null;
  end_column: number | null;
  code: string;
  message: string;
  severity: "error" | "warning";
}

export interface FileProblems {
  path: string;
  problems: Problem[];
}

export interface LintResult {
  tool: "sqlfluff" | "sqlfmt";
  templater: string | null;
  notice: string | null;
  files: FileProblems[];
  truncated: boolean;
}

export interface QueryCancelParams {
  query_id: string;
}

export interface QueryCancelResult {
  query_id: string;
  cancelled: boolean;
}

export interface PreviewParams {
  query_id: string;
  sql: string;
  limit?: number | null;
  dialect?: string | null;
  path?: string | null;
}

export interface PreviewResult {
  query_id: string;
}

export interface HeartbeatResult {
  ok: true;
}

export interface WarehouseInUse {
  type: "duckdb" | "postgres";
  database: string;
  schema: string;
  attached: string[];
}

export interface SessionStatus {
  user: string;
  role: "admin" | "developer" | "read-only";
  session_id: string;
  methods: string[];
  warehouse: WarehouseInUse | null;
}

export interface DbtDone {
  invocation_id: string;
  success: boolean;
  cancelled: boolean;
  elapsed_ms: number;
  counts: DbtCounts;
}

export interface DbtLog {
  invocation_id: string;
  ts: string | null;
  level: string;
  msg: string;
  node?: string;
}

export interface DbtNode {
  invocation_id: string;
  unique_id: string;
  status: string;
  elapsed_ms: number;
  message?: string;
}

export interface FsChanged {
  path: string;
  kind: "write" | "delete" | "rename" | "mkdir";
  new_path?: string;
}

export interface GitChanged {
  op: string;
}

export interface GitProgress {
  op: "fetch" | "pull" | "clone" | "push";
  received_objects?: number;
  indexed_objects?: number;
  total_objects: number;
  indexed_deltas?: number;
  total_deltas?: number;
  received_bytes?: number;
  pushed_objects?: number;
  pushed_bytes?: number;
}

export interface QueryColumn {
  name: string;
  type: string;
}

export interface QueryColumns {
  query_id: string;
  columns: QueryColumn[];
}

export interface QueryDone {
  query_id: string;
  row_count: number;
  elapsed_ms: number;
  truncated: boolean;
  compiled_sql?: string;
}

export interface SqlPosition {
  line: number;
  column: number;
}

export interface QueryError {
  query_id: string;
  message: string;
  position?: SqlPosition;
  cancelled: boolean;
}

export interface QueryRows {
  query_id: string;
  rows: unknown[][];
}

/** Every method: its params, result, whether it writes, and its own error codes. */
export interface Methods {
  "dbt/cancel": {
    params: CancelParams;
    result: CancelResult;
    writes: true;
    errors: never;
  };
  "dbt/catalog": {
    params: NoParams;
    result: CatalogResult;
    writes: false;
    errors: -32040 | -32042 | -32043;
  };
  "dbt/compile": {
    params: CompileParams;
    result: CompileResult;
    writes: false;
    errors: -32002 | -32003 | -32040 | -32042 | -32043;
  };
  "dbt/history": {
    params: HistoryParams;
    result: HistoryResult;
    writes: false;
    errors: -32042 | -32043;
  };
  "dbt/lineage": {
    params: LineageParams;
    result: LineageResult;
    writes: false;
    errors: -32002 | -32003 | -32040 | -32042 | -32043;
  };
  "dbt/run": {
    params: RunParams;
    result: RunResult;
    writes: true;
    errors: -32004 | -32041 | -32042 | -32043;
  };
  "format/file": {
    params: FormatParams;
    result: FormatResult;
    writes: false;
    errors: -32002 | -32003 | -32061;
  };
  "fs/delete": {
    params: PathParams;
    result: PathResult;
    writes: true;
    errors: -32002 | -32003;
  };
  "fs/files": {
    params: NoParams;
    result: FilesResult;
    writes: false;
    errors: never;
  };
  "fs/list": {
    params: ListParams;
    result: FsListResult;
    writes: false;
    errors: -32002 | -32003;
  };
  "fs/mkdir": {
    params: PathParams;
    result: PathResult;
    writes: true;
    errors: -32002 | -32004;
  };
  "fs/read": {
    params: PathParams;
    result: FsReadResult;
    writes: false;
    errors: -32002 | -32003 | -32005 | -32008;
  };
  "fs/read_binary": {
    params: BinaryParams;
    result: BinaryResult;
    writes: false;
    errors: -32002 | -32003;
  };
  "fs/rename": {
    params: RenameParams;
    result: PathResult;
    writes: true;
    errors: -32002 | -32003 | -32004;
  };
  "fs/search": {
    params: SearchParams;
    result: SearchResult;
    writes: false;
    errors: never;
  };
  "fs/write": {
    params: WriteParams;
    result: FsWriteResult;
    writes: true;
    errors: -32002 | -32004 | -32006 | -32008;
  };
  "git/abort_merge": {
    params: NoParams;
    result: AbortMergeResult;
    writes: true;
    errors: -32016 | -32021 | -32022;
  };
  "git/branches": {
    params: NoParams;
    result: Branches;
    writes: false;
    errors: -32016;
  };
  "git/cancel": {
    params: NoParams;
    result: GitCancelResult;
    writes: true;
    errors: never;
  };
  "git/checkout": {
    params: CheckoutParams;
    result: CheckoutResult;
    writes: true;
    errors: -32003 | -32013 | -32016 | -32021 | -32022;
  };
  "git/commit": {
    params: CommitParams;
    result: CommitResult;
    writes: true;
    errors: -32002 | -32010 | -32011 | -32012 | -32016 | -32020 | -32021;
  };
  "git/create_branch": {
    params: CreateBranchParams;
    result: CreateBranchResult;
    writes: true;
    errors: -32003 | -32004 | -32010 | -32013 | -32016 | -32021 | -32022;
  };
  "git/diff": {
    params: DiffParams;
    result: DiffResult;
    writes: false;
    errors: -32002 | -32016;
  };
  "git/discard": {
    params: PathsParams;
    result: PathsResult;
    writes: true;
    errors: -32002 | -32016 | -32021 | -32022;
  };
  "git/fetch": {
    params: FetchParams;
    result: FetchResult;
    writes: true;
    errors: -32015 | -32016 | -32017 | -32018 | -32019 | -32021;
  };
  "git/log": {
    params: LogParams;
    result: LogResult;
    writes: false;
    errors: -32002 | -32003 | -32016;
  };
  "git/prune": {
    params: PruneParams;
    result: PruneResult;
    writes: true;
    errors: -32015 | -32016 | -32017 | -32018 | -32019 | -32021;
  };
  "git/pull": {
    params: PullParams;
    result: PullResult;
    writes: true;
    errors: -32003 | -32010 | -32013 | -32015 | -32016 | -32017 | -32018 | -32019 | -32020 | -32021 | -32022;
  };
  "git/pull_request_url": {
    params: NoParams;
    result: PullRequestUrl;
    writes: false;
    errors: -32016;
  };
  "git/push": {
    params: NoParams;
    result: PushResult;
    writes: true;
    errors: -32010 | -32014 | -32015 | -32016 | -32017 | -32018 | -32019 | -32021;
  };
  "git/refresh_remote": {
    params: RefreshRemoteParams;
    result: RemoteFetch;
    writes: true;
    errors: never;
  };
  "git/resolve": {
    params: ResolveParams;
    result: ResolveResult;
    writes: true;
    errors: -32002 | -32016 | -32020 | -32021;
  };
  "git/revert": {
    params: RevertParams;
    result: RevertResult;
    writes: true;
    errors: -32003 | -32010 | -32011 | -32013 | -32016 | -32020 | -32021 | -32022;
  };
  "git/show": {
    params: RevertParams;
    result: ShowResult;
    writes: false;
    errors: -32003 | -32016;
  };
  "git/stage": {
    params: PathsParams;
    result: PathsResult;
    writes: true;
    errors: -32002 | -32016 | -32020 | -32021;
  };
  "git/status": {
    params: NoParams;
    result: GitStatus;
    writes: false;
    errors: -32016;
  };
  "git/unstage": {
    params: PathsParams;
    result: PathsResult;
    writes: true;
    errors: -32002 | -32016 | -32021;
  };
  "lint/run": {
    params: LintParams;
    result: LintResult;
    writes: false;
    errors: -32002 | -32061;
  };
  "query/cancel": {
    params: QueryCancelParams;
    result: QueryCancelResult;
    writes: false;
    errors: never;
  };
  "query/preview": {
    params: PreviewParams;
    result: PreviewResult;
    writes: false;
    errors: -32002 | -32004 | -32030 | -32040 | -32042 | -32043;
  };
  "session/heartbeat": {
    params: NoParams;
    result: HeartbeatResult;
    writes: false;
    errors: never;
  };
  "session/status": {
    params: NoParams;
    result: SessionStatus;
    writes: false;
    errors: never;
  };
}

export type MethodName = keyof Methods;

/** Every notification the pod sends, with its params. */
export interface Notifications {
  "dbt/done": DbtDone;
  "dbt/log": DbtLog;
  "dbt/node": DbtNode;
  "fs/changed": FsChanged;
  "git/changed": GitChanged;
  "git/progress": GitProgress;
  "git/remote_fetch": RemoteFetch;
  "query/columns": QueryColumns;
  "query/done": QueryDone;
  "query/error": QueryError;
  "query/rows": QueryRows;
}

export type NotificationName = keyof Notifications;

/** Every error code the pod answers (JSON-RPC's own and the IDE's). */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  forbidden: -32001,
  invalidPath: -32002,
  notFound: -32003,
  alreadyExists: -32004,
  notText: -32005,
  conflict: -32006,
  unavailable: -32007,
  tooLarge: -32008,
  protectedBranch: -32010,
  nothingToCommit: -32011,
  emptyMessage: -32012,
  uncommittedChanges: -32013,
  pushRejected: -32014,
  authFailed: -32015,
  wrongState: -32016,
  cancelled: -32017,
  certificate: -32018,
  remoteRefused: -32019,
  unresolvedConflicts: -32020,
  busy: -32021,
  reservedPaths: -32022,
  sqlRefused: -32030,
  compileError: -32040,
  dbtBusy: -32041,
  notDbtProject: -32042,
  noWarehouse: -32043,
  lintFailed: -32061,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_MEANINGS: Record<ErrorCodeValue, string> = {
  [-32700]: "the message is not valid JSON",
  [-32600]: "not a JSON-RPC 2.0 request object",
  [-32601]: "unknown method",
  [-32602]: "missing, unknown or mistyped params",
  [-32603]: "the method failed on the server (details in the pod log)",
  [-32001]: "the caller's role or share mode does not allow the method",
  [-32002]: "the path is outside the project or hidden",
  [-32003]: "not found",
  [-32004]: "already exists",
  [-32005]: "not a UTF-8 text file (or too large to edit)",
  [-32006]: "the file changed since the caller read it",
  [-32007]: "a dependency did not answer, or too many calls are in flight",
  [-32008]: "larger than a document can be and still be opened in the editor",
  [-32010]: "the protected primary branch only follows the remote's",
  [-32011]: "nothing to commit",
  [-32012]: "empty commit message",
  [-32013]: "the operation would overwrite uncommitted changes",
  [-32014]: "the remote branch has commits you lack",
  [-32015]: "the remote refused the credentials",
  [-32016]: "detached HEAD, a merge in progress or none, not a checkout",
  [-32017]: "cancelled with git/cancel; nothing was changed",
  [-32018]: "the remote's TLS certificate is not trusted",
  [-32019]: "the remote URL is refused by policy",
  [-32020]: "unresolved merge conflicts",
  [-32021]: "another git operation is running",
  [-32022]: "the commit tracks paths the IDE reserves (.ide/, .git/)",
  [-32030]: "the SQL does not parse or is not exactly one read statement",
  [-32040]: "dbt could not compile the node or SQL; data.path and data.line",
  [-32041]: "another dbt command that writes is running",
  [-32042]: "the project has no dbt_project.yml",
  [-32043]: "the project has no warehouse connection (an admin sets it)",
  [-32061]: "the linter or formatter failed, timed out or cannot parse the file",
};
