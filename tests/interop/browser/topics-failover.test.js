'use strict';
// Failover between nodes that share topics on a backplane (docs/scale-out.md), in headless Chromium, once per
// backplane: three real `sockeye serve --broadcast --history N` nodes on one real redis-server (`--redis`) or one real
// `nats-server -js` (`--nats`, JetStream) that this test starts (free port, temp dir, no persistence beyond it) and
// stops. The page is served by node A and loads /sockeye.js from it; it subscribes with `connect([A, B, C])` (URLs
// tried in turn). A Node publisher (sockeye.js on `ws`) publishes a numbered stream through node C. Mid-stream node A
// is killed with SIGKILL: the page reconnects to node B, resumes from its last position (the backplane holds it), and
// ends with every message exactly once, in order, without onReset.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { startServe, freePort, waitForPort } = require('../lib/sockeye');
const { launch, newPage } = require('../lib/browser');
const { loadClient, within } = require('../lib/topics');

const TOTAL = 1500; // messages in the stream
const KILL_AT = 600; // node A is killed before this message is published, once the page has most of those before

function which(command) {
  try {
    return execFileSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

// The page: subscribes to ?topic= on the nodes listed in ?urls= and records what it sees, and the URL of each
// connection that opened, on window.log.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>sockeye.js failover</title></head>
<body><p id="status">loading</p>
<script type="module">
import { connect } from "/sockeye.js";
const params = new URLSearchParams(location.search);
const topic = params.get("topic");
const urls = params.get("urls").split(",");
const log = { received: [], resets: [], readies: [], states: [], errors: [], opened: [], closes: [] };
window.log = log;
const client = connect(urls, { minDelay: 50, maxDelay: 500 });
client.on("state", (s) => { log.states.push(s); document.getElementById("status").textContent = s; });
client.on("open", () => log.opened.push(client.url));
client.on("close", (e) => log.closes.push([client.url, e.code, e.reason]));
client.on("error", (e) => log.errors.push(e.code + ": " + e.message));
const sub = client.subscribe(topic, {
  onMessage: (data, meta) => log.received.push([meta.epoch, meta.offset, data]),
  onReset: (position) => log.resets.push(position),
});
const watchReady = () => sub.ready.then((r) => log.readies.push(r), (e) => log.errors.push("ready: " + e.message));
watchReady();
client.on("open", () => { if (log.opened.length > 1) watchReady(); });
</script></body></html>
`;

/**
 * Starts `bin ...args(port, dir)` on a free loopback port with a temp dir and resolves once ready(port) holds (bounded);
 * stop() ends it (SIGTERM, SIGKILL after 10 s) and removes the dir. output() is what it printed.
 */
async function startBackplaneServer(name, bin, args, ready) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sockeye-failover-${name}-`));
  const proc = spawn(bin, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, proc);
    await ready(port, proc);
  } catch (e) {
    proc.kill('SIGKILL');
    await stop();
    throw new Error(`${e.message}\n--- ${name} output ---\n${out}`);
  }
  return { port, output: () => out, stop };
}

/** Resolves with what a new TCP connection to port is sent first (up to n bytes), or '' if it closes or stalls. */
function firstBytes(port, n) {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const sock = net.connect({ port, host: '127.0.0.1' });
    const done = () => { sock.destroy(); clearTimeout(timer); resolve(got.subarray(0, n).toString('latin1')); };
    const timer = setTimeout(done, 5000);
    sock.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= n) done(); });
    sock.once('error', done);
    sock.once('close', done);
  });
}

/** Resolves once nats-server greets a new client with INFO (tried every 50 ms, at most 20 s). */
async function natsGreets(port, proc) {
  const deadline = Date.now() + 20000;
  while ((await firstBytes(port, 4)) !== 'INFO') {
    if (proc.exitCode !== null) throw new Error(`nats-server exited with code ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for nats-server on ${port} to greet with INFO`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval of a bounded wait
  }
}

// Each backplane: the server binary (outside CI a machine without it skips that case; with CI=true, and in ./test.sh,
// whose setup stage installs both, a missing one fails) and how to start it and point the nodes at it.
const BACKPLANES = [
  {
    name: 'Redis',
    bin: which('redis-server'),
    start: (bin) => startBackplaneServer('redis', bin, (port, dir) => ['--port', String(port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], async () => {}),
    nodeArgs: (server, prefix) => ['--redis', `127.0.0.1:${server.port}`, '--redis-prefix', `${prefix}:`],
  },
  {
    name: 'NATS JetStream',
    bin: which('nats-server'),
    // Flags as in tests/Sockeye.Nats.Tests/NatsServer.cs (nats-server 2.9.10); the store is in the temp dir. Ready
    // once it greets a client with INFO (JetStream is enabled before it accepts clients).
    start: (bin) => startBackplaneServer('nats', bin, (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port),
      '-sd', path.join(dir, 'store')], natsGreets),
    nodeArgs: (server, prefix) => ['--nats', `nats://127.0.0.1:${server.port}`, '--nats-prefix', prefix],
  },
];

/** Chromium reports each refused reconnect attempt on the console; anything else the page logs is a problem. */
const realProblems = (problems) => problems.filter((p) => !/WebSocket connection to 'ws:\/\/[^']+\/topics' failed/.test(p));

const pageLog = (page) => page.evaluate(() => window.log);
const pace = () => new Promise((r) => setTimeout(r, 2)); // the publisher's steady pace, not a synchronisation

for (const backplane of BACKPLANES) {
  const SKIP = !backplane.bin && process.env.CI !== 'true'
    ? `${backplane.name}: server not installed (skipped outside CI; with CI=true this fails)` : false;

  describe(`sockeye.js in headless chromium: the page's node is killed, it resumes on another node of the ${backplane.name} backplane`, { skip: SKIP }, () => {
    let dir;
    let browser;
    let sockeye;
    let server;
    const nodes = [];
    before(async () => {
      if (!backplane.bin) throw new Error(`${backplane.name}: its server is not installed (CI=true)`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockeye-failover-page-'));
      fs.writeFileSync(path.join(dir, 'index.html'), PAGE);
      sockeye = await loadClient();
      server = await backplane.start(backplane.bin);
      // One prefix per run: nothing from another run on a shared server can be mistaken for this stream.
      const prefix = `failover-${crypto.randomBytes(4).toString('hex')}`;
      // The page comes from node A; nodes B and C accept its origin as behind a load balancer all nodes would share one.
      const pagePort = await freePort();
      for (let i = 0; i < 3; i++) {
        nodes.push(await startServe(['--broadcast', '--history', String(TOTAL + 1000), ...backplane.nodeArgs(server, prefix),
          '--static', dir, '--origin', `http://127.0.0.1:${pagePort}`], i === 0 ? { port: pagePort } : {}));
      }
      browser = await launch();
    });
    after(async () => {
      if (browser) await browser.close();
      for (const node of nodes) await node.stop();
      if (server) await server.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('SIGKILL of the page\'s node mid-stream: it reconnects to node B and has every message exactly once, in order', async () => {
      const [a, b, c] = nodes;
      const urls = nodes.map((n) => `${n.url}/topics`);
      // The publisher is on node C, which stays up: every publish is acknowledged, in one epoch.
      const pub = sockeye.connect(`${c.url}/`, { WebSocket, timeout: 30000 });
      const { page, problems, context } = await newPage(browser);
      try {
        const resp = await page.goto(`${a.httpUrl}/?topic=failover&urls=${encodeURIComponent(urls.join(','))}`);
        assert.equal(resp.status(), 200);
        await page.waitForFunction(() => window.log && window.log.readies.length === 1);
        const first = (await pageLog(page)).readies[0];
        assert.equal(first.offset, 0, 'a new topic');

        const payloadAt = new Map();
        let killedAfter = null;
        let killed = null;
        for (let i = 1; i <= TOTAL; i++) {
          if (i === KILL_AT) {
            // Mid-stream: the page has been receiving live messages from node A when A dies without a goodbye.
            await page.waitForFunction((n) => window.log.received.length >= n, KILL_AT - 200);
            killedAfter = await page.evaluate(() => window.log.received.length);
            a.proc.kill('SIGKILL');
            killed = await within(a.exited, 15000, 'node A to die');
          }
          const ack = await pub.publish('failover', `m-${i}`);
          assert.equal(ack.epoch, first.epoch, `publish ${i} in the topic's epoch`);
          assert.equal(ack.offset, i, `publish ${i} at offset ${i}`);
          payloadAt.set(ack.offset, `m-${i}`);
          await pace();
        }
        try {
          await page.waitForFunction((n) => window.log.received.length >= n, TOTAL, { timeout: 60000 });
        } catch (e) {
          const l = await pageLog(page);
          const offs = l.received.map((m) => m[1]);
          throw new Error(`${e.message}\npage: ${offs.length} messages, last offsets ${offs.slice(-5)}, opened ${l.opened}, ` +
            `states ${l.states}, readies ${JSON.stringify(l.readies)}, resets ${JSON.stringify(l.resets)}, errors ${l.errors}, closes ${JSON.stringify(l.closes)}\n` +
            `--- node B ---\n${b.output().slice(-3000)}\n--- ${backplane.name} server ---\n${server.output().slice(-2000)}`);
        }
        const log = await pageLog(page);

        assert.equal(killed.signal, 'SIGKILL', 'node A was killed');
        assert.ok(killedAfter > 0 && killedAfter < TOTAL, `the kill came mid-stream (after ${killedAfter} messages)`);
        assert.deepEqual(log.opened, [urls[0], urls[1]], 'connected to node A, then (after the kill) to node B');
        assert.ok(log.states.includes('reconnecting'), `states: ${log.states}`);
        assert.deepEqual(log.received.map((m) => m[1]), Array.from({ length: TOTAL }, (_, k) => k + 1), 'offsets 1..N exactly once, in order');
        assert.deepEqual(log.received.map((m) => m[2]), log.received.map((m) => payloadAt.get(m[1])), 'each payload at its acknowledged offset');
        assert.ok(log.received.every((m) => m[0] === first.epoch), 'one epoch');
        assert.deepEqual(log.resets, [], 'onReset did not fire');
        assert.equal(log.readies.length, 2, 'subscribed twice: on node A and on node B');
        assert.equal(log.readies[1].recovered, true, `node B resumed the subscription from ${backplane.name}`);
        assert.ok(log.readies[1].offset >= killedAfter, 'node B answered with a position at or after the last one node A delivered');
        assert.deepEqual(log.errors, []);
        assert.deepEqual(realProblems(problems), [], 'the page logged errors');
        assert.equal(b.proc.exitCode, null, 'node B is still up');
      } finally {
        pub.close();
        await context.close();
      }
    });
  });
}
