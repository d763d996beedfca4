'use strict';
// A TCP proxy that watches WebSocket traffic: it forwards bytes unchanged between a client and a
// target port and, per connection and direction, records the HTTP handshake head, the total byte
// count and every frame (FIN, RSV1-3, opcode, payload length; payloads on request). Frames are
// grouped into messages, so a test can see which messages went compressed (RSV1 on the first frame)
// and how many bytes each took on the wire.
//
// Ordering guarantee used by the tests (no sleeps): a chunk is parsed before it is forwarded, so once
// the receiving peer has seen a message, the proxy has already recorded its frames.
const net = require('node:net');
const { EventEmitter } = require('node:events');

const OPCODES = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** Parses one direction of one connection: an HTTP head, then (if the upgrade succeeded) frames. */
class Tap extends EventEmitter {
  constructor(name, { keepPayloads }) {
    super();
    this.name = name;
    this.keepPayloads = keepPayloads;
    this.bytes = 0; // every byte that went this way, head included
    this.headBytes = 0;
    this.head = null; // the HTTP request/response head (text), once complete
    this.frames = []; // { fin, rsv1, rsv2, rsv3, opcode, length, masked }
    this.messages = []; // complete data messages: { type, compressed, wireLength, frames, payload? }
    this.controls = []; // control frames: { opcode, payload }
    this.framing = false; // true once frames are being parsed
    this.stopped = false;
    this.error = null;
    this._headText = '';
    this._pending = Buffer.alloc(0);
    this._frame = null; // frame whose payload is being read
    this._message = null; // data message being assembled
  }

  push(chunk) {
    this.bytes += chunk.length;
    if (this.stopped || this.error) return;
    try {
      this._push(chunk);
    } catch (e) {
      this.error = e;
      this.emit('protocol-error', e);
    }
  }

  _push(chunk) {
    if (this.head === null) {
      this._headText += chunk.toString('latin1');
      const end = this._headText.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this._headText.length > 65536) this.stopped = true;
        return;
      }
      this.head = this._headText.slice(0, end);
      this.headBytes = end + 4;
      const rest = Buffer.from(this._headText.slice(end + 4), 'latin1');
      this._headText = '';
      this.emit('head', this.head);
      if (!this.framing) {
        // Frames follow only once the connection is upgraded; the owner calls startFraming().
        this._early = rest;
        return;
      }
      chunk = rest;
    } else if (!this.framing) {
      this._early = Buffer.concat([this._early ?? Buffer.alloc(0), chunk]);
      return;
    }
    this._frames(chunk);
  }

  startFraming() {
    if (this.framing) return;
    this.framing = true;
    if (this._early && this._early.length) {
      const early = this._early;
      this._early = null;
      this._frames(early);
    }
  }

  _frames(chunk) {
    let buf = this._pending.length ? Buffer.concat([this._pending, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (this._frame) {
        const f = this._frame;
        const take = Math.min(f.remaining, buf.length - off);
        if (f.parts) {
          const part = Buffer.from(buf.subarray(off, off + take));
          if (f.mask) for (let i = 0; i < part.length; i++) part[i] ^= f.mask[(f.length - f.remaining + i) & 3];
          f.parts.push(part);
        }
        f.remaining -= take;
        off += take;
        if (f.remaining > 0) break;
        this._frame = null;
        this._endFrame(f);
        continue;
      }
      if (buf.length - off < 2) break;
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) hdr += 2;
      else if (len === 127) hdr += 8;
      const masked = (b1 & 0x80) !== 0;
      if (masked) hdr += 4;
      if (buf.length - off < hdr) break;
      if (len === 126) len = buf.readUInt16BE(off + 2);
      else if (len === 127) len = Number(buf.readBigUInt64BE(off + 2));
      const mask = masked ? Buffer.from(buf.subarray(off + hdr - 4, off + hdr)) : null;
      const opcode = b0 & 0x0f;
      const frame = {
        fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, rsv2: (b0 & 0x20) !== 0, rsv3: (b0 & 0x10) !== 0,
        opcode, length: len, masked,
      };
      this.frames.push(frame);
      off += hdr;
      const keep = opcode >= 8 || this.keepPayloads;
      this._frame = { frame, mask, length: len, remaining: len, parts: keep ? [] : null };
      if (len === 0) {
        this._frame = null;
        this._endFrame({ frame, parts: keep ? [] : null });
      }
    }
    this._pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }

  _endFrame({ frame, parts }) {
    const payload = parts ? Buffer.concat(parts) : null;
    this.emit('frame', frame);
    if (frame.opcode >= 8) {
      const c = { opcode: frame.opcode, type: OPCODES[frame.opcode] ?? `op${frame.opcode}`, payload, rsv1: frame.rsv1 };
      if (frame.opcode === 8 && payload.length >= 2) c.code = payload.readUInt16BE(0);
      this.controls.push(c);
      this.emit('control', c);
      return;
    }
    if (frame.opcode === 0) {
      if (!this._message) throw new Error(`${this.name}: continuation frame without a message`);
    } else {
      if (this._message) throw new Error(`${this.name}: new data frame in the middle of a fragmented message`);
      this._message = {
        type: OPCODES[frame.opcode] ?? `op${frame.opcode}`, compressed: frame.rsv1, wireLength: 0, frames: [],
        payloadParts: parts ? [] : null,
      };
    }
    const m = this._message;
    m.frames.push(frame);
    m.wireLength += frame.length;
    if (m.payloadParts) m.payloadParts.push(payload);
    if (frame.fin) {
      this._message = null;
      m.payload = m.payloadParts ? Buffer.concat(m.payloadParts) : null;
      delete m.payloadParts;
      this.messages.push(m);
      this.emit('message', m);
    }
  }
}

/** One proxied TCP connection: up = client -> target, down = target -> client. */
class ProxiedConnection extends EventEmitter {
  constructor(client, options) {
    super();
    this.client = client;
    this.up = new Tap('client->server', options);
    this.down = new Tap('server->client', options);
    this.upgraded = null; // true/false once the response head has been seen
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
    this.down.once('head', (head) => {
      this.upgraded = /^HTTP\/1\.1 101\b/.test(head);
      if (this.upgraded) {
        this.down.startFraming();
        this.up.startFraming();
      } else {
        this.up.stopped = true;
        this.down.stopped = true;
      }
    });
  }

  /** Header values of a head (request or response), by lower-cased name; repeated headers kept in order. */
  static headers(head) {
    const out = {};
    for (const line of (head ?? '').split('\r\n').slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      (out[k] ??= []).push(line.slice(i + 1).trim());
    }
    return out;
  }

  get requestHeaders() { return ProxiedConnection.headers(this.up.head); }

  get responseHeaders() { return ProxiedConnection.headers(this.down.head); }
}

/**
 * Starts a proxy on 127.0.0.1 (port 0 = any free port) forwarding to targetPort.
 * Returns { port, url, connections, connection(i), close() }.
 */
async function startProxy(targetPort, { port = 0, keepPayloads = false, targetHost = '127.0.0.1' } = {}) {
  const connections = [];
  const events = new EventEmitter();
  const sockets = new Set();
  const server = net.createServer((client) => {
    const conn = new ProxiedConnection(client, { keepPayloads });
    connections.push(conn);
    const target = net.connect({ host: targetHost, port: targetPort });
    sockets.add(client);
    sockets.add(target);
    client.setNoDelay(true);
    target.setNoDelay(true);
    let open = 2;
    const done = () => { if (--open === 0) conn._resolveClosed(); };
    // Parse, then forward, honouring back-pressure in both directions.
    const pipe = (from, to, tap) => {
      from.on('data', (chunk) => {
        tap.push(chunk);
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('close', (hadError) => {
        sockets.delete(from);
        if (hadError) to.destroy();
        else to.end();
        done();
      });
      from.on('error', () => {});
    };
    pipe(client, target, conn.up);
    pipe(target, client, conn.down);
    events.emit('connection', conn);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = server.address().port;
  return {
    port: actualPort,
    url: `ws://127.0.0.1:${actualPort}`,
    connections,
    /** Resolves with the index-th connection (0-based) the proxy accepted, waiting for it if need be. */
    connection(index = 0, timeoutMs = 15000) {
      if (connections[index]) return Promise.resolve(connections[index]);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`connection #${index} never reached the proxy`)), timeoutMs);
        const on = () => {
          if (!connections[index]) return;
          clearTimeout(t);
          events.off('connection', on);
          resolve(connections[index]);
        };
        events.on('connection', on);
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Parses a Sec-WebSocket-Extensions value into [{ name, params: [[key, value|true], ...] }, ...]
 * (RFC 6455 section 9.1 grammar; quoted values unquoted).
 */
function parseExtensions(value) {
  const out = [];
  if (!value) return out;
  for (const ext of value.split(',')) {
    const parts = ext.split(';').map((s) => s.trim());
    const name = parts.shift();
    if (!name) continue;
    const params = parts.filter(Boolean).map((p) => {
      const i = p.indexOf('=');
      if (i < 0) return [p, true];
      let v = p.slice(i + 1).trim();
      if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return [p.slice(0, i).trim(), v];
    });
    out.push({ name, params });
  }
  return out;
}

module.exports = { startProxy, parseExtensions, Tap, ProxiedConnection };
