// One preview at a time from this tab: query/preview, then its notifications in order.
// The tab names each preview (query_id) before sending it, so every notification can be
// matched as it arrives, even one that overtakes the answer; those of other (older,
// cancelled) previews are ignored.
import { errorMessage } from "../../ui/notice";
import type { QueryDone } from "../generated/protocol";
import { RpcError, type RpcClient } from "../rpc";
import type { SqlPosition } from "./errormark";
import type { Column } from "./grid";

export type PreviewSummary = Omit<QueryDone, "query_id">;

export interface PreviewListener {
  columns(columns: Column[]): void;
  rows(rows: unknown[][]): void;
  done(summary: PreviewSummary): void;
  failed(message: string, position: SqlPosition | undefined, cancelled: boolean): void;
}

/** Unique among this tab's previews, which is all the pod asks (one socket per tab). */
let previewsStarted = 0;
function newQueryId(): string {
  previewsStarted += 1;
  return `preview-${previewsStarted}`;
}

export class PreviewRunner {
  /** The query whose notifications are shown. */
  private current: string | null = null;
  private readonly cleanups: (() => void)[];

  constructor(
    private readonly rpc: RpcClient,
    private readonly listener: PreviewListener,
  ) {
    this.cleanups = [
      rpc.on("query/columns", (params) => {
        if (this.isCurrent(params)) this.listener.columns(params.columns);
      }),
      rpc.on("query/rows", (params) => {
        if (this.isCurrent(params)) this.listener.rows(params.rows);
      }),
      rpc.on("query/done", (params) => {
        if (!this.isCurrent(params)) return;
        this.current = null;
        this.listener.done(params);
      }),
      rpc.on("query/error", (params) => {
        if (!this.isCurrent(params)) return;
        this.current = null;
        this.listener.failed(params.message, params.position, params.cancelled);
      }),
      rpc.onStateChange((state) => {
        // The pod cancels the previews of a closed socket; their results will not come.
        if (state !== "open" && this.current) {
          this.current = null;
          this.listener.failed("The connection to the session was lost; the preview was stopped.", undefined, true);
        }
      }),
    ];
  }

  get running(): boolean {
    return this.current !== null;
  }

  /** With `path` (a dbt model's), the pod compiles `sql` in that node's context first. */
  async start(sql: string, limit: number, path?: string): Promise<void> {
    void this.cancel();
    const queryId = newQueryId();
    this.current = queryId;
    try {
      await this.rpc.request("query/preview", { query_id: queryId, sql, limit, ...(path ? { path } : {}) });
    } catch (error) {
      if (this.current !== queryId) return;
      this.current = null;
      const data = error instanceof RpcError ? (error.data as { position?: SqlPosition; line?: unknown } | undefined) : undefined;
      // A dbt compilation error (-32040) names only the line.
      const position = data?.position ?? (typeof data?.line === "number" ? { line: data.line, column: 1 } : undefined);
      this.listener.failed(errorMessage(error), position, false);
    }
  }

  /** Asks the pod to stop the running preview; its query/error (cancelled) follows. */
  async cancel(): Promise<void> {
    const queryId = this.current;
    if (!queryId) return;
    try {
      // `cancelled: false` means it finished first: its last notification is on the way.
      await this.rpc.request("query/cancel", { query_id: queryId });
    } catch {
      // The connection dropped: the state listener reports it.
    }
  }

  dispose(): void {
    this.current = null;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private isCurrent(params: { query_id: string }): boolean {
    return params.query_id === this.current;
  }
}
