'use strict';
// permessage-deflate abuse against `sockeye serve`, from real peers: decompression bombs (tiny frames
// that inflate past --max-message -> 1009), corrupt DEFLATE data (-> 1007), RSV1 where it has no
// meaning (-> 1002). After every attack the same server must still serve a fresh ws client.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const { startServe } = require('../lib/sockeye');
const { startProxy, Tap } = require('../lib/wire');
const { compressibleText } = require('../lib/payloads');

const MIB = 1024 * 1024;
const MAX = MIB; // --max-message of the server under test

/** Raw-deflates data the way permessage-deflate does (sync flush, 00 00 ff ff removed). */
function pmdCompress(data, level = 9) {
  const out = zlib.deflateRawSync(data, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(out.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff])));
  return out.subarray(0, out.length - 4);
}

/** Compresses parts as consecutive fragments of one message (one deflate stream, a sync flush per part). */
async function pmdCompressParts(parts) {
  const d = zlib.createDeflateRaw({ level: 9 });
  const chunks = [];
  d.on('data', (c) => chunks.push(c));
  const out = [];
  for (const p of parts) {
    d.write(p);
    await new Promise((r) => d.flush(zlib.constants.Z_SYNC_FLUSH, r));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  d.close();
  out[out.length - 1] = out[out.length - 1].subarray(0, out[out.length - 1].length - 4);
  return out;
}

/** A masked client frame. */
function clientFrame({ fin = true, rsv1 = false, opcode, payload = Buffer.alloc(0) }) {
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    head.push(0x80 | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), mask, masked]);
}

/**
 * A raw client: handshake (offering `offer`, if any), then frames written by hand. The server's frames
 * are parsed by a wire Tap. Resolves { sock, tap, extensions, send(frame), closeFrame, tcpClosed }:
 * closeFrame resolves with the server's close code (null if the TCP connection ended without one);
 * the client answers a close frame with a close frame, as a peer should.
 */
function rawClient(port, offer = 'permessage-deflate; client_max_window_bits') {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const tap = new Tap('server->client', { keepPayloads: true });
    let resolveClose;
    const closeFrame = new Promise((r) => { resolveClose = r; });
    const tcpClosed = new Promise((r) => sock.once('close', r));
    sock.on('error', () => {});
    sock.on('data', (d) => tap.push(d));
    sock.on('close', () => resolveClose(null));
    tap.on('control', (c) => {
      if (c.type !== 'close') return;
      resolveClose(c.code ?? 1005);
      if (!sock.destroyed) sock.end(clientFrame({ opcode: 8, payload: c.payload.subarray(0, 2) }));
    });
    tap.once('head', (head) => {
      if (!/^HTTP\/1\.1 101/.test(head)) { reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`)); sock.destroy(); return; }
      tap.startFraming();
      const ext = /^sec-websocket-extensions:(.*)$/im.exec(head)?.[1]?.trim() ?? null;
      resolve({ sock, tap, extensions: ext, send: (f) => sock.write(clientFrame(f)), closeFrame, tcpClosed });
    });
    const lines = ['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13'];
    if (offer) lines.push(`Sec-WebSocket-Extensions: ${offer}`);
    sock.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** The server still works: a fresh ws client (deflate on) gets a compressible and a random echo. */
async function stillServes(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
  ws.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 10000, 'open after the attack');
  for (const msg of [compressibleText(50000), crypto.randomBytes(3000)]) {
    const echo = new Promise((resolve) => ws.once('message', (d) => resolve(d)));
    ws.send(msg);
    const got = await withTimeout(echo, 10000, 'echo after the attack');
    assert.ok(Buffer.compare(got, Buffer.from(msg)) === 0, 'echo after the attack differs');
  }
  assert.equal(ws.extensions, 'permessage-deflate');
  const closed = new Promise((r) => ws.once('close', r));
  ws.close(1000);
  await closed;
}

describe(`decompression bombs and bad compressed data vs sockeye serve --max-message ${MAX}`, () => {
  let server;
  before(async () => { server = await startServe(['--max-message', String(MAX)]); });
  after(async () => {
    if (!server) return;
    const { code, signal } = await server.stop();
    assert.equal(code, 0, `sockeye serve exited with code=${code} signal=${signal} (did an attack crash it?)\n${server.output()}`);
  });

  test('ws (real peer, threshold 0) sends 1 MiB of zeros (at the limit): a few KiB on the wire, echoed', async () => {
    const proxy = await startProxy(server.port);
    try {
      const ws = new WebSocket(proxy.url, { perMessageDeflate: { threshold: 0 } });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      const echo = new Promise((resolve) => ws.once('message', (d, b) => resolve({ d, b })));
      ws.send(Buffer.alloc(MAX), { binary: true });
      const { d, b } = await withTimeout(echo, 15000, 'echo of the 1 MiB message');
      assert.equal(b, true);
      assert.ok(d.length === MAX && d.every((x) => x === 0), 'echo differs');
      const conn = proxy.connections[0];
      assert.ok(conn.up.messages[0].compressed && conn.up.messages[0].wireLength < 16 * 1024,
        `the client's message took ${conn.up.messages[0].wireLength} bytes on the wire`);
      const closed = new Promise((r) => ws.once('close', r));
      ws.close(1000);
      await closed;
    } finally {
      await proxy.close();
    }
  });

  test('ws (real peer) sends 1 MiB of random bytes (at the limit; compressed it is a few bytes larger): echoed', async () => {
    // --max-message limits messages; a compressed frame of an incompressible message at the limit
    // carries a few bytes of DEFLATE overhead more than the message itself.
    const proxy = await startProxy(server.port);
    try {
      const ws = new WebSocket(proxy.url, { perMessageDeflate: { threshold: 0 } });
      ws.on('error', () => {});
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      const payload = crypto.randomBytes(MAX);
      const outcome = new Promise((resolve) => {
        ws.once('message', (d) => resolve({ echo: d }));
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      });
      ws.send(payload, { binary: true });
      const r = await withTimeout(outcome, 15000, 'echo of the message at the limit');
      const m = proxy.connections[0].up.messages[0];
      assert.ok(r.echo, `sockeye closed with ${r.code} "${r.reason}" instead of echoing a ${MAX}-byte message (limit ${MAX}); ` +
        `on the wire it was ${m ? `${m.compressed ? 'compressed' : 'uncompressed'}, ${m.wireLength} bytes` : 'not seen'}`);
      assert.ok(Buffer.compare(r.echo, payload) === 0, 'echo differs');
      const closed = new Promise((res) => ws.once('close', res));
      ws.close(1000);
      await closed;
    } finally {
      await proxy.close();
    }
  });

  test('ws (real peer, threshold 0) sends 4 MiB of zeros in ~4 KiB on the wire -> 1009, server stays up', async () => {
    const proxy = await startProxy(server.port);
    try {
      const ws = new WebSocket(proxy.url, { perMessageDeflate: { threshold: 0 } });
      ws.on('error', () => {});
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(Buffer.alloc(4 * MAX), { binary: true });
      assert.equal(await withTimeout(closed, 15000, 'close after the bomb'), 1009);
      const conn = proxy.connections[0];
      assert.ok(conn.up.messages[0].compressed && conn.up.messages[0].wireLength < 64 * 1024,
        `the bomb took ${conn.up.messages[0].wireLength} bytes on the wire`);
      assert.equal(conn.down.messages.length, 0, 'the server echoed something of the bomb');
    } finally {
      await proxy.close();
    }
    await stillServes(server.port);
  });

  test('raw client: one 32 KiB frame inflating to 32 MiB -> close 1009, nothing echoed, server stays up', async () => {
    const bomb = pmdCompress(Buffer.alloc(32 * MIB));
    assert.ok(bomb.length < 64 * 1024, `bomb is ${bomb.length} bytes`);
    const c = await rawClient(server.port);
    assert.match(c.extensions ?? '', /^permessage-deflate\b/, 'deflate negotiated');
    c.send({ opcode: 2, rsv1: true, payload: bomb });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1009);
    await withTimeout(c.tcpClosed, 15000, 'TCP close');
    assert.equal(c.tap.messages.length, 0, 'the server sent data messages back');
    await stillServes(server.port);
  });

  test('raw client: a fragmented bomb (20 fragments of 100 KiB zeros each, 2 MiB in all) -> close 1009', async () => {
    const parts = await pmdCompressParts(Array.from({ length: 20 }, () => Buffer.alloc(100 * 1024)));
    const c = await rawClient(server.port);
    parts.forEach((p, i) => c.send({ opcode: i === 0 ? 2 : 0, rsv1: i === 0, fin: i === parts.length - 1, payload: p }));
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1009);
    assert.equal(c.tap.messages.length, 0);
    await stillServes(server.port);
  });

  test('raw client: a compressed text message that inflates to 2 MiB -> close 1009', async () => {
    const c = await rawClient(server.port);
    c.send({ opcode: 1, rsv1: true, payload: pmdCompress(Buffer.from('a'.repeat(2 * MIB))) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1009);
    await stillServes(server.port);
  });

  test('raw client: a hand-made compressed message still echoes (the raw client is sound)', async () => {
    const c = await rawClient(server.port);
    const text = compressibleText(10000);
    c.send({ opcode: 1, rsv1: true, payload: pmdCompress(Buffer.from(text)) });
    const m = await withTimeout(new Promise((r) => c.tap.once('message', r)), 15000, 'echo');
    assert.equal(m.type, 'text');
    assert.ok(m.compressed, 'echo compressed');
    const inflated = zlib.inflateRawSync(Buffer.concat([m.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.equal(inflated.toString(), text);
    c.send({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close reply'), 1000);
  });

  test('raw client: corrupt DEFLATE data (block type 3) -> close 1007, server stays up', async () => {
    const c = await rawClient(server.port);
    c.send({ opcode: 2, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34]) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1007);
    await stillServes(server.port);
  });

  test('raw client: DEFLATE data with a back-reference before the start of the stream -> close 1007', async () => {
    // Fixed-Huffman block: literal 'a', then a match of length 3 at distance 100 (only 1 byte exists).
    // Bits (LSB first): BFINAL=0, BTYPE=01, 'a'=0x61 -> 8-bit code 0x91, len 3 -> code 257 (7 bits 0000001),
    // distance 100 -> code 13 (5 bits 01101) + 5 extra bits (100-97=3), then end-of-block (0000000).
    const bits = [];
    const put = (value, n, msbFirst) => {
      for (let i = 0; i < n; i++) bits.push(msbFirst ? (value >> (n - 1 - i)) & 1 : (value >> i) & 1);
    };
    put(0, 1); put(1, 2); put(0x91, 8, true); put(0b0000001, 7, true); put(13, 5, true); put(3, 5); put(0, 7, true);
    put(0, 1); put(0, 2); // the empty stored block a sync flush ends with (its LEN/NLEN are the stripped tail)
    const bytes = Buffer.alloc(Math.ceil(bits.length / 8));
    bits.forEach((b, i) => { bytes[i >> 3] |= b << (i & 7); });
    assert.throws(() => zlib.inflateRawSync(Buffer.concat([bytes, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }), /distance/);
    const c = await rawClient(server.port);
    c.send({ opcode: 2, rsv1: true, payload: bytes });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1007);
    await stillServes(server.port);
  });

  test('raw client: compressed text that inflates to invalid UTF-8 -> close 1007', async () => {
    const c = await rawClient(server.port);
    c.send({ opcode: 1, rsv1: true, payload: pmdCompress(Buffer.from([0x68, 0x69, 0xc3, 0x28, 0xff, 0xfe])) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1007);
  });

  test('raw client: RSV1 on a continuation frame -> close 1002', async () => {
    const [a, b] = await pmdCompressParts([Buffer.from('first half, '), Buffer.from('second half')]);
    const c = await rawClient(server.port);
    c.send({ opcode: 1, rsv1: true, fin: false, payload: a });
    c.send({ opcode: 0, rsv1: true, fin: true, payload: b });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1002);
  });

  test('raw client: RSV1 on a ping -> close 1002', async () => {
    const c = await rawClient(server.port);
    c.send({ opcode: 9, rsv1: true, payload: Buffer.from('ping') });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1002);
  });

  test('raw client without a deflate offer: an RSV1 frame -> close 1002', async () => {
    const c = await rawClient(server.port, null);
    assert.equal(c.extensions, null, 'nothing negotiated');
    c.send({ opcode: 2, rsv1: true, payload: pmdCompress(Buffer.from('compressed though never negotiated')) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1002);
    await stillServes(server.port);
  });
});

describe('sockeye serve --no-deflate', () => {
  let server;
  before(async () => { server = await startServe(['--no-deflate']); });
  after(async () => { if (server) await server.stop(); });

  test('a client that offered deflate but sends RSV1 anyway -> close 1002', async () => {
    const c = await rawClient(server.port);
    assert.equal(c.extensions, null, 'nothing negotiated');
    c.send({ opcode: 1, rsv1: true, payload: pmdCompress(Buffer.from('hello hello hello hello hello')) });
    assert.equal(await withTimeout(c.closeFrame, 15000, 'close frame'), 1002);
  });
});
