'use strict';
// Node `ws` with permessage-deflate as a CLIENT of `sockeye serve` (RFC 7692). Every connection goes
// through a watching proxy (lib/wire.js) so that the tests see the handshake headers and every frame:
// which messages were compressed (RSV1), how many bytes they took, and - decoded by an independent
// tracing inflater - which window and whether context takeover the server really used.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const WebSocket = require('ws');
const { startServe } = require('../lib/sockeye');
const { startProxy, parseExtensions } = require('../lib/wire');
const { judgeAnswer, offerOf } = require('../lib/negotiation');
const { checkCompressedDirection, checkDeflateStream } = require('../lib/deflate-checks');
const { messageSet, compressibleText, randomText, longRangeBinary } = require('../lib/payloads');

const MIB = 1024 * 1024;
const MAX_MESSAGE = String(4 * MIB);

/** Opens a ws client; resolves { ws, response } once open (response = the 101 IncomingMessage). */
function open(url, perMessageDeflate) {
  const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 8 * MIB });
  return new Promise((resolve, reject) => {
    let response;
    ws.once('upgrade', (res) => { response = res; });
    ws.once('open', () => resolve({ ws, response }));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
  });
}

function closed(ws, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) { resolve({ code: null }); return; }
    const t = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
    ws.once('close', (code, reason) => { clearTimeout(t); resolve({ code, reason: reason.toString() }); });
  });
}

/** Sends every message of `sent` at once and resolves with the echoes, in arrival order. */
function echoAll(ws, sent, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const t = setTimeout(() => reject(new Error(`only ${got.length}/${sent.length} echoes arrived`)), timeoutMs);
    const onMessage = (data, isBinary) => {
      got.push({ data, isBinary });
      if (got.length === sent.length) { clearTimeout(t); ws.off('message', onMessage); resolve(got); }
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => { clearTimeout(t); reject(new Error(`connection closed (${code}) after ${got.length}/${sent.length} echoes`)); });
    for (const m of sent) ws.send(m.data, { binary: m.isBinary });
  });
}

function assertEchoes(got, sent) {
  assert.equal(got.length, sent.length);
  sent.forEach((s, i) => {
    assert.equal(got[i].isBinary, s.isBinary, `echo ${i} (${s.label}) came back as ${got[i].isBinary ? 'binary' : 'text'}`);
    assert.ok(Buffer.compare(got[i].data, s.bytes) === 0, `echo ${i} (${s.label}): ${got[i].data.length} bytes differ from the ${s.size} sent`);
  });
}

/** The offer ws makes for given perMessageDeflate options (mirrors ws's PerMessageDeflate#offer). */
function expectedOffer(o) {
  const p = {};
  if (o.serverNoContextTakeover) p.server_no_context_takeover = true;
  if (o.clientNoContextTakeover) p.client_no_context_takeover = true;
  if (o.serverMaxWindowBits) p.server_max_window_bits = o.serverMaxWindowBits;
  if (o.clientMaxWindowBits) p.client_max_window_bits = o.clientMaxWindowBits;
  else if (o.clientMaxWindowBits == null) p.client_max_window_bits = true;
  return p;
}

/**
 * What `sockeye serve` with the given server settings must answer to an offer, beyond the RFC rules
 * judgeAnswer() enforces (contract in deflate-contract.md):
 *  - server_no_context_takeover: iff offered or --deflate-no-context-takeover;
 *  - client_no_context_takeover: iff offered (the server honours it);
 *  - server_max_window_bits: offered N -> min(N, --deflate-window-bits); not offered -> absent, or the
 *    server's own --deflate-window-bits when that is below 15;
 *  - client_max_window_bits: absent when not offered; otherwise absent or at most what was offered and
 *    at most --deflate-client-window-bits.
 */
function checkServeAnswer(offer, params, server = {}) {
  const ownBits = server.windowBits ?? 15;
  const wantSnct = !!(offer.server_no_context_takeover || server.noContextTakeover);
  assert.equal(!!params.server_no_context_takeover, wantSnct, 'server_no_context_takeover in the answer');
  assert.equal(!!params.client_no_context_takeover, !!offer.client_no_context_takeover, 'client_no_context_takeover in the answer');
  if (offer.server_max_window_bits !== undefined) {
    assert.equal(params.server_max_window_bits, Math.min(offer.server_max_window_bits, ownBits), 'server_max_window_bits in the answer');
  } else if (params.server_max_window_bits !== undefined) {
    assert.ok(ownBits < 15 && params.server_max_window_bits === ownBits,
      `unasked server_max_window_bits=${params.server_max_window_bits} (server configured with ${ownBits})`);
  }
  if (params.client_max_window_bits !== undefined && server.clientWindowBits !== undefined) {
    assert.ok(params.client_max_window_bits <= server.clientWindowBits,
      `client_max_window_bits=${params.client_max_window_bits} above --deflate-client-window-bits ${server.clientWindowBits}`);
  }
}

/**
 * One full round: connect through a proxy with `options`, check the offer and the answer, echo the
 * whole message set and check the echoes and both directions on the wire. Returns what was seen.
 */
async function roundTrip(serverPort, options, { server = {}, sent = messageSet() } = {}) {
  const proxy = await startProxy(serverPort, { keepPayloads: true });
  try {
    const { ws, response } = await open(proxy.url, { threshold: 0, ...options });
    const conn = await proxy.connection(0);
    const offerHeader = conn.requestHeaders['sec-websocket-extensions'];
    assert.equal(offerHeader?.length, 1, `one Sec-WebSocket-Extensions request header expected, got ${JSON.stringify(offerHeader)}`);
    const offer = offerOf(offerHeader[0]);
    assert.deepEqual(offer, expectedOffer(options), 'the test offered something else than intended');

    const answerHeader = conn.responseHeaders['sec-websocket-extensions'];
    assert.equal(answerHeader?.length, 1, `sockeye answered with Sec-WebSocket-Extensions ${JSON.stringify(answerHeader)}`);
    assert.equal(response.headers['sec-websocket-extensions'], answerHeader[0]);
    const { params, agreed } = judgeAnswer(offer, answerHeader[0]);
    checkServeAnswer(offer, params, server);
    assert.equal(ws.extensions, 'permessage-deflate', 'ws negotiated permessage-deflate');

    const got = await echoAll(ws, sent);
    assertEchoes(got, sent);

    // Client -> server: ws compressed everything (threshold 0); sockeye had to inflate all of it.
    const up = checkCompressedDirection(conn.up.messages, sent, { who: 'ws client -> sockeye', threshold: 0 });
    // Server -> client: sockeye compresses messages >= its threshold, within the agreed window/context.
    const down = checkCompressedDirection(conn.down.messages, sent, { who: 'sockeye -> ws client', threshold: server.threshold ?? 32 });
    const windowBits = Math.min(agreed.serverMaxWindowBits, server.windowBits ?? 15);
    const traces = checkDeflateStream(conn.down.messages, sent, {
      who: 'sockeye -> ws client', windowBits, noContextTakeover: agreed.serverNoContextTakeover,
    });

    const c = closed(ws);
    ws.close(1000);
    assert.equal((await c).code, 1000);
    return { offer, params, agreed, conn, traces, up, down, sent };
  } finally {
    await proxy.close();
  }
}

// The offers: each perMessageDeflate parameter alone, then combinations.
const CASES = [
  ['default offer (client_max_window_bits)', {}],
  ['server_no_context_takeover', { serverNoContextTakeover: true }],
  ['client_no_context_takeover', { clientNoContextTakeover: true }],
  ['server_max_window_bits=8', { serverMaxWindowBits: 8 }],
  ['server_max_window_bits=10', { serverMaxWindowBits: 10 }],
  ['server_max_window_bits=15', { serverMaxWindowBits: 15 }],
  ['client_max_window_bits (no value)', { clientMaxWindowBits: true }],
  ['client_max_window_bits=9', { clientMaxWindowBits: 9 }],
  ['client_max_window_bits=15', { clientMaxWindowBits: 15 }],
  ['no client_max_window_bits at all', { clientMaxWindowBits: false }],
  ['server_ and client_no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    { serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 }],
  ['client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=15',
    { clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15 }],
  ['all four: both no_context_takeover, server_max_window_bits=9, client_max_window_bits=8',
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 }],
];

describe('ws client (permessage-deflate) -> sockeye serve', () => {
  let server;
  before(async () => { server = await startServe(['--max-message', MAX_MESSAGE]); });
  after(async () => {
    if (!server) return;
    const { code, signal } = await server.stop();
    assert.ok(code === 0, `sockeye serve exited with code=${code} signal=${signal}\n${server.output()}`);
  });

  for (const [name, options] of CASES) {
    test(`offer ${name}: answer, byte-exact echoes (0 B .. 1 MiB), compressed both ways`, async () => {
      const r = await roundTrip(server.port, options);
      // With the full 2^15 window the server must find the 20000-byte repeats of the long-range payload.
      if (r.agreed.serverMaxWindowBits === 15) {
        const i = r.sent.findIndex((s) => s.kind === 'long-range' && s.size === MIB);
        const m = r.conn.down.messages[i];
        assert.ok(m.wireLength < MIB / 4, `long-range 1 MiB message took ${m.wireLength} bytes with a 2^15 window`);
        assert.ok(r.traces[i].maxDistance > 16384, `longest back-reference ${r.traces[i].maxDistance} with a 2^15 window`);
      }
    });
  }

  test('server_no_context_takeover is really honoured: repeated messages compress alike, none refers back', async () => {
    // Random text: alone it compresses little, so a repeat shrinks only by referring to its predecessor.
    const text = randomText(5000);
    const sent = Array.from({ length: 4 }, (_, i) => ({
      label: `repeat ${i}`, kind: 'random', size: 5000, isBinary: false, data: text, bytes: Buffer.from(text),
    }));
    const withCtx = await roundTrip(server.port, {}, { sent });
    const without = await roundTrip(server.port, { serverNoContextTakeover: true }, { sent });
    const sizes = (r) => r.conn.down.messages.map((m) => m.wireLength);
    // Without takeover every message is compressed from scratch: identical input, identical output size.
    assert.equal(new Set(sizes(without)).size, 1, `sizes without context takeover: ${sizes(without)}`);
    assert.ok(without.traces.every((t) => !t.reachesBack));
    // With takeover (the default) the repeats refer to the first message and shrink to a few bytes.
    assert.ok(sizes(withCtx).slice(1).every((n) => n < sizes(withCtx)[0] / 4), `sizes with context takeover: ${sizes(withCtx)}`);
    assert.ok(withCtx.traces.slice(1).every((t) => t.reachesBack));
  });

  test('server_max_window_bits=10 is really honoured: a 20000-byte-period payload no longer compresses', async () => {
    const data = longRangeBinary(200000);
    const sent = [{ label: 'long-range 200000', kind: 'long-range', size: data.length, isBinary: true, data, bytes: data }];
    const narrow = await roundTrip(server.port, { serverMaxWindowBits: 10 }, { sent });
    const wide = await roundTrip(server.port, {}, { sent });
    assert.ok(narrow.traces[0].maxDistance <= 1024, `max distance ${narrow.traces[0].maxDistance}`);
    assert.ok(narrow.conn.down.messages[0].wireLength > data.length * 0.9,
      `with a 2^10 window the message still shrank to ${narrow.conn.down.messages[0].wireLength} bytes`);
    assert.ok(wide.conn.down.messages[0].wireLength < data.length / 4,
      `with the default window it took ${wide.conn.down.messages[0].wireLength} bytes`);
  });

  test('a fragmented compressed message from ws is inflated and echoed', async () => {
    const proxy = await startProxy(server.port, { keepPayloads: true });
    try {
      const { ws } = await open(proxy.url, { threshold: 0 });
      const parts = [compressibleText(3000), compressibleText(1), '', compressibleText(70000)];
      const echo = new Promise((resolve) => ws.once('message', (d, b) => resolve({ d, b })));
      parts.forEach((p, i) => ws.send(p, { fin: i === parts.length - 1, binary: false }));
      const { d, b } = await echo;
      assert.equal(b, false);
      assert.equal(d.toString('utf8'), parts.join(''));
      const conn = await proxy.connection(0);
      const m = conn.up.messages[0];
      assert.equal(m.frames.length, parts.length, 'ws sent the message in fragments');
      assert.ok(m.compressed && m.frames.slice(1).every((f) => !f.rsv1), 'RSV1 on the first fragment only');
      const c = closed(ws);
      ws.close(1000);
      await c;
    } finally {
      await proxy.close();
    }
  });

  test('1000 small messages of 15..95 bytes around the threshold come back in order', async () => {
    const sent = Array.from({ length: 1000 }, (_, i) => {
      const data = `message #${i} ${'ab'.repeat(i % 40)} ✓`;
      return { label: `small ${i}`, kind: 'small', size: Buffer.byteLength(data), isBinary: false, data, bytes: Buffer.from(data) };
    });
    await roundTrip(server.port, {}, { sent });
  });

  test('ping and pong stay uncompressed control frames next to compressed data', async () => {
    const proxy = await startProxy(server.port, { keepPayloads: true });
    try {
      const { ws } = await open(proxy.url, { threshold: 0 });
      const payload = crypto.randomBytes(100);
      const pong = new Promise((resolve) => ws.once('pong', resolve));
      ws.send(compressibleText(5000));
      ws.ping(payload);
      assert.ok(Buffer.compare(await pong, payload) === 0);
      const conn = await proxy.connection(0);
      const p = conn.down.controls.find((c) => c.type === 'pong');
      assert.ok(p && !p.rsv1, 'pong frame without RSV1');
      const c = closed(ws);
      ws.close(1000);
      await c;
    } finally {
      await proxy.close();
    }
  });
});

// Server-side settings: each changes what sockeye answers or how it compresses.
const SERVER_FLAGS = [
  ['--deflate-threshold 0', ['--deflate-threshold', '0'], { threshold: 0 }],
  ['--deflate-threshold 1000', ['--deflate-threshold', '1000'], { threshold: 1000 }],
  ['--deflate-window-bits 9', ['--deflate-window-bits', '9'], { windowBits: 9 }],
  ['--deflate-no-context-takeover', ['--deflate-no-context-takeover'], { noContextTakeover: true }],
  ['--deflate-level 1', ['--deflate-level', '1'], {}],
  ['--deflate-level 9', ['--deflate-level', '9'], {}],
  ['--deflate-client-window-bits 10', ['--deflate-client-window-bits', '10'], { clientWindowBits: 10 }],
];

for (const [name, flags, settings] of SERVER_FLAGS) {
  describe(`ws client (permessage-deflate) -> sockeye serve ${name}`, () => {
    let server;
    before(async () => { server = await startServe(['--max-message', MAX_MESSAGE, ...flags]); });
    after(async () => { if (server) await server.stop(); });

    test('default offer: answer, echoes, wire', async () => {
      const r = await roundTrip(server.port, {}, { server: settings });
      if (settings.noContextTakeover) assert.ok(r.params.server_no_context_takeover, 'answer announces server_no_context_takeover');
      if (settings.clientWindowBits) {
        assert.equal(r.params.client_max_window_bits, settings.clientWindowBits, 'answer asks for the configured client window');
        // ws then compresses with that window; the echoes above prove sockeye inflates it.
      }
    });

    test('offer server_max_window_bits=12; client_max_window_bits=11', async () => {
      await roundTrip(server.port, { serverMaxWindowBits: 12, clientMaxWindowBits: 11 }, { server: settings });
    });

    if (settings.clientWindowBits) {
      test('offer without client_max_window_bits: the answer must not contain it', async () => {
        const r = await roundTrip(server.port, { clientMaxWindowBits: false }, { server: settings, sent: messageSet([0, 100, 64 * 1024]) });
        assert.equal(r.params.client_max_window_bits, undefined);
      });
    }
  });
}

describe('ws client (permessage-deflate) -> sockeye serve --no-deflate', () => {
  let server;
  before(async () => { server = await startServe(['--max-message', MAX_MESSAGE, '--no-deflate']); });
  after(async () => { if (server) await server.stop(); });

  test('nothing is negotiated; echoes go uncompressed both ways', async () => {
    const proxy = await startProxy(server.port, { keepPayloads: false });
    try {
      const { ws, response } = await open(proxy.url, { threshold: 0, serverNoContextTakeover: true });
      const conn = await proxy.connection(0);
      assert.ok(conn.requestHeaders['sec-websocket-extensions'], 'ws offered permessage-deflate');
      assert.equal(response.headers['sec-websocket-extensions'], undefined, 'no Sec-WebSocket-Extensions in the 101');
      assert.equal(ws.extensions, '');
      const sent = messageSet([0, 32, 1000, 64 * 1024]);
      assertEchoes(await echoAll(ws, sent), sent);
      for (const dir of [conn.up, conn.down]) {
        assert.equal(dir.messages.length, sent.length);
        dir.messages.forEach((m, i) => {
          assert.ok(!m.compressed, `${dir.name} message ${i} has RSV1 set`);
          assert.equal(m.wireLength, sent[i].size, `${dir.name} message ${i} wire length`);
        });
      }
      const c = closed(ws);
      ws.close(1000);
      await c;
    } finally {
      await proxy.close();
    }
  });
});

/** Sends an upgrade request with the given Sec-WebSocket-Extensions header lines; resolves { status, extensions[] }. */
function upgradeWith(port, extensionLines) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`no response head; got ${JSON.stringify(buf)}`)); }, 10000);
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(t);
      sock.destroy();
      const [status, ...lines] = buf.slice(0, end).split('\r\n');
      const extensions = lines.filter((l) => /^sec-websocket-extensions\s*:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
      resolve({ status: Number(status.split(' ')[1]), extensions });
    });
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    const head = ['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
      ...extensionLines.map((v) => `Sec-WebSocket-Extensions: ${v}`)];
    sock.write(head.join('\r\n') + '\r\n\r\n');
  });
}

describe('sockeye serve: choosing among several offers (raw handshakes)', () => {
  let server;
  before(async () => { server = await startServe([]); });
  after(async () => { if (server) await server.stop(); });

  // [offer header lines, the offer that must be accepted (index into all offers, in order) or null]
  const OFFERS = [
    [['permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover'], 1],
    [['permessage-deflate; foo=1, permessage-deflate; server_no_context_takeover'], 1],
    [['permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate'], 1],
    [['permessage-deflate; client_max_window_bits=16', 'permessage-deflate; server_no_context_takeover'], 1],
    [['x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=11'], 1],
    [['permessage-deflate; server_max_window_bits'], null],
    [['permessage-deflate; client_max_window_bits=7'], null],
    [['permessage-deflate; server_no_context_takeover=1'], null],
    [['permessage-deflate; client_max_window_bits=010x'], null],
    [['x-unknown; a=1'], null],
  ];
  for (const [lines, acceptIndex] of OFFERS) {
    test(`${lines.join(' + ')} -> ${acceptIndex === null ? 'nothing negotiated' : `offer #${acceptIndex + 1} accepted`}`, async () => {
      const { status, extensions } = await upgradeWith(server.port, lines);
      assert.equal(status, 101);
      if (acceptIndex === null) {
        assert.deepEqual(extensions, [], 'no Sec-WebSocket-Extensions in the answer');
        return;
      }
      assert.equal(extensions.length, 1, `answer: ${JSON.stringify(extensions)}`);
      const offers = parseExtensions(lines.join(', '));
      const offer = Object.fromEntries(offers[acceptIndex].params.map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v]));
      const { params } = judgeAnswer(offer, extensions[0]);
      checkServeAnswer(offer, params);
    });
  }
});
