'use strict';
// Node `ws` (HTTP/1.1) against Sockeye's MapSockeye inside Kestrel (samples/AspNetCoreEcho).
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { startAspNetCore } = require('../lib/aspnetcore');

/**
 * Connects; messages are queued from the start (ws may deliver a message that came in the same read as the 101
 * before a listener added after 'open' exists).
 */
function open(url, options) {
  const ws = new WebSocket(url, options);
  ws.queue = [];
  ws.waiters = [];
  ws.on('message', (data, isBinary) => {
    const waiter = ws.waiters.shift();
    if (waiter) waiter.resolve({ data, isBinary }); else ws.queue.push({ data, isBinary });
  });
  ws.on('close', (code) => { for (const w of ws.waiters.splice(0)) w.reject(new Error(`closed with ${code} before a message`)); });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

const nextMessage = (ws) => (ws.queue.length
  ? Promise.resolve(ws.queue.shift())
  : new Promise((resolve, reject) => { ws.waiters.push({ resolve, reject }); }));

describe('ws client -> MapSockeye in Kestrel', () => {
  let host;
  before(async () => { host = await startAspNetCore({ deflate: true }); });
  after(async () => { await host?.stop(); });

  test('text, binary and a 2 MiB message are echoed, with permessage-deflate negotiated', async () => {
    const ws = await open(`${host.url}/echo`, { perMessageDeflate: { clientNoContextTakeover: false } });
    assert.match(ws.extensions, /permessage-deflate/);
    ws.send('héllo ✓');
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'héllo ✓');
    const big = Buffer.alloc(2 * 1024 * 1024, 'sockeye ');
    ws.send(big);
    const echo = await nextMessage(ws);
    assert.equal(echo.isBinary, true);
    assert.ok(echo.data.equals(big), 'binary echo differs');
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(4000, 'done');
    assert.equal(await closed, 4000); // the server answers the close with the client's code (RFC 6455 §5.5.1)
  });

  test('the request arrived over HTTP/1.1', async () => {
    const ws = await open(`${host.url}/proto`);
    assert.equal((await nextMessage(ws)).data.toString(), 'HTTP/1.1');
    ws.close();
  });

  test('a foreign origin is refused with 403', async () => {
    await assert.rejects(open(`${host.url}/echo`, { origin: 'http://evil.example' }), (e) => e.status === 403);
    // The console logger writes on its own thread: wait (bounded) for the one refusal line.
    const line = /refused \/echo over HTTP\/1.1 with 403: origin http:\/\/evil.example refused/;
    const deadline = Date.now() + 10000;
    while (!line.test(host.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(host.output(), line);
  });
});
