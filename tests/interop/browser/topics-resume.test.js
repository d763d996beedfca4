'use strict';
// sockeye.js in headless Chromium, loaded from the real `sockeye serve --broadcast --history 1000 --static <dir>`
// (which serves /sockeye.js itself), subscribed to a topic while a Node publisher (sockeye.js on `ws`) publishes a
// numbered stream. The page records every message it gets (epoch, offset, payload) and every onReset.
//  (a) a TCP proxy between page and server cuts the page's connection mid-stream: the page reconnects, resumes
//      from its last position and ends with every message exactly once, in order; onReset never fires.
//  (b) the server is stopped mid-stream and started again on the same port (in-memory history lost): the page is
//      told "not recovered" (onReset with the new epoch) and goes on with the new stream, in order, no duplicates.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { startServe, freePort } = require('../lib/sockeye');
const { launch, newPage } = require('../lib/browser');
const { startCutProxy } = require('../lib/cut-proxy');
const { loadClient, within } = require('../lib/topics');

const TOTAL = 2000; // messages in each stream
const CUT_AT = 700; // the publisher breaks the page's connection (or restarts the server) before this message

// The test page: subscribes to ?topic= through the served /sockeye.js and records what it sees on window.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>sockeye.js resume</title></head>
<body><p id="status">loading</p>
<script type="module">
import { connect } from "/sockeye.js";
const topic = new URLSearchParams(location.search).get("topic");
const log = { received: [], resets: [], readies: [], states: [], errors: [] };
window.log = log;
const client = connect("/topics", { minDelay: 50, maxDelay: 500 });
client.on("state", (s) => { log.states.push(s); document.getElementById("status").textContent = s; });
client.on("error", (e) => log.errors.push(e.code + ": " + e.message));
const sub = client.subscribe(topic, {
  onMessage: (data, meta) => log.received.push([meta.epoch, meta.offset, data]),
  onReset: (position) => log.resets.push(position),
});
const watchReady = () => sub.ready.then((r) => log.readies.push(r), (e) => log.errors.push("ready: " + e.message));
watchReady();
client.on("open", () => { if (log.states.filter((s) => s === "open").length > 1) watchReady(); });
</script></body></html>
`;

const received = (page) => page.evaluate(() => window.log.received.length);
const pageLog = (page) => page.evaluate(() => window.log);

/** Chromium reports each refused reconnect attempt on the console; anything else the page logs is a problem. */
const realProblems = (problems) => problems.filter((p) => !/WebSocket connection to 'ws:\/\/[^']+\/topics' failed/.test(p));

const pace = () => new Promise((r) => setTimeout(r, 2)); // the publisher's steady pace, not a synchronisation

describe('sockeye.js in headless chromium: resume after a cut, reset after a server restart', () => {
  let dir;
  let browser;
  let sockeye;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockeye-topics-page-'));
    fs.writeFileSync(path.join(dir, 'index.html'), PAGE);
    sockeye = await loadClient();
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('(a) a cut connection resumes: every message exactly once, in order, no onReset', async () => {
    const server = await startServe(['--broadcast', '--history', '1000', '--static', dir]);
    const proxy = await startCutProxy(server.port);
    const pub = sockeye.connect(`${server.url}/`, { WebSocket });
    const { page, problems, context } = await newPage(browser);
    try {
      // The page (and its WebSocket) go through the proxy; the publisher goes straight to the server.
      const resp = await page.goto(`http://127.0.0.1:${proxy.port}/?topic=stream-a`);
      assert.equal(resp.status(), 200);
      await page.waitForFunction(() => window.log && window.log.readies.length === 1);
      const first = (await pageLog(page)).readies[0];
      assert.equal(first.offset, 0);

      const payloadAt = new Map();
      let cutAt = null;
      for (let i = 1; i <= TOTAL; i++) {
        if (i === CUT_AT) {
          // Mid-stream: the page has been receiving live messages when its connection breaks.
          await page.waitForFunction((n) => window.log.received.length >= n, CUT_AT - 200);
          cutAt = await received(page);
          assert.ok(proxy.cut() >= 1, 'the page had a connection through the proxy');
        }
        const ack = await pub.publish('stream-a', `a-${i}`);
        assert.equal(ack.epoch, first.epoch);
        payloadAt.set(ack.offset, `a-${i}`);
        await pace();
      }
      await page.waitForFunction((n) => window.log.received.length >= n, TOTAL, { timeout: 30000 });
      const log = await pageLog(page);
      assert.ok(cutAt > 0 && cutAt < TOTAL, `the cut came mid-stream (after ${cutAt} messages)`);
      assert.deepEqual(log.received.map((m) => m[1]), Array.from({ length: TOTAL }, (_, k) => k + 1), 'offsets 1..N exactly once, in order');
      assert.deepEqual(log.received.map((m) => m[2]), log.received.map((m) => payloadAt.get(m[1])), 'each payload at its acknowledged offset');
      assert.ok(log.received.every((m) => m[0] === first.epoch), 'one epoch');
      assert.deepEqual(log.resets, [], 'onReset did not fire');
      assert.equal(log.readies.length, 2, 'subscribed twice: at first and after the reconnect');
      assert.equal(log.readies[1].recovered, true, 'the second subscription resumed');
      assert.ok(log.states.includes('reconnecting'), `states: ${log.states}`);
      assert.deepEqual(log.errors, []);
      assert.deepEqual(realProblems(problems), [], 'the page logged errors');
    } finally {
      pub.close();
      await context.close();
      await proxy.close();
      await server.stop();
    }
  });

  test('(b) a restarted server: onReset with the new epoch, then the new stream in order without duplicates', async () => {
    const port = await freePort();
    const args = ['--broadcast', '--history', '1000', '--static', dir];
    let server = await startServe(args, { port });
    const pub = sockeye.connect(`ws://127.0.0.1:${port}/`, { WebSocket, minDelay: 50, maxDelay: 500, timeout: 30000 });
    const { page, problems, context } = await newPage(browser);
    try {
      await page.goto(`http://127.0.0.1:${port}/?topic=stream-b`);
      await page.waitForFunction(() => window.log && window.log.readies.length === 1);
      const oldEpoch = (await pageLog(page)).readies[0].epoch;

      const acks = []; // { i, epoch, offset }
      const unknown = []; // publishes whose connection closed before the answer
      let restarted = null;
      for (let i = 1; i <= TOTAL; i++) {
        if (i === CUT_AT) {
          await page.waitForFunction((n) => window.log.received.length >= n, CUT_AT - 200);
          // Stop (SIGTERM) and start again on the same port while the publisher keeps going: its publishes wait
          // for its reconnect.
          restarted = (async () => {
            await server.stop();
            server = await startServe(args, { port });
          })();
        }
        try {
          const ack = await pub.publish('stream-b', `b-${i}`);
          acks.push({ i, ...ack });
        } catch (e) {
          assert.equal(e.code, 'disconnected', `publish ${i}: ${e.message}`);
          unknown.push(i);
        }
        await pace();
      }
      await within(restarted, 60000, 'the restart');
      const newAcks = acks.filter((a) => a.epoch !== oldEpoch);
      assert.ok(newAcks.length > 0, 'the publisher went on in a new epoch');
      const newEpoch = newAcks[0].epoch;
      assert.ok(newAcks.every((a) => a.epoch === newEpoch), 'one new epoch');
      const last = newAcks.at(-1);
      assert.equal(last.i, TOTAL);
      await page.waitForFunction(([e, o]) => window.log.received.some((m) => m[0] === e && m[1] === o), [newEpoch, last.offset], { timeout: 30000 });

      const log = await pageLog(page);
      assert.equal(log.resets.length, 1, `onReset fired once: ${JSON.stringify(log.resets)}`);
      const reset = log.resets[0];
      assert.equal(reset.epoch, newEpoch, 'onReset names the new epoch');
      assert.equal(log.readies.length, 2);
      assert.deepEqual(log.readies[1], { epoch: newEpoch, offset: reset.offset, recovered: false }, 'told "not recovered"');

      const oldPart = log.received.filter((m) => m[0] === oldEpoch);
      const newPart = log.received.filter((m) => m[0] === newEpoch);
      assert.equal(oldPart.length + newPart.length, log.received.length, 'only these two epochs');
      assert.deepEqual(log.received, [...oldPart, ...newPart], 'the old stream, then the new one');
      // Old epoch: the first publishes, offset i carrying b-i, each once, in order, up to where it stopped.
      assert.ok(oldPart.length >= CUT_AT - 200);
      assert.deepEqual(oldPart.map((m) => m[1]), Array.from({ length: oldPart.length }, (_, k) => k + 1));
      assert.deepEqual(oldPart.map((m) => m[2]), oldPart.map((m) => `b-${m[1]}`));
      // New epoch: every offset after the reset's position, once, in order, each with the payload acked there.
      const byOffset = new Map(newAcks.map((a) => [a.offset, `b-${a.i}`]));
      const expected = newAcks.filter((a) => a.offset > reset.offset).map((a) => a.offset);
      assert.ok(expected.length > 0, 'messages after the reset');
      assert.deepEqual(newPart.map((m) => m[1]), expected);
      assert.deepEqual(newPart.map((m) => m[2]), newPart.map((m) => byOffset.get(m[1])));
      assert.ok(unknown.length <= 1, `at most the publish in flight at the stop was lost: ${unknown}`);
      assert.deepEqual(log.errors, []);
      assert.deepEqual(realProblems(problems), [], 'the page logged errors');
    } finally {
      pub.close();
      await context.close();
      await server.stop();
    }
  });
});
