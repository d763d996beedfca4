'use strict';
// Node `ws` as a SERVER for `sockeye connect` (client role of the CLI).
const { test, describe, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');
const { runConnect, freePort, clip } = require('../lib/sockeye');

const servers = [];
afterEach(async () => {
  while (servers.length) {
    const wss = servers.pop();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(() => r()));
  }
});

/** Starts a ws server on a free loopback port; onConnection(ws, req) is called for each client. */
async function wsServer(onConnection, options = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(wss);
  await new Promise((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject); });
  wss.on('connection', (ws, req) => { ws.on('error', () => {}); onConnection(ws, req); });
  return { wss, url: `ws://127.0.0.1:${wss.address().port}` };
}

function describeRun(r) {
  return `exit=${r.code} signal=${r.signal}\n--- stdout ---\n${clip(r.stdout)}\n--- stderr ---\n${clip(r.stderr)}`;
}

/** Asserts the printed stdout lines, failing with a short description of the first difference. */
function assertLines(r, expected) {
  const got = r.lines;
  if (got.length === expected.length && got.every((l, i) => l === expected[i])) return;
  let i = 0;
  while (i < got.length && i < expected.length && got[i] === expected[i]) i++;
  assert.fail(`stdout lines differ at line ${i}: expected ${expected.length} lines, got ${got.length}\n` +
    `expected[${i}]: ${clip(JSON.stringify(expected[i]) ?? 'undefined', 1)}\n` +
    `got[${i}]:      ${clip(JSON.stringify(got[i]) ?? 'undefined', 1)}\n${describeRun(r)}`);
}

describe('sockeye connect -> ws server', () => {
  test('stdin lines are sent as text and echoed text is printed line by line; exit 0', async () => {
    let onClose;
    const serverClosed = new Promise((r) => { onClose = r; });
    const { url } = await wsServer((ws) => {
      ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
      ws.on('close', (code, reason) => onClose({ code, reason: reason.toString() }));
    });
    const lines = ['hello', 'second line', 'héllo wörld ✓ 🐟 日本語', 'tabs\tand  spaces', 'x'.repeat(100000)];
    const r = await runConnect([url + '/echo'], { input: lines.join('\n') + '\n' });
    assert.equal(r.code, 0, describeRun(r));
    assertLines(r, lines);
    const closeInfo = await Promise.race([serverClosed, new Promise((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(closeInfo, 'server did not see the connection close');
    assert.equal(closeInfo.code, 1000, 'client closes with 1000 at stdin EOF');
  });

  test('server receives exactly the stdin lines as text messages, in order', async () => {
    const received = [];
    const { url } = await wsServer((ws) => {
      ws.on('message', (d, isBinary) => received.push({ text: d.toString('utf8'), isBinary }));
    });
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const r = await runConnect([url], { input: lines.join('\n') + '\n' });
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(received.map((m) => m.text), lines);
    assert.ok(received.every((m) => !m.isBinary), 'all messages are text');
  });

  test('last stdin line without a trailing newline is still sent', async () => {
    const { url } = await wsServer((ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    const r = await runConnect([url], { input: 'one\ntwo' });
    assert.equal(r.code, 0, describeRun(r));
    assertLines(r, ['one', 'two']);
  });

  test('messages pushed by the server are printed: text as lines, binary as bin:<base64>', async () => {
    const bins = [crypto.randomBytes(1), crypto.randomBytes(300), crypto.randomBytes(70000), Buffer.alloc(0)];
    let allSent;
    const sentAll = new Promise((r) => { allSent = r; });
    const { url } = await wsServer((ws) => {
      ws.send('welcome');
      for (const b of bins) ws.send(b, { binary: true });
      ws.send('ünïcödé ✓', () => allSent());
    });
    // stdin ends once everything is on the wire; the client then closes and prints what still arrives.
    const r = await runConnect([url], { endStdin: sentAll });
    assert.equal(r.code, 0, describeRun(r));
    assertLines(r, ['welcome', ...bins.map((b) => 'bin:' + b.toString('base64')), 'ünïcödé ✓']);
  });

  test('server closes with 1000 while stdin is still open -> connect prints everything and exits 0', async () => {
    const { url } = await wsServer((ws) => {
      ws.send('first');
      ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
      ws.send('last');
      ws.close(1000, 'done');
    });
    const r = await runConnect([url], { keepStdinOpen: true });
    assert.equal(r.code, 0, describeRun(r));
    assertLines(r, ['first', 'bin:AAEC/w==', 'last']);
  });

  test('ping from the server is answered with a pong carrying the same payload', async () => {
    const payload = crypto.randomBytes(50);
    let gotPong;
    const pong = new Promise((r) => { gotPong = r; });
    const { url } = await wsServer((ws) => {
      ws.once('pong', (data) => ws.send('got pong', () => gotPong(data)));
      ws.ping(payload);
    });
    const r = await runConnect([url], { endStdin: pong });
    assert.equal(r.code, 0, describeRun(r));
    const pongPayload = await pong;
    assert.ok(Buffer.compare(pongPayload, payload) === 0, 'pong payload differs');
    assertLines(r, ['got pong']);
  });

  test('request path and query string are sent as given in the URL', async () => {
    let connected;
    const requested = new Promise((r) => { connected = r; });
    const { url } = await wsServer((ws, req) => connected(req.url));
    const r = await runConnect([url + '/some/path?x=1&y=two'], { endStdin: requested });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(await requested, '/some/path?x=1&y=two');
  });

  test('--subprotocol (repeatable) offers protocols in order; the server-selected one is used', async () => {
    let offered;
    let sent;
    const done = new Promise((r) => { sent = r; });
    const { url } = await wsServer((ws) => ws.send(`protocol=${ws.protocol}`, () => sent()), {
      handleProtocols: (protocols) => { offered = [...protocols]; return 'superchat'; },
    });
    const r = await runConnect(['--subprotocol', 'chat', '--subprotocol', 'superchat', url], { endStdin: done });
    assert.equal(r.code, 0, describeRun(r));
    assert.deepEqual(offered, ['chat', 'superchat']);
    assertLines(r, ['protocol=superchat']);
  });

  test('--echo: N text and binary messages come back identical; server close 1000 -> exit 0', async () => {
    const sent = [];
    for (let i = 0; i < 200; i++) {
      if (i % 2) sent.push({ isBinary: true, data: crypto.randomBytes(i * 37) });
      else sent.push({ isBinary: false, data: `text ${i} ✓ ${'z'.repeat(i)}` });
    }
    sent.push({ isBinary: false, data: '' });
    sent.push({ isBinary: true, data: Buffer.alloc(0) });
    sent.push({ isBinary: true, data: crypto.randomBytes(1024 * 1024) });
    sent.push({ isBinary: false, data: 'ü'.repeat(100000) });
    let serverDone;
    const done = new Promise((r) => { serverDone = r; });
    const got = [];
    const { url } = await wsServer((ws) => {
      ws.on('message', (data, isBinary) => {
        got.push({ data, isBinary });
        if (got.length === sent.length) {
          ws.once('close', (code) => serverDone(code));
          ws.close(1000, 'that is all');
        }
      });
      for (const m of sent) ws.send(m.data, { binary: m.isBinary });
    });
    const r = await runConnect(['--echo', url], { keepStdinOpen: true, timeoutMs: 60000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(await done, 1000, 'client answers the close with 1000');
    assert.equal(got.length, sent.length);
    for (let i = 0; i < sent.length; i++) {
      assert.equal(got[i].isBinary, sent[i].isBinary, `type of message ${i}`);
      if (sent[i].isBinary) assert.ok(Buffer.compare(got[i].data, sent[i].data) === 0, `payload of message ${i}`);
      else assert.equal(got[i].data.toString('utf8'), sent[i].data, `text of message ${i}`);
    }
  });

  test('connecting to a closed port fails with a non-zero exit and a message on stderr', async () => {
    const port = await freePort(); // nothing listens here any more
    const r = await runConnect([`ws://127.0.0.1:${port}/`], { keepStdinOpen: true });
    assert.notEqual(r.code, 0, describeRun(r));
    assert.ok(r.stderr.trim().length > 0, 'expected an error message on stderr');
  });

  test('a server that refuses the upgrade (HTTP 403) makes connect fail with a non-zero exit', async () => {
    const { url } = await wsServer(() => {}, { verifyClient: (info, cb) => cb(false, 403, 'Forbidden') });
    const r = await runConnect([url], { keepStdinOpen: true });
    assert.notEqual(r.code, 0, describeRun(r));
    assert.ok(r.stderr.trim().length > 0, 'expected an error message on stderr');
  });
});
