// The dbt commands this tab started: dbt/run, then the dbt/log, dbt/node and dbt/done
// notifications of each, matched by the invocation id the tab chose before sending it (so
// a notification that overtakes the answer is not lost). The pod sends every run's
// notifications to all sockets of the session: a run another tab (or a partner) started is
// adopted at its first notification, marked `foreign`, and described from dbt/history when
// it is the developer's own. Views listen to the events.
import { Emitter, type Listenable } from "../../events";
import type { DbtDone, DbtInvocation, DbtLog, DbtNode } from "../generated/protocol";
import type { RpcClient } from "../rpc";

export interface LiveInvocation {
  readonly id: string;
  /** Empty for another tab's run until dbt/history described it. */
  command: string;
  args: readonly string[];
  /** Started elsewhere: another tab of the session, or a partner. */
  readonly foreign: boolean;
  readonly startedAt: number;
  readonly log: DbtLog[];
  readonly nodes: DbtNode[];
  done: DbtDone | null;
}

export interface InvocationEvents {
  started: (invocation: LiveInvocation) => void;
  log: (invocation: LiveInvocation, line: DbtLog) => void;
  node: (invocation: LiveInvocation, node: DbtNode) => void;
  done: (invocation: LiveInvocation, done: DbtDone) => void;
  /** Another tab's run got its command line from dbt/history. */
  described: (invocation: LiveInvocation) => void;
  /** The pod refused to start it (bad command or flag, busy, …). */
  refused: (invocation: LiveInvocation, error: unknown) => void;
}

/** Unique in the session and its history, from any tab: random, not a counter. */
function newInvocationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "inv-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How long dbt/run may take to answer: it answers once the command's process started. */
const RUN_TIMEOUT_MS = 120_000;
/** Finished runs remembered, so a late notification of one is not adopted again. */
const ENDED_KEPT = 200;

export class DbtInvocations {
  private readonly emitter = new Emitter<InvocationEvents>();
  private readonly live = new Map<string, LiveInvocation>();
  private readonly ended: string[] = [];
  private readonly cleanups: (() => void)[];
  /** The newest invocation started from this tab. */
  current: LiveInvocation | null = null;

  constructor(private readonly rpc: RpcClient) {
    this.cleanups = [
      rpc.on("dbt/log", (line) => this.with(line.invocation_id, (inv) => {
        inv.log.push(line);
        this.emitter.emit("log", inv, line);
      })),
      rpc.on("dbt/node", (node) => this.with(node.invocation_id, (inv) => {
        inv.nodes.push(node);
        this.emitter.emit("node", inv, node);
      })),
      rpc.on("dbt/done", (done) => this.with(done.invocation_id, (inv) => {
        inv.done = done;
        this.live.delete(inv.id);
        this.ended.push(inv.id);
        if (this.ended.length > ENDED_KEPT) this.ended.shift();
        this.emitter.emit("done", inv, done);
      })),
    ];
  }

  get events(): Listenable<InvocationEvents> {
    return this.emitter;
  }

  get running(): boolean {
    return this.current !== null && this.current.done === null;
  }

  /** Starts a command; rejects with the pod's error (a bad flag is -32602 naming it). */
  async run(command: string, args: readonly string[]): Promise<LiveInvocation> {
    const invocation: LiveInvocation = {
      id: newInvocationId(), command, args, foreign: false, startedAt: Date.now(), log: [], nodes: [], done: null,
    };
    // Announced before the request: its first notifications may overtake the answer.
    const previous = this.current;
    this.live.set(invocation.id, invocation);
    this.current = invocation;
    this.emitter.emit("started", invocation);
    try {
      await this.rpc.request("dbt/run", { invocation_id: invocation.id, command, args: [...args] }, RUN_TIMEOUT_MS);
    } catch (error) {
      this.live.delete(invocation.id);
      if (this.current === invocation) this.current = previous;
      this.emitter.emit("refused", invocation, error);
      throw error;
    }
    return invocation;
  }

  /**
   * Asks the pod to cancel the running command (this tab's, or the one named: any of the
   * session's); its dbt/done (cancelled) follows to the tab that started it.
   */
  async cancel(invocationId?: string): Promise<boolean> {
    const id = invocationId ?? (this.current && !this.current.done ? this.current.id : null);
    if (!id) return false;
    const result = await this.rpc.request("dbt/cancel", { invocation_id: id });
    return result.cancelled;
  }

  /** The caller's past and running invocations, newest first. */
  async history(limit = 50): Promise<DbtInvocation[]> {
    return (await this.rpc.request("dbt/history", { limit })).invocations;
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.emitter.clear();
    this.live.clear();
  }

  private with(id: string, apply: (invocation: LiveInvocation) => void): void {
    const invocation = this.live.get(id) ?? this.adopt(id);
    if (invocation) apply(invocation);
  }

  /** Another tab's (or a partner's) run, seen first by one of its notifications. */
  private adopt(id: string): LiveInvocation | null {
    if (this.ended.includes(id)) return null;
    const invocation: LiveInvocation = {
      id, command: "", args: [], foreign: true, startedAt: Date.now(), log: [], nodes: [], done: null,
    };
    this.live.set(id, invocation);
    this.emitter.emit("started", invocation);
    void this.history(20).then((list) => {
      const record = list.find((entry) => entry.invocation_id === id);
      if (!record) return;
      invocation.command = record.command;
      invocation.args = record.args;
      this.emitter.emit("described", invocation);
    }, () => undefined);
    return invocation;
  }
}
