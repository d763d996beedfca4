// sockeye.js: the browser client of Sockeye topics (protocol sockeye.v1, docs/protocol.md).
// An ES module with no dependencies and no build step: import { connect } from "/sockeye.js".
//
// It connects, reconnects with exponential backoff and jitter, resubscribes every topic with the last position it
// received (so history fills the gap: every message exactly once, in order), publishes with acknowledgement and a
// timeout, and reports connection state and presence.

const SUBPROTOCOL = "sockeye.v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Error thrown by publish/subscribe when the server refuses, the request times out or the client is closed. */
export class SockeyeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SockeyeError";
    this.code = code;
  }
}

/**
 * Connects to a topics endpoint. `url` is a ws:// or wss:// URL, or a path ("/chat") resolved against the page; or,
 * for several nodes sharing topics (docs/scale-out.md), an array of them, tried in turn (the first connection uses
 * the first, each new connection attempt the next, round-robin); or a function called before each connection attempt
 * with the number of attempts made so far (0 first) that returns one. Returns a Client at once; it connects in the
 * background and reconnects until close(). `client.url` is the URL of the current (or latest) attempt.
 */
export function connect(url, options = {}) {
  return new Client(url, options);
}

class Subscription {
  constructor(client, topic, options) {
    this.client = client;
    this.topic = topic;
    this.onMessage = options.onMessage || null;
    this.onPresence = options.onPresence || null;
    this.onReset = options.onReset || null;
    this.onGap = options.onGap || null;
    this.presence = options.presence;
    this.position = options.since || null; // {epoch, offset} of the last message received
    this.active = true;
    this.live = false; // true from its `subscribed` on the current connection
    this.requestId = 0; // the id of its latest `sub` request
    this.members = new Map();
    this._ready = null;
    this._sync = null; // presence events received while the member list is being fetched (see _syncPresence)
  }

  /** Resolves when the (current) subscription is live: {epoch, offset, recovered}. */
  get ready() {
    return this._ready.promise;
  }

  /** Ends the subscription. */
  unsubscribe() {
    if (!this.active) return Promise.resolve();
    this.active = false;
    const client = this.client;
    client._subs.delete(this.topic);
    if (!this._ready.settled) this._ready.reject(new SockeyeError("closed", `unsubscribed from '${this.topic}' before it was live`));
    // Subscriptions live and die with a connection: with none up there is nothing to end on the server. Queuing
    // the `unsub` for the next connection would end a subscription made again meanwhile (it is sent first).
    if (client.state !== "open" || !client._ws || client._ws.readyState !== 1) return Promise.resolve();
    return client._request({ op: "unsub", topic: this.topic }).catch(() => {});
  }
}

class Client {
  constructor(url, options) {
    this._urlFor = urlSource(url);
    this._connects = 0; // connection attempts made, the argument of the next _urlFor
    this.url = this._urlFor(0); // a bad URL (list) throws here, at connect()
    this.options = {
      minDelay: 250, // ms before the first reconnect
      maxDelay: 15000, // ms, the backoff's ceiling
      timeout: 10000, // ms for a publish or subscribe answer
      WebSocket: globalThis.WebSocket,
      ...options,
    };
    this.state = "connecting"; // connecting | open | reconnecting | closed
    this.connection = null; // this connection's id, from hello
    this.attempts = 0;
    this._subs = new Map();
    this._pending = new Map();
    this._nextId = 1;
    this._listeners = new Map();
    this._ws = null;
    this._timer = null;
    this._open();
  }

  /** Listens to "state" (state), "open" (connection id), "close" ({code, reason}), "error" (SockeyeError). */
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this._listeners.get(event).delete(listener);
  }

  /**
   * Subscribes to a topic. options: onMessage(data, {topic, epoch, offset}), onPresence({members, count, change}),
   * onReset({epoch, offset}) (the server could not resume, or reported a gap: reload your state), onGap({from, to}) (messages dropped
   * for this slow subscriber), presence (info shown to others), since ({epoch, offset}: resume from there).
   */
  subscribe(topic, options = {}) {
    if (this.state === "closed") throw new SockeyeError("closed", "the client was closed");
    if (this._subs.has(topic)) throw new SockeyeError("bad_request", `already subscribed to '${topic}'`);
    const sub = new Subscription(this, topic, typeof options === "function" ? { onMessage: options } : options);
    sub._ready = deferred();
    this._subs.set(topic, sub);
    if (this.state === "open") this._sendSubscribe(sub);
    return sub;
  }

  /**
   * Publishes text (a string) or binary (ArrayBuffer or typed array) to a topic. Resolves with its position
   * {epoch, offset} when the server acknowledges it; rejects on refusal or after options.timeout ms. While the
   * connection is down the message waits and is sent once it is up again (the timeout still runs).
   */
  publish(topic, data, options = {}) {
    return this._request({ op: "pub", topic }, data, options.timeout);
  }

  /** The members of a topic with presence on: {members: [{connection, info}], count}. */
  presence(topic, options = {}) {
    return this._request({ op: "presence", topic }, undefined, options.timeout).then((m) => ({ members: m.members, count: m.count }));
  }

  /** Closes for good (no reconnect): pending requests and subscriptions not yet live are rejected with "closed". */
  close() {
    if (this.state === "closed") return;
    this._setState("closed");
    clearTimeout(this._timer);
    if (this._ws) this._ws.close(1000);
    const error = new SockeyeError("closed", "the client was closed");
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this._pending.clear();
    for (const sub of this._subs.values()) if (!sub._ready.settled) sub._ready.reject(error);
  }

  _emit(event, value) {
    const set = this._listeners.get(event);
    if (set) for (const listener of [...set]) listener(value);
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  _open() {
    const attempt = this._connects++;
    if (attempt > 0) {
      try {
        this.url = this._urlFor(attempt);
      } catch (e) {
        // A url function that throws (or returns something unusable) later on: reported, then tried again later.
        this._emit("error", e instanceof SockeyeError ? e : new SockeyeError("bad_request", String(e && e.message || e)));
        this._retry();
        return;
      }
    }
    const ws = new this.options.WebSocket(this.url, SUBPROTOCOL);
    ws.binaryType = "arraybuffer";
    this._ws = ws;
    ws.onmessage = (e) => this._receive(e.data);
    // A failed attempt is reported by the close that follows; without a handler Node's `ws` would throw the error.
    ws.onerror = () => {};
    ws.onclose = (e) => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._emit("close", { code: e.code, reason: e.reason });
      for (const sub of this._subs.values()) if (sub._ready.settled) sub._ready = deferred();
      // A request sent on the lost connection may or may not have been applied: publishes and presence queries
      // fail (retrying could duplicate a message). Subscriptions are made again from _subs on the next connection,
      // so every pending `sub` goes, sent or not: one left unsent (made while the socket was already closing) would
      // otherwise be sent too, and its "already subscribed" error would end the live subscription.
      for (const [id, p] of this._pending) {
        if (p.request.op === "sub") {
          this._pending.delete(id);
          continue;
        }
        if (!p.sent) continue;
        this._pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new SockeyeError("disconnected", `the connection closed before '${p.request.op}' was answered; its outcome is unknown`));
      }
      this._retry();
    };
  }

  _retry() {
    if (this.state === "closed") return;
    this._setState("reconnecting");
    // Full jitter: a random delay up to the exponential bound, so a restarted server is not hit by every client at once.
    const bound = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this.attempts);
    this.attempts++;
    this._timer = setTimeout(() => this._open(), Math.random() * bound);
  }

  _receive(data) {
    let msg;
    let payload;
    if (typeof data === "string") {
      msg = JSON.parse(data);
    } else {
      const view = new DataView(data);
      const length = view.getUint32(0);
      msg = JSON.parse(decoder.decode(new Uint8Array(data, 4, length)));
      payload = data.slice(4 + length);
    }
    switch (msg.op) {
      case "hello":
        this.connection = msg.connection;
        this.attempts = 0;
        this._setState("open");
        this._emit("open", msg.connection);
        for (const sub of this._subs.values()) this._sendSubscribe(sub);
        for (const p of this._pending.values()) if (!p.sent) this._send(p);
        break;
      case "msg": {
        const sub = this._subs.get(msg.topic);
        // Before its `subscribed`, a message of this topic belongs to an earlier subscription (one just ended with
        // `unsub` whose messages were still on the way), not to this one (§5: `subscribed` comes first).
        if (!sub || !sub.live) break;
        const pos = sub.position;
        // Each offset once: anything at or before the last position of this epoch was already delivered.
        if (pos && pos.epoch === msg.epoch && msg.offset <= pos.offset) break;
        sub.position = { epoch: msg.epoch, offset: msg.offset };
        if (sub.onMessage) sub.onMessage(payload !== undefined ? payload : msg.text, { topic: msg.topic, epoch: msg.epoch, offset: msg.offset });
        break;
      }
      case "subscribed": {
        this._answer(msg);
        const sub = this._subs.get(msg.topic);
        // The answer to this subscription's latest `sub`, not to an earlier one of the same topic (since ended).
        if (!sub || msg.id !== sub.requestId) break;
        sub.live = true;
        const resumed = msg.recovered === true;
        if (!resumed) {
          const hadPosition = sub.position !== null;
          sub.position = { epoch: msg.epoch, offset: msg.offset };
          if (hadPosition && sub.onReset) sub.onReset({ epoch: msg.epoch, offset: msg.offset });
        }
        sub._ready.resolve({ epoch: msg.epoch, offset: msg.offset, recovered: resumed });
        sub.members = new Map(); // members seen on an earlier connection may be gone (our own old one is)
        if (sub.onPresence) this._syncPresence(sub);
        break;
      }
      case "ack":
      case "presence":
      case "unsubscribed":
        this._answer(msg);
        if (msg.op === "unsubscribed" && msg.reason) {
          const sub = this._subs.get(msg.topic);
          if (sub && sub.live) { sub.active = false; sub.live = false; this._subs.delete(msg.topic); }
        }
        break;
      case "reset": {
        // The stream did not continue from what we have (a backplane lost messages or restarted): adopt its position.
        const sub = this._subs.get(msg.topic);
        if (!sub || !sub.active) break;
        sub.position = { epoch: msg.epoch, offset: msg.offset };
        if (sub.onReset) sub.onReset({ epoch: msg.epoch, offset: msg.offset });
        break;
      }
      case "dropped": {
        const sub = this._subs.get(msg.topic);
        if (sub && sub.live && sub.onGap) sub.onGap({ from: msg.from, to: msg.to });
        break;
      }
      case "join":
      case "leave": {
        const sub = this._subs.get(msg.topic);
        if (!sub || !sub.live) break;
        if (sub._sync) sub._sync.push(msg);
        applyPresence(sub, msg);
        if (sub.onPresence) sub.onPresence({ change: msg.op, member: msg.member, members: [...sub.members.values()], count: sub.members.size });
        break;
      }
      case "error": {
        const error = new SockeyeError(msg.code, msg.message);
        if (msg.id !== undefined && this._pending.has(msg.id)) {
          this._answer(msg, error);
        } else {
          this._emit("error", error);
        }
        break;
      }
      default:
        break; // §1: unknown server messages are ignored
    }
  }

  _answer(msg, error) {
    if (msg.id === undefined) return;
    const p = this._pending.get(msg.id);
    if (!p) return;
    this._pending.delete(msg.id);
    clearTimeout(p.timer);
    if (error) {
      if (p.request.op === "sub") {
        const sub = this._subs.get(p.request.topic);
        if (sub && sub.requestId === msg.id) { sub.active = false; this._subs.delete(p.request.topic); sub._ready.reject(error); }
      }
      p.reject(error);
    } else {
      p.resolve(msg.op === "ack" ? { epoch: msg.epoch, offset: msg.offset } : msg);
    }
  }

  // join/leave events only tell changes: a new subscriber fetches the members already there. Events that arrive
  // while the list is on its way are applied again on top of it (they are idempotent), so a change that raced
  // the list is neither lost nor undone; then onPresence gets the whole list as a "sync" event.
  _syncPresence(sub) {
    const events = [];
    sub._sync = events;
    this._request({ op: "presence", topic: sub.topic }).then((answer) => {
      if (sub._sync !== events || !sub.active) return; // a newer subscription took over
      sub._sync = null;
      sub.members = new Map(answer.members.map((m) => [m.connection, m]));
      for (const e of events) applyPresence(sub, e);
      if (sub.onPresence) sub.onPresence({ change: "sync", member: null, members: [...sub.members.values()], count: sub.members.size });
    }, () => {
      if (sub._sync === events) sub._sync = null;
    });
  }

  _sendSubscribe(sub) {
    sub.live = false;
    const request = { op: "sub", topic: sub.topic };
    if (sub.position) request.since = sub.position;
    if (sub.presence !== undefined) request.presence = sub.presence;
    // A subscribe is re-sent on every reconnect, with the position reached so far.
    const id = this._nextId++;
    request.id = id;
    sub.requestId = id;
    const p = { request, data: undefined, sent: false, resolve: () => {}, reject: () => {}, timer: null };
    this._pending.set(id, p);
    this._send(p);
  }

  _request(request, data, timeout) {
    if (this.state === "closed") return Promise.reject(new SockeyeError("closed", "the client was closed"));
    return new Promise((resolve, reject) => {
      const id = this._nextId++;
      request.id = id;
      const p = { request, data, sent: false, resolve, reject, timer: null };
      p.timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new SockeyeError("timeout", `no answer to '${request.op}' on '${request.topic}' within ${timeout ?? this.options.timeout} ms`));
      }, timeout ?? this.options.timeout);
      this._pending.set(id, p);
      if (this.state === "open") this._send(p);
    });
  }

  _send(p) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return;
    p.sent = true;
    const { data } = p;
    if (data === undefined || typeof data === "string") {
      ws.send(JSON.stringify(data === undefined ? p.request : { ...p.request, text: data }));
      return;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const json = encoder.encode(JSON.stringify(p.request));
    const frame = new Uint8Array(4 + json.length + bytes.length);
    new DataView(frame.buffer).setUint32(0, json.length);
    frame.set(json, 4);
    frame.set(bytes, 4 + json.length);
    ws.send(frame);
  }
}

function applyPresence(sub, event) {
  if (event.op === "join") sub.members.set(event.member.connection, event.member);
  else sub.members.delete(event.member.connection);
}

// A promise with its settle functions; `settled` tells whether it is spent (a subscription's `ready` is renewed on
// each reconnect only if it was already settled, so a waiting caller is not left behind).
function deferred() {
  const d = { settled: false };
  d.promise = new Promise((res, rej) => {
    d.resolve = (v) => { d.settled = true; res(v); };
    d.reject = (e) => { d.settled = true; rej(e); };
  });
  d.promise.catch(() => {});
  return d;
}

// The URL of connection attempt n (0 first) for connect()'s `url`: a string, an array tried in turn, or a function.
function urlSource(url) {
  if (typeof url === "function") return (n) => resolveUrl(url(n));
  if (Array.isArray(url)) {
    if (url.length === 0) throw new SockeyeError("bad_request", "the list of URLs is empty");
    const urls = url.map(resolveUrl);
    return (n) => urls[n % urls.length];
  }
  const resolved = resolveUrl(url);
  return () => resolved;
}

function resolveUrl(url) {
  if (typeof url !== "string") throw new SockeyeError("bad_request", `${typeof url} is not a URL`);
  if (/^wss?:\/\//.test(url)) return url;
  const base = globalThis.location;
  if (!base) throw new SockeyeError("bad_request", `'${url}' is not a ws:// or wss:// URL`);
  const u = new URL(url, base.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}
