// One preview at a time from this tab: query/preview, then its notifications in order.
// Notifications of other (older, cancelled) queries are ignored.
import { errorMessage } from "../../ui/notice";
import { RpcError, type RpcClient } from "../rpc";
import type { SqlPosition } from "./errormark";
import type { Column } from "./grid";

export interface PreviewSummary {
  row_count: number;
  elapsed_ms: number;
  truncated: boolean;
}

export interface PreviewListener {
  columns(columns: Column[]): void;
  rows(rows: unknown[][]): void;
  done(summary: PreviewSummary): void;
  failed(message: string, position: SqlPosition | undefined, cancelled: boolean): void;
}

type Notification = { query_id: string } & Record<string, unknown>;
const METHODS = ["query/columns", "query/rows", "query/done", "query/error"] as const;

export class PreviewRunner {
  /** The query whose notifications are shown. */
  private current: string | null = null;
  private generation = 0;
  private starting = false;
  /** Notifications that arrived before the answer naming their query (kept until it comes). */
  private early: [string, Notification][] = [];
  private readonly cleanups: (() => void)[];

  constructor(
    private readonly rpc: RpcClient,
    private readonly listener: PreviewListener,
  ) {
    this.cleanups = [
      ...METHODS.map((method) => rpc.on(method, (params: Notification) => this.receive(method, params))),
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

  async start(sql: string, limit: number): Promise<void> {
    void this.cancel();
    const generation = ++this.generation;
    this.early = [];
    this.current = null;
    this.starting = true;
    try {
      const { query_id } = await this.rpc.request<{ query_id: string }>("query/preview", { sql, limit });
      if (generation !== this.generation) {
        void this.rpc.request("query/cancel", { query_id }).catch(() => undefined);
        return;
      }
      this.current = query_id;
      const early = this.early.filter(([, params]) => params.query_id === query_id);
      this.early = [];
      for (const [method, params] of early) this.receive(method, params);
    } catch (error) {
      if (generation !== this.generation) return;
      const data = error instanceof RpcError ? (error.data as { position?: SqlPosition } | undefined) : undefined;
      this.listener.failed(errorMessage(error), data?.position, false);
    } finally {
      if (generation === this.generation) this.starting = false;
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
    this.generation++;
    this.current = null;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private receive(method: string, params: Notification): void {
    if (params.query_id !== this.current) {
      if (this.starting) this.early.push([method, params]);
      return;
    }
    switch (method) {
      case "query/columns":
        this.listener.columns(params.columns as Column[]);
        break;
      case "query/rows":
        this.listener.rows(params.rows as unknown[][]);
        break;
      case "query/done":
        this.current = null;
        this.listener.done(params as unknown as PreviewSummary);
        break;
      case "query/error":
        this.current = null;
        this.listener.failed(String(params.message), params.position as SqlPosition | undefined, Boolean(params.cancelled));
        break;
    }
  }
}
