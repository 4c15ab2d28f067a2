// JSON-RPC 2.0 over the session's IDE WebSocket (docs/protocol.md): one promise per
// request id, handlers for server notifications, reconnect with backoff, heartbeat.
// Methods, params, results and notifications are typed by the file generated from the
// pod's registry: calling a method the pod does not have, or with the wrong params, is a
// type error.
import type { MethodName, Methods, NotificationName, Notifications } from "./generated/protocol";
import { Emitter } from "../events";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Client-side error codes, outside the JSON-RPC and protocol ranges. */
export const RPC_DISCONNECTED = -1;
export const RPC_TIMEOUT = -2;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export interface RpcOptions {
  heartbeatMs?: number;
  requestTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

type NotificationHandler = (params: any) => void;

/** The params argument, optional when every param is; then an optional timeout. */
type RequestArgs<M extends MethodName> = {} extends Methods[M]["params"]
  ? [params?: Methods[M]["params"], timeoutMs?: number]
  : [params: Methods[M]["params"], timeoutMs?: number];

interface Pending {
  method: string;
  resolve: (value: any) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Incoming {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** Close code of a server restart (RFC 6455): reconnect at once. */
export const CLOSE_SERVICE_RESTART = 1012;

export class RpcClient {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests made while the socket is not open; sent in order once it opens. */
  private readonly outbox: { id: number; frame: string }[] = [];
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly stateEvents = new Emitter<{
    state: (state: ConnectionState, failedAttempts: number) => void;
  }>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private failedAttempts = 0;
  private readonly options: Required<RpcOptions>;
  state: ConnectionState = "closed";

  constructor(
    private readonly url: string,
    options: RpcOptions = {},
  ) {
    this.options = {
      heartbeatMs: 30_000,
      requestTimeoutMs: 60_000,
      minBackoffMs: 500,
      maxBackoffMs: 15_000,
      ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** Closes the socket for good and rejects what is still waiting. Safe to call twice. */
  stop(): void {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close(1000);
    }
    this.rejectAll("The connection to the session was closed.");
    this.outbox.length = 0;
    this.setState("closed");
  }

  request<M extends MethodName>(method: M, ...args: RequestArgs<M>): Promise<Methods[M]["result"]> {
    const [params = {}, timeoutMs] = args;
    if (!this.running) {
      return Promise.reject(new RpcError(RPC_DISCONNECTED, "Not connected to the session."));
    }
    const id = this.nextId++;
    const frame = JSON.stringify({ jsonrpc: "2.0", id, method, params });
    return new Promise<Methods[M]["result"]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const queued = this.outbox.findIndex((item) => item.id === id);
        if (queued >= 0) this.outbox.splice(queued, 1);
        reject(new RpcError(RPC_TIMEOUT, `The session did not answer ${method} in time.`));
      }, timeoutMs ?? this.options.requestTimeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
      else this.outbox.push({ id, frame });
    });
  }

  /** Subscribes to a notification method; returns the unsubscribe function. */
  on<N extends NotificationName>(method: N, handler: (params: Notifications[N]) => void): () => void {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  onStateChange(listener: (state: ConnectionState, failedAttempts: number) => void): () => void {
    return this.stateEvents.on("state", listener);
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (!this.running) return;
    // While reconnecting, the state was announced once per failed attempt already.
    if (this.failedAttempts === 0) this.setState("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.failedAttempts = 0;
      this.setState("open");
      this.startHeartbeat();
      for (const { frame } of this.outbox.splice(0)) ws.send(frame);
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      // Answers to requests already sent are lost with the socket; queued ones wait.
      for (const [id, pending] of this.pending) {
        if (this.outbox.some((item) => item.id === id)) continue;
        clearTimeout(pending.timer);
        this.pending.delete(id);
        pending.reject(new RpcError(RPC_DISCONNECTED, "The connection to the session was lost."));
      }
      // 1012 (service restart): the gateway is going away on purpose and another replica,
      // or this one once it is back, takes the socket. Reconnect at once, not after a backoff.
      this.scheduleReconnect(event.code === CLOSE_SERVICE_RESTART && this.failedAttempts === 0);
    };
  }

  private scheduleReconnect(now = false): void {
    if (!this.running) return;
    this.failedAttempts += 1;
    const base = Math.min(
      this.options.minBackoffMs * 2 ** (this.failedAttempts - 1),
      this.options.maxBackoffMs,
    );
    // A little jitter even "at once", so that every tab of a replica does not arrive together.
    const delay = now ? Math.random() * 50 : base / 2 + Math.random() * (base / 2);
    this.setState("reconnecting");
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(raw: string): void {
    let message: Incoming;
    try {
      message = JSON.parse(raw) as Incoming;
    } catch {
      return;
    }
    if (message.method !== undefined) {
      if (message.id !== undefined && message.id !== null) {
        // The protocol has no server-to-client requests; say so rather than stay silent.
        this.ws?.send(
          JSON.stringify({
            jsonrpc: "2.0",
            id: message.id,
            error: { code: -32601, message: "Method not found" },
          }),
        );
        return;
      }
      for (const handler of this.handlers.get(message.method) ?? []) {
        try {
          handler(message.params);
        } catch (error) {
          console.error(`Handler for ${message.method} failed`, error);
        }
      }
      return;
    }
    if (typeof message.id !== "number") return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) {
      const { code, message: text, data } = message.error;
      pending.reject(new RpcError(code, text, data));
    } else {
      pending.resolve(message.result);
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      this.request("session/heartbeat").catch(() => undefined);
    }, this.options.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private rejectAll(reason: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new RpcError(RPC_DISCONNECTED, reason));
    }
    this.pending.clear();
  }

  /** Announces changes; "reconnecting" is announced at every failed attempt, with its count. */
  private setState(state: ConnectionState): void {
    if (this.state === state && state !== "reconnecting") return;
    this.state = state;
    this.stateEvents.emit("state", state, this.failedAttempts);
  }
}
