// A tiny graphql-transport-ws client for one subscription: connects, subscribes, answers
// pings, and on any drop reconnects with backoff and subscribes again with fresh variables
// (the dashboard passes `since` = the newest `updatedAt` it has seen, so nothing is missed).
// Protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md

/** What the subscription reports to its owner. */
export interface LiveHandlers {
  /** A `next` payload's `data` (may be null when the payload only carries errors). */
  next(data: unknown): void;
  /** A GraphQL error sent by the server (the subscription goes on). */
  error(message: string): void;
  /** Connection state, for display: `connecting`, `live`, `offline`. */
  state(state: 'connecting' | 'live' | 'offline'): void;
}

/** The websocket endpoint of this page's server. */
export function wsUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

const MAX_BACKOFF_MS = 30_000;

/** One subscription kept alive until `stop()`. */
export class LiveSubscription {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private retryTimer: number | undefined;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly query: string,
    private readonly variables: () => Record<string, unknown>,
    private readonly on: LiveHandlers,
  ) {}

  /** Opens the socket and subscribes. */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes for good (no reconnect). */
  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
  }

  private connect(): void {
    this.on.state('connecting');
    const socket = new WebSocket(this.url, 'graphql-transport-ws');
    this.socket = socket;
    let subscriptionId = '';
    const send = (message: object) => socket.send(JSON.stringify(message));
    socket.onopen = () => send({ type: 'connection_init', payload: {} });
    socket.onmessage = (event: MessageEvent) => {
      if (socket !== this.socket) return;
      let message: { id?: string; type?: string; payload?: any };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        socket.close(4400, 'invalid message');
        return;
      }
      switch (message.type) {
        case 'connection_ack':
          this.attempt = 0;
          subscriptionId = String(this.nextId++);
          send({
            id: subscriptionId,
            type: 'subscribe',
            payload: { query: this.query, variables: this.variables() },
          });
          this.on.state('live');
          break;
        case 'ping':
          send({ type: 'pong' });
          break;
        case 'next':
          if (message.id !== subscriptionId) break;
          for (const e of message.payload?.errors ?? []) this.on.error(String(e?.message ?? e));
          this.on.next(message.payload?.data ?? null);
          break;
        case 'error':
          if (message.id !== subscriptionId) break;
          for (const e of message.payload ?? []) this.on.error(String(e?.message ?? e));
          socket.close(1000, 'subscription failed');
          break;
        case 'complete':
          // The server ended the stream (shutting down): start again on a new connection.
          if (message.id === subscriptionId) socket.close(1000, 'completed');
          break;
      }
    };
    socket.onclose = () => {
      if (socket !== this.socket || this.stopped) return;
      this.socket = null;
      this.on.state('offline');
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++);
      this.retryTimer = window.setTimeout(() => this.connect(), delay);
    };
  }
}
