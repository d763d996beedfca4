// Types of sockeye.js, the browser client of Sockeye topics (protocol sockeye.v1, docs/protocol.md).

/** A message's place in its topic: offsets grow by one per message; the epoch changes when continuity is lost. */
export interface Position {
  epoch: string;
  offset: number;
}

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface ClientOptions {
  /** Milliseconds before the first reconnect attempt (default 250); doubles per failed attempt, with full jitter. */
  minDelay?: number;
  /** Ceiling of the reconnect delay in milliseconds (default 15000). */
  maxDelay?: number;
  /**
   * Milliseconds to wait for a publish or presence answer (default 10000). A subscription has no timeout: it is
   * made again on every reconnect until unsubscribe() or close().
   */
  timeout?: number;
  /** The WebSocket constructor (default globalThis.WebSocket; pass Node's `ws` outside a browser). */
  WebSocket?: unknown;
}

export interface PresenceMember {
  connection: string;
  info: unknown;
}

/**
 * A presence change. "sync" comes once the subscription is live (again, after each reconnect) and carries the whole
 * member list as the server has it, including members that were there before; "join"/"leave" name one member.
 */
export interface PresenceEvent {
  change: "join" | "leave" | "sync";
  /** The member that joined or left (null for "sync"). */
  member: PresenceMember | null;
  members: PresenceMember[];
  count: number;
}

export interface MessageMeta extends Position {
  topic: string;
}

export interface SubscribeOptions {
  /** Called for each message, in order, each offset once. Text arrives as a string, binary as an ArrayBuffer. */
  onMessage?: (data: string | ArrayBuffer, meta: MessageMeta) => void;
  /** Presence changes (topics with presence on); `members` and `count` are the whole list each time. */
  onPresence?: (event: PresenceEvent) => void;
  /** The server could not resume from the last position (restart, history too short), or told of a gap (`reset`): reload your state. */
  onReset?: (position: Position) => void;
  /** Messages from..to were dropped because this client read too slowly (server policy drop-oldest). */
  onGap?: (gap: { from: number; to: number }) => void;
  /** This member's info, shown to others in presence. */
  presence?: unknown;
  /** Resume from this position (e.g. one saved in sessionStorage). */
  since?: Position;
}

export interface Subscription {
  readonly topic: string;
  /** The last position received. */
  readonly position: Position | null;
  /**
   * Resolves when the current subscription is live (`recovered`: it resumed from `position` without a gap). After a
   * reconnect it is a new promise for the new subscription. Rejects if the server refuses it, or on
   * unsubscribe() or close() before it is live.
   */
  readonly ready: Promise<Position & { recovered: boolean }>;
  unsubscribe(): Promise<void>;
}

export declare class SockeyeError extends Error {
  /**
   * From the server: bad_request, unknown_op, forbidden, not_subscribed, too_large, unavailable. From the client:
   * timeout (no answer in time), disconnected (the connection closed before the answer: outcome unknown), closed
   * (the client was closed).
   */
  readonly code: string;
}

export interface Client {
  readonly state: ConnectionState;
  /** The URL of the current (or latest) connection attempt. */
  readonly url: string;
  /** This connection's id as presence shows it (null until connected). */
  readonly connection: string | null;
  on(event: "state", listener: (state: ConnectionState) => void): () => void;
  on(event: "open", listener: (connection: string) => void): () => void;
  on(event: "close", listener: (info: { code: number; reason: string }) => void): () => void;
  on(event: "error", listener: (error: SockeyeError) => void): () => void;
  subscribe(topic: string, options?: SubscribeOptions | ((data: string | ArrayBuffer, meta: MessageMeta) => void)): Subscription;
  /** Resolves with the message's position once the server acknowledges it. */
  publish(topic: string, data: string | ArrayBuffer | ArrayBufferView, options?: { timeout?: number }): Promise<Position>;
  presence(topic: string, options?: { timeout?: number }): Promise<{ members: PresenceMember[]; count: number }>;
  close(): void;
}

/**
 * Where to connect: a ws:// or wss:// URL or a path resolved against the page; an array of them for several nodes
 * sharing topics (docs/scale-out.md), tried in turn (the first connection uses the first, each new attempt the next,
 * round-robin); or a function called before each connection attempt with the number of attempts made so far (0 for
 * the first) that returns one.
 */
export type Endpoint = string | readonly string[] | ((attempt: number) => string);

/** Connects (and keeps reconnecting) to a topics endpoint; throws SockeyeError "bad_request" for an unusable URL. */
export declare function connect(url: Endpoint, options?: ClientOptions): Client;
