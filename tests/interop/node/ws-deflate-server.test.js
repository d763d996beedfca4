'use strict';
// Node `ws` with permessage-deflate as the SERVER for `sockeye connect --deflate --echo` (RFC 7692),
// watched through a proxy (lib/wire.js): the offer sockeye makes, the answer it accepts, and every frame
// in both directions; sockeye's own compressed output is decoded by the tracing inflater to check the
// window and context takeover it was told to use. Then raw servers answer with invalid or unoffered
// extensions, which must make `sockeye connect` fail.
const { test, describe, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const { isDeepStrictEqual } = require('node:util');
const { WebSocketServer } = require('ws');
const { runConnect, clip } = require('../lib/sockeye');
const { startProxy, parseExtensions } = require('../lib/wire');
const { judgeAnswer, offerOf, paramObject } = require('../lib/negotiation');
const { checkCompressedDirection, checkDeflateStream } = require('../lib/deflate-checks');
const { messageSet, randomText } = require('../lib/payloads');

const cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()();
});

function describeRun(r) {
  return `exit=${r.code} signal=${r.signal}\n--- stdout ---\n${clip(r.stdout)}\n--- stderr ---\n${clip(r.stderr)}`;
}

/**
 * A ws server (perMessageDeflate = wsDeflate, or false) that, per connection, sends every message of
 * `sent`, collects what comes back and closes with 1000 once all echoes are in.
 * Resolves { port, session } where session resolves { ws, req, got, closeCode }.
 */
async function echoingWsServer(wsDeflate, sent) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: wsDeflate, maxPayload: 64 * 1024 * 1024 });
  cleanups.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
  await new Promise((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject); });
  const session = new Promise((resolve, reject) => {
    wss.once('connection', (ws, req) => {
      const got = [];
      ws.on('error', reject);
      ws.on('message', (data, isBinary) => {
        got.push({ data, isBinary });
        if (got.length === sent.length) ws.close(1000, 'all echoed');
      });
      ws.on('close', (closeCode) => resolve({ ws, req, got, closeCode }));
      for (const m of sent) ws.send(m.data, { binary: m.isBinary });
    });
  });
  session.catch(() => {});
  return { port: wss.address().port, session };
}

/** The `sockeye: extensions: ...` line(s) of a connect run's stderr. */
function extensionLines(stderr) {
  return stderr.split(/\r?\n/).filter((l) => /^sockeye: extensions: /.test(l)).map((l) => l.slice('sockeye: extensions: '.length).trim());
}

function paramsOf(value) {
  const e = parseExtensions(value);
  return e.length === 1 ? { name: e[0].name, params: paramObject(e[0].params) } : { name: null, exts: e };
}

/**
 * Runs `sockeye connect ...args --echo` against a ws server with perMessageDeflate options `wsDeflate`
 * (threshold 0: ws compresses everything) through a proxy, and checks offer, answer, the stderr
 * extensions line, the echoes and both directions on the wire. The offer must equal expectedOffer
 * (null: no offer at all), or contain at least the parameters of offerIncludes. Returns what was seen.
 */
async function echoRun(args, wsDeflate, { expectedOffer, offerIncludes, threshold = 32, sent = messageSet() } = {}) {
  const { port, session } = await echoingWsServer(wsDeflate === false ? false : { threshold: 0, ...wsDeflate }, sent);
  const proxy = await startProxy(port, { keepPayloads: true });
  cleanups.push(() => proxy.close());
  const r = await runConnect([...args, '--echo', proxy.url + '/deflate'], { keepStdinOpen: true, timeoutMs: 90000 });
  assert.equal(r.code, 0, describeRun(r));
  const { ws, got, closeCode } = await session;
  assert.equal(closeCode, 1000, 'sockeye answered the close with 1000');

  const conn = proxy.connections[0];
  const offerHeader = conn.requestHeaders['sec-websocket-extensions'];
  const answerHeader = conn.responseHeaders['sec-websocket-extensions'];
  const seen = { r, ws, conn, offerHeader, answerHeader };

  let offer = null;
  if (expectedOffer === null) {
    assert.equal(offerHeader, undefined, `sockeye offered ${JSON.stringify(offerHeader)} without --deflate`);
  } else {
    assert.equal(offerHeader?.length, 1, `offer header lines: ${JSON.stringify(offerHeader)}`);
    offer = offerOf(offerHeader[0]);
    if (expectedOffer) assert.deepEqual(offer, expectedOffer, `sockeye offered ${JSON.stringify(offerHeader[0])}`);
    for (const [k, v] of Object.entries(offerIncludes ?? {})) {
      assert.equal(offer[k], v, `sockeye's offer ${JSON.stringify(offerHeader[0])} lacks ${k}${v === true ? '' : `=${v}`}`);
    }
  }

  // The echoes, byte for byte and type for type.
  assert.equal(got.length, sent.length);
  sent.forEach((s, i) => {
    assert.equal(got[i].isBinary, s.isBinary, `echo ${i} (${s.label}) type`);
    assert.ok(Buffer.compare(got[i].data, s.bytes) === 0, `echo ${i} (${s.label}) differs`);
  });

  if (!answerHeader) {
    assert.equal(ws.extensions, '', 'ws negotiated nothing');
    if (offer !== null) assert.deepEqual(extensionLines(r.stderr), ['none'], `stderr:\n${r.stderr}`);
    for (const dir of [conn.up, conn.down]) {
      assert.equal(dir.messages.length, sent.length, `${dir.name} messages`);
      dir.messages.forEach((m, i) => assert.ok(!m.compressed, `${dir.name} message ${i} has RSV1 without negotiation`));
    }
    return seen;
  }

  assert.equal(answerHeader.length, 1);
  assert.equal(ws.extensions, 'permessage-deflate', 'ws negotiated permessage-deflate');
  const { params, agreed } = judgeAnswer(offer, answerHeader[0]);
  const lines = extensionLines(r.stderr);
  assert.equal(lines.length, 1, `expected one 'sockeye: extensions:' line on stderr:\n${r.stderr}`);
  assert.deepEqual(paramsOf(lines[0]), paramsOf(answerHeader[0]), `stderr says '${lines[0]}', the server answered '${answerHeader[0]}'`);

  // ws -> sockeye: ws compressed everything; sockeye inflated it (the echoes prove that).
  checkCompressedDirection(conn.down.messages, sent, { who: 'ws server -> sockeye', threshold: 0 });
  // sockeye -> ws: compressed at/above the threshold, within the agreed client window and context rules.
  checkCompressedDirection(conn.up.messages, sent, { who: 'sockeye -> ws server', threshold });
  seen.traces = checkDeflateStream(conn.up.messages, sent, {
    who: 'sockeye -> ws server', windowBits: agreed.clientMaxWindowBits, noContextTakeover: agreed.clientNoContextTakeover,
  });
  return { ...seen, params, agreed };
}

describe('sockeye connect --deflate --echo -> ws server (permessage-deflate)', () => {
  test('--deflate offers "permessage-deflate; client_max_window_bits"; ws answers plain permessage-deflate', async () => {
    const s = await echoRun(['--deflate'], {}, { expectedOffer: { client_max_window_bits: true } });
    assert.deepEqual(s.params, {});
  });

  test('--deflate; ws asks client_max_window_bits=10: sockeye compresses within 2^10', async () => {
    const s = await echoRun(['--deflate'], { clientMaxWindowBits: 10 }, { expectedOffer: { client_max_window_bits: true } });
    assert.equal(s.params.client_max_window_bits, 10);
  });

  test('--deflate; ws announces server_max_window_bits=9, server_ and client_no_context_takeover unasked', async () => {
    const s = await echoRun(['--deflate'], { serverMaxWindowBits: 9, serverNoContextTakeover: true, clientNoContextTakeover: true },
      { expectedOffer: { client_max_window_bits: true } });
    assert.deepEqual(s.params, { server_max_window_bits: 9, server_no_context_takeover: true, client_no_context_takeover: true });
  });

  const OFFERS = [
    ['client_no_context_takeover', { client_no_context_takeover: true }],
    ['server_no_context_takeover', { server_no_context_takeover: true }],
    ['server_max_window_bits=10', { server_max_window_bits: 10 }],
    ['client_max_window_bits=12', { client_max_window_bits: 12 }],
    ['client_max_window_bits', { client_max_window_bits: true }],
    ['client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
      { client_no_context_takeover: true, server_no_context_takeover: true, server_max_window_bits: 10, client_max_window_bits: 12 }],
  ];
  for (const [offer, given] of OFFERS) {
    test(`--deflate-offer "${offer}": offered, ws echoes it, echoes byte-exact, compressed both ways`, async () => {
      // (Whether the offer is exactly these parameters is the test after this loop.)
      const s = await echoRun(['--deflate-offer', offer], {}, { offerIncludes: given });
      // ws accepts what was offered and keeps the offered values.
      for (const [k, v] of Object.entries(given)) {
        if (k === 'client_max_window_bits' && v === true) continue; // ws drops a valueless one
        assert.equal(s.params[k], v, `answer ${k}`);
      }
    });
  }

  test('--deflate-offer PARAMS offers exactly "permessage-deflate; PARAMS" (contract)', async () => {
    const sent = [];
    for (const [offer, given] of OFFERS) {
      const { url, seen } = await rawAnsweringServer(['permessage-deflate']);
      await runConnect(['--deflate-offer', offer, url]);
      const line = /^sec-websocket-extensions:(.*)$/im.exec(seen.request ?? '')?.[1]?.trim();
      sent.push({ offer, line, ok: line !== undefined && isDeepStrictEqual(offerOf(line), given) });
    }
    const wrong = sent.filter((x) => !x.ok);
    assert.deepEqual(wrong, [], `offers that differ from "permessage-deflate; PARAMS":\n${wrong.map((x) => `  --deflate-offer "${x.offer}" sent "${x.line}"`).join('\n')}`);
  });

  test('client_no_context_takeover is really honoured: sockeye compresses repeated messages alike', async () => {
    const text = randomText(5000);
    const sent = Array.from({ length: 4 }, (_, i) => ({
      label: `repeat ${i}`, kind: 'random', size: 5000, isBinary: false, data: text, bytes: Buffer.from(text),
    }));
    const without = await echoRun(['--deflate-offer', 'client_no_context_takeover'], {}, { offerIncludes: { client_no_context_takeover: true }, sent });
    const sizes = without.conn.up.messages.map((m) => m.wireLength);
    assert.equal(new Set(sizes).size, 1, `sockeye's compressed sizes without context takeover: ${sizes}`);
    while (cleanups.length) await cleanups.pop()();
    const withCtx = await echoRun(['--deflate'], {}, { expectedOffer: { client_max_window_bits: true }, sent });
    const ctxSizes = withCtx.conn.up.messages.map((m) => m.wireLength);
    assert.ok(ctxSizes.slice(1).every((n) => n < ctxSizes[0] / 4), `sockeye's compressed sizes with context takeover: ${ctxSizes}`);
  });

  test('--deflate --deflate-threshold 0: even 0- and 1-byte echoes go compressed', async () => {
    await echoRun(['--deflate', '--deflate-threshold', '0'], {}, {
      expectedOffer: { client_max_window_bits: true }, threshold: 0, sent: messageSet([0, 1, 31, 32, 1000]),
    });
  });

  test('--deflate --deflate-threshold 1000: echoes below 1000 bytes go uncompressed', async () => {
    await echoRun(['--deflate', '--deflate-threshold', '1000'], {}, {
      expectedOffer: { client_max_window_bits: true }, threshold: 1000, sent: messageSet([0, 32, 999, 1000, 64 * 1024]),
    });
  });

  test('--deflate against a ws server without permessage-deflate: "extensions: none", nothing compressed', async () => {
    await echoRun(['--deflate'], false, { expectedOffer: { client_max_window_bits: true }, sent: messageSet([0, 100, 64 * 1024]) });
  });

  test('--deflate --max-message 65536: an incompressible 65536-byte message (a few bytes larger compressed) is echoed', async () => {
    const data = crypto.randomBytes(65536);
    const sent = [{ label: 'random 65536', kind: 'random', size: data.length, isBinary: true, data, bytes: data }];
    await echoRun(['--deflate', '--max-message', '65536'], {}, { expectedOffer: { client_max_window_bits: true }, sent });
  });

  test('without --deflate nothing is offered, even to a deflate-capable ws server', async () => {
    const s = await echoRun([], {}, { expectedOffer: null, sent: messageSet([0, 100, 64 * 1024]) });
    assert.deepEqual(extensionLines(s.r.stderr), [], 'no extensions line without --deflate');
  });
});

/**
 * A raw TCP server that completes the opening handshake with the given Sec-WebSocket-Extensions
 * answer lines (no checking at all), answers a close frame with close 1000, and records what it saw.
 */
async function rawAnsweringServer(answerLines) {
  const seen = { request: null, clientClosedTcp: false };
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    let head = '';
    let upgraded = false;
    sock.on('data', (d) => {
      if (!upgraded) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        seen.request = head.slice(0, end);
        const key = /^sec-websocket-key:\s*(\S+)/im.exec(seen.request)?.[1] ?? '';
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        sock.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${accept}`, ...answerLines.map((v) => `Sec-WebSocket-Extensions: ${v}`)].join('\r\n') + '\r\n\r\n');
        d = Buffer.from(head.slice(end + 4), 'latin1');
      }
      // The client's frames: answer its close (opcode 8) with a close 1000 and end the connection.
      if (d.length && (d[0] & 0x0f) === 8) sock.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    });
    sock.on('end', () => { seen.clientClosedTcp = true; });
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return { url: `ws://127.0.0.1:${server.address().port}/`, seen };
}

describe('sockeye connect vs a server answering with invalid or unoffered extensions', () => {
  // Control: the raw server itself works; a valid answer connects and exits 0 at stdin EOF.
  test('control: a valid answer "permessage-deflate" to --deflate connects and exits 0', async () => {
    const { url, seen } = await rawAnsweringServer(['permessage-deflate']);
    const r = await runConnect(['--deflate', url]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(seen.request, /^sec-websocket-extensions: *permessage-deflate; *client_max_window_bits\s*$/im);
    assert.deepEqual(extensionLines(r.stderr), ['permessage-deflate']);
  });

  test('control: an answer with every legal parameter connects', async () => {
    const { url } = await rawAnsweringServer([
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12']);
    const r = await runConnect(['--deflate-offer', 'server_max_window_bits=10; client_max_window_bits=12', url]);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(extensionLines(r.stderr).length, 1, describeRun(r));
  });

  // [connect args, answer header lines, why it is wrong]
  const BAD = [
    [['--deflate-offer', 'server_no_context_takeover'], ['permessage-deflate; server_no_context_takeover; client_max_window_bits=10'],
      'client_max_window_bits was not offered'],
    [['--deflate'], ['permessage-deflate; foo=1'], 'unknown parameter'],
    [['--deflate'], ['x-unknown'], 'an extension that was never offered'],
    [[], ['permessage-deflate'], 'permessage-deflate without any offer'],
    [['--deflate'], ['permessage-deflate; server_max_window_bits=7'], 'server_max_window_bits out of range'],
    [['--deflate'], ['permessage-deflate; server_max_window_bits=16'], 'server_max_window_bits out of range'],
    [['--deflate-offer', 'server_max_window_bits=10'], ['permessage-deflate; server_max_window_bits=12'], 'server window larger than offered'],
    [['--deflate'], ['permessage-deflate, permessage-deflate'], 'the extension accepted twice'],
    [['--deflate'], ['permessage-deflate', 'permessage-deflate'], 'the extension accepted twice, on two header lines'],
    [['--deflate'], ['permessage-deflate', 'x-unknown'], 'an unoffered extension on a second header line'],
    [['--deflate'], ['permessage-deflate; server_no_context_takeover; server_no_context_takeover'], 'duplicate parameter'],
    [['--deflate'], ['permessage-deflate; client_max_window_bits'], 'client_max_window_bits without a value in an answer'],
    [['--deflate'], ['permessage-deflate; client_max_window_bits=16'], 'client_max_window_bits out of range'],
    [['--deflate-offer', 'client_max_window_bits=10'], ['permessage-deflate; client_max_window_bits=12'], 'client window larger than offered'],
    [['--deflate'], ['permessage-deflate; server_no_context_takeover=yes'], 'a value on a flag parameter'],
    [['--deflate'], ['permessage-deflate; server_max_window_bits=abc'], 'a non-numeric window'],
  ];
  for (const [args, answer, why] of BAD) {
    test(`${args.join(' ') || '(no --deflate)'} answered "${answer.join('" + "')}" (${why}) -> connect fails`, async () => {
      const { url, seen } = await rawAnsweringServer(answer);
      // stdin is at EOF at once: a client that wrongly accepts the answer closes with 1000 and exits 0.
      const r = await runConnect([...args, url]);
      assert.ok(seen.request, 'the server got the upgrade request');
      const offered = /^sec-websocket-extensions:(.*)$/im.exec(seen.request)?.[1]?.trim();
      if (/client_max_window_bits was not offered/.test(why)) {
        assert.doesNotMatch(offered ?? '', /client_max_window_bits/,
          `the answer is invalid only if client_max_window_bits was not offered, but sockeye offered "${offered}" for ${args.join(' ')}`);
      }
      assert.notEqual(r.code, 0, `connect must fail\n${describeRun(r)}`);
      assert.match(r.stderr, /extension|deflate|window|takeover/i, `stderr should say what is wrong with the answer\n${describeRun(r)}`);
      assert.equal(r.stdout, '', 'nothing printed on stdout');
    });
  }
});
