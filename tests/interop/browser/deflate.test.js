'use strict';
// permessage-deflate with headless Chromium (which always offers it) on the user's seed page
// (../shared/fixtures/seed-test-page.html, used in place; it hard-codes port 9876).
//  1. `sockeye serve --port 9876 --static <fixtures> --deflate-threshold 0`: the handshake Chromium
//     saw (over CDP) negotiated permessage-deflate, and typed messages, short and long, come back.
//  2. A watching proxy on 9876 in front of `sockeye serve` on another port (default threshold 32):
//     the frames show that Chromium's messages and sockeye's echoes really were compressed.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServe, portOpen } = require('../lib/sockeye');
const { launch, newPage, seedFixture } = require('../lib/browser');
const { startProxy, parseExtensions } = require('../lib/wire');
const { TracingInflater } = require('../lib/deflate-trace');

const { dir: FIXTURES, page: SEED, skip: SEED_SKIP } = seedFixture();
const PORT = 9876;

/** Header value by case-insensitive name from a CDP headers object. */
function header(headers, name) {
  const k = Object.keys(headers ?? {}).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : headers[k];
}

/** A long, compressible text without HTML-special characters (the page inserts echoes with innerHTML). */
function longText(n) {
  const unit = 'Sockeye speaks permessage-deflate with Chromium, ünïcödé ✓ 🐟; ';
  return [...unit.repeat(Math.ceil(n / unit.length))].slice(0, n).join(''); // whole code points
}

const pTexts = (page) => page.$$eval('#serveroutput p', (ps) => ps.map((p) => p.textContent));

async function typeAndWaitForEcho(page, text) {
  const before = (await pTexts(page)).length;
  await page.fill('#msg', text);
  await page.press('#msg', 'Enter');
  await page.waitForFunction(([n, t]) => {
    const ps = [...document.querySelectorAll('#serveroutput p')];
    return ps.length > n && ps[ps.length - 1].textContent === t;
  }, [before, text], { timeout: 20000 });
}

/** Opens the seed page with CDP network events recorded; resolves once the page says Connected. */
async function openSeedPage(browser, url) {
  const { context, page, problems } = await newPage(browser);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const events = { request: null, response: null, framesReceived: [], framesSent: [] };
  const handshake = new Promise((resolve) => {
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => { events.request = e.request; });
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => { events.response = e.response; resolve(); });
  });
  cdp.on('Network.webSocketFrameReceived', (e) => events.framesReceived.push(e.response));
  cdp.on('Network.webSocketFrameSent', (e) => events.framesSent.push(e.response));
  const resp = await page.goto(url);
  assert.equal(resp.status(), 200);
  await page.waitForFunction(() => [...document.querySelectorAll('#serveroutput p')].some((p) => p.textContent === 'Connected.'));
  await handshake;
  return { context, page, problems, events };
}

describe('seed page in chromium: permessage-deflate negotiated with sockeye serve on 9876', { skip: SEED_SKIP }, () => {
  let server;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(SEED), `seed page not found at ${SEED}`);
    assert.equal(await portOpen(PORT), false, `port ${PORT} is already in use; the seed page needs it`);
    server = await startServe(['--static', FIXTURES, '--deflate-threshold', '0'], { port: PORT });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('the handshake Chromium saw offered and got permessage-deflate; short and long typed messages are echoed', async () => {
    const { context, page, problems, events } = await openSeedPage(browser, `http://localhost:${PORT}/seed-test-page.html`);
    try {
      const offer = header(events.request?.headers, 'Sec-WebSocket-Extensions');
      assert.match(offer ?? '', /permessage-deflate/, `Chromium's offer: ${offer}`);
      assert.equal(events.response.status, 101);
      const answer = header(events.response.headers, 'Sec-WebSocket-Extensions');
      const exts = parseExtensions(answer);
      assert.equal(exts.length, 1, `sockeye's answer as Chromium saw it: ${answer}`);
      assert.equal(exts[0].name, 'permessage-deflate');

      const texts = ['hi', 'x', longText(100), longText(20000)];
      for (const t of texts) await typeAndWaitForEcho(page, t);
      assert.deepEqual(await pTexts(page), ['Connected.', ...texts]);
      // What Chromium's WebSocket delivered (after inflating), as CDP reports it.
      assert.deepEqual(events.framesReceived.map((f) => f.payloadData), texts);
      assert.deepEqual(problems, [], 'the page logged errors');
    } finally {
      await context.close();
    }
  });
});

describe('seed page in chromium through a watching proxy on 9876: compression on the wire', { skip: SEED_SKIP }, () => {
  let server;
  let proxy;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(SEED), `seed page not found at ${SEED}`);
    assert.equal(await portOpen(PORT), false, `port ${PORT} is already in use; the seed page needs it`);
    server = await startServe(['--static', FIXTURES]);
    proxy = await startProxy(server.port, { port: PORT, keepPayloads: true });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (proxy) await proxy.close();
    if (server) await server.stop();
  });

  test('long messages go compressed both ways, a short echo (< 32 bytes) uncompressed', async () => {
    const { context, page, problems } = await openSeedPage(browser, `http://localhost:${PORT}/seed-test-page.html`);
    try {
      const conn = proxy.connections.find((c) => c.upgraded);
      assert.ok(conn, 'the WebSocket connection went through the proxy');
      const answer = conn.responseHeaders['sec-websocket-extensions'];
      assert.equal(answer?.length, 1, `answer: ${JSON.stringify(answer)}`);
      assert.match(answer[0], /^permessage-deflate\b/);
      const agreed = Object.fromEntries(parseExtensions(answer[0])[0].params);

      const texts = ['short one', longText(5000), longText(60000)];
      for (const t of texts) await typeAndWaitForEcho(page, t);

      assert.equal(conn.up.messages.length, texts.length, 'messages from Chromium');
      assert.equal(conn.down.messages.length, texts.length, 'echoes from sockeye');
      const inflater = new TracingInflater();
      texts.forEach((t, i) => {
        const size = Buffer.byteLength(t);
        const up = conn.up.messages[i];
        const down = conn.down.messages[i];
        if (size >= 1000) {
          assert.ok(up.compressed && up.wireLength < size / 5, `Chromium's message ${i} (${size} B): ${up.compressed ? 'compressed' : 'uncompressed'}, ${up.wireLength} B on the wire`);
        }
        assert.equal(down.compressed, size >= 32, `sockeye's echo ${i} (${size} B) compressed=${down.compressed}`);
        if (down.compressed) {
          const tr = inflater.message(down.payload);
          assert.equal(tr.data.toString('utf8'), t, `sockeye's echo ${i} inflates to something else`);
          assert.ok(tr.maxDistance <= 2 ** Number(agreed.server_max_window_bits ?? 15));
          if (size >= 1000) assert.ok(down.wireLength < size / 5, `sockeye's echo ${i} (${size} B) took ${down.wireLength} B`);
        } else {
          assert.equal(down.payload.toString('utf8'), t);
        }
      });
      assert.ok(conn.down.bytes < (5000 + 60000) / 5, `all server->client bytes incl. the 101: ${conn.down.bytes}`);
      assert.deepEqual(problems, [], 'the page logged errors');
    } finally {
      await context.close();
    }
  });
});
