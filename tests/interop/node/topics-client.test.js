'use strict';
// sockeye.js (clients/js, the browser client of topics) in Node with `ws` as its WebSocket, against the real
// `sockeye serve --broadcast`, next to raw sockeye.v1 clients and plain WebSocket clients (docs/protocol.md).
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { startServe, freePort } = require('../lib/sockeye');
const { startCutProxy } = require('../lib/cut-proxy');
const { loadClient, until, within, rawV1 } = require('../lib/topics');

let sockeye; // the module
const clients = [];

/** A sockeye.js client on `ws`, closed after the test file. Fast reconnects keep the tests short. */
function client(url, options = {}) {
  const c = sockeye.connect(url, { WebSocket, minDelay: 20, maxDelay: 200, ...options });
  clients.push(c);
  return c;
}

function opened(c) {
  if (c.state === 'open') return Promise.resolve();
  return within(new Promise((resolve) => {
    const off = c.on('open', () => { off(); resolve(); });
  }), 15000, `client ${c.url} to open`);
}

/** Subscribes and records every message: { messages: [{data, topic, epoch, offset}], resets, gaps, presence, sub }. */
function recorder(c, topic, options = {}) {
  const r = { messages: [], resets: [], gaps: [], presence: [] };
  r.sub = c.subscribe(topic, {
    ...options,
    onMessage: (data, meta) => r.messages.push({ data, ...meta }),
    onReset: (p) => r.resets.push(p),
    onGap: (g) => r.gaps.push(g),
    onPresence: (e) => r.presence.push(e),
  });
  return r;
}

const offsets = (r) => r.messages.map((m) => m.offset);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

before(async () => {
  sockeye = await loadClient();
});

/** Closes every client made so far (before their server stops, so none is left reconnecting). */
function closeClients() {
  for (const c of clients.splice(0)) c.close();
}

after(closeClients);

describe('sockeye.js against serve --broadcast --history 1000 --presence', () => {
  let server;
  before(async () => {
    server = await startServe(['--broadcast', '--history', '1000', '--presence']);
  });
  after(async () => {
    closeClients();
    if (server) await server.stop();
  });

  test('publish is acknowledged with its position; the subscriber gets each message at that position', async () => {
    const sub = client(`${server.url}/`);
    const pub = client(`${server.url}/`);
    const r = recorder(sub, 'ack');
    const ready = await r.sub.ready;
    assert.equal(ready.offset, 0, 'a new topic starts at offset 0');
    assert.equal(typeof ready.epoch, 'string');
    assert.ok(ready.epoch.length > 0);
    const acks = [];
    for (const text of ['one', 'two', 'ünïcödé ✓ 🐟']) acks.push(await pub.publish('ack', text));
    assert.deepEqual(acks, [1, 2, 3].map((offset) => ({ epoch: ready.epoch, offset })));
    await until(() => r.messages.length === 3, { what: '3 messages', detail: () => JSON.stringify(r.messages) });
    assert.deepEqual(r.messages, [
      { data: 'one', topic: 'ack', epoch: ready.epoch, offset: 1 },
      { data: 'two', topic: 'ack', epoch: ready.epoch, offset: 2 },
      { data: 'ünïcödé ✓ 🐟', topic: 'ack', epoch: ready.epoch, offset: 3 },
    ]);
    assert.deepEqual(r.sub.position, { epoch: ready.epoch, offset: 3 });
    assert.deepEqual(r.resets, []);
  });

  test('binary round trip: §2.1 frames both ways, byte-exact, between sockeye.js and a raw sockeye.v1 client', async () => {
    const js = client(`${server.url}/`);
    const r = recorder(js, 'bin');
    await r.sub.ready;
    const raw = await rawV1(`${server.url}/`);
    raw.send({ op: 'sub', id: 1, topic: 'bin' });
    const subscribed = await raw.next((f) => f.op === 'subscribed' && f.id === 1, 'subscribed');
    assert.equal(subscribed.offset, 0);

    // sockeye.js publishes every byte value, a typed-array view into a larger buffer, and 64 KiB of random bytes.
    const all = Uint8Array.from(range(0, 255));
    const backing = new Uint8Array(100).fill(0xee);
    backing.set([1, 2, 3, 4, 5], 40);
    const view = backing.subarray(40, 45);
    const random = crypto.randomBytes(65536);
    const acks = [await js.publish('bin', all.buffer), await js.publish('bin', view), await js.publish('bin', random)];
    assert.deepEqual(acks.map((a) => a.offset), [1, 2, 3]);
    // The raw client publishes the spec's own example frame: 00 00 00 1d + {"op":"pub","id":7,"topic":"bin"}... no:
    // the JSON must name this topic, so its length differs; the layout is the same.
    raw.sendBinary({ op: 'pub', id: 7, topic: 'bin' }, [1, 2, 3]);
    const ack = await raw.next((f) => f.op === 'ack' && f.id === 7, 'ack 7');
    assert.equal(ack.offset, 4);

    await until(() => r.messages.length === 4, { what: '4 binary messages at sockeye.js' });
    for (const m of r.messages) assert.ok(m.data instanceof ArrayBuffer, 'binary arrives as an ArrayBuffer');
    assert.deepEqual(Buffer.from(r.messages[0].data), Buffer.from(all));
    assert.deepEqual(Buffer.from(r.messages[1].data), Buffer.from([1, 2, 3, 4, 5]), 'only the view, not its backing buffer');
    assert.deepEqual(Buffer.from(r.messages[2].data), random);
    assert.deepEqual(Buffer.from(r.messages[3].data), Buffer.from([1, 2, 3]));

    const rawMsgs = await until(() => {
      const ms = raw.frames.filter((f) => f.op === 'msg');
      return ms.length === 4 && ms;
    }, { what: '4 msg frames at the raw client' });
    assert.deepEqual(rawMsgs.map((m) => m.offset), [1, 2, 3, 4]);
    assert.deepEqual(rawMsgs.map((m) => m.payload.length), [256, 5, 65536, 3]);
    assert.deepEqual(rawMsgs[2].payload, random);
    for (const m of rawMsgs) assert.equal(m.text, undefined, 'a binary msg carries no text');
    raw.close();
  });

  test('ordering under concurrent publishers: one order for every subscriber, each publisher in its own order', async () => {
    const PUBLISHERS = 4;
    const EACH = 250;
    const subs = [recorder(client(`${server.url}/`), 'order'), recorder(client(`${server.url}/`), 'order')];
    await Promise.all(subs.map((r) => r.sub.ready));
    const pubs = range(1, PUBLISHERS).map(() => client(`${server.url}/`));
    await Promise.all(pubs.map(opened));
    // Every publisher fires all its messages at once; they interleave on the server.
    const acked = await Promise.all(pubs.map((p, k) => Promise.all(range(1, EACH).map((i) => p.publish('order', `p${k}:${i}`)))));
    const total = PUBLISHERS * EACH;
    for (const r of subs) {
      await until(() => r.messages.length === total, { what: `${total} messages`, detail: () => `${r.messages.length}` });
      assert.deepEqual(offsets(r), range(1, total), 'offsets 1..N, each once, in order');
    }
    assert.deepEqual(subs[0].messages.map((m) => m.data), subs[1].messages.map((m) => m.data), 'both subscribers see one order');
    const at = new Map(subs[0].messages.map((m) => [m.data, m.offset]));
    for (let k = 0; k < PUBLISHERS; k++) {
      const seen = subs[0].messages.filter((m) => m.data.startsWith(`p${k}:`)).map((m) => m.data);
      assert.deepEqual(seen, range(1, EACH).map((i) => `p${k}:${i}`), `publisher ${k}'s messages in its order`);
      acked[k].forEach((a, i) => assert.equal(a.offset, at.get(`p${k}:${i + 1}`), 'the ack names the offset it was delivered at'));
    }
  });

  test('errors: bad_request for an empty topic (publish and subscribe), and the connection stays usable', async () => {
    const c = client(`${server.url}/`);
    await assert.rejects(c.publish('', 'x'), (e) => e instanceof sockeye.SockeyeError && e.code === 'bad_request');
    const s = c.subscribe('', () => {});
    await assert.rejects(s.ready, (e) => e instanceof sockeye.SockeyeError && e.code === 'bad_request');
    const long = 'x'.repeat(257);
    await assert.rejects(c.publish(long, 'x'), (e) => e.code === 'bad_request', 'a topic over 256 bytes');
    assert.equal(c.state, 'open');
    const ok = await c.publish('still-open', 'y');
    assert.equal(ok.offset, 1);
  });

  test('errors: a request nobody answers is rejected with timeout', async () => {
    // A TCP server that accepts and never answers the handshake: the client stays "connecting".
    const sockets = new Set();
    const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const c = client(`ws://127.0.0.1:${silent.address().port}/`);
      const started = Date.now();
      await assert.rejects(c.publish('t', 'x', { timeout: 300 }), (e) => e instanceof sockeye.SockeyeError && e.code === 'timeout');
      assert.ok(Date.now() - started >= 290, 'not before the timeout');
      assert.notEqual(c.state, 'open');
      c.close();
      assert.equal(c.state, 'closed');
      await assert.rejects(c.publish('t', 'x'), (e) => e.code === 'closed', 'a closed client refuses at once');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('errors: nothing listening — reconnect attempts fail quietly, publish times out, the process does not crash', async () => {
    const port = await freePort(); // nothing listens here
    const c = client(`ws://127.0.0.1:${port}/`, { minDelay: 10, maxDelay: 50 });
    const closes = [];
    c.on('close', (e) => closes.push(e));
    await assert.rejects(c.publish('t', 'x', { timeout: 500 }), (e) => e.code === 'timeout');
    // Reconnecting goes on after the publish gave up: wait for a second refused attempt rather than expect it within
    // the publish's 500 ms (a busy machine may fit only one 10-50 ms retry cycle in there).
    await until(() => closes.length >= 2, { what: 'a second refused attempt reported as a close', detail: () => `${closes.length}` });
    assert.equal(c.state, 'reconnecting');
    c.close();
  });

  test('presence: join and leave reach the others, the member list includes those there before', async () => {
    const a = client(`${server.url}/`);
    const ra = recorder(a, 'room', { presence: { name: 'a' } });
    await ra.sub.ready;
    await until(() => ra.presence.some((e) => e.change === 'join' && e.member.connection === a.connection), { what: 'a sees its own join' });
    const b = client(`${server.url}/`);
    const rb = recorder(b, 'room', { presence: { name: 'b' } });
    await rb.sub.ready;
    await until(() => ra.presence.some((e) => e.change === 'join' && e.member.connection === b.connection), { what: 'a sees b join' });
    const bJoin = ra.presence.find((e) => e.change === 'join' && e.member.connection === b.connection);
    assert.deepEqual(bJoin.member.info, { name: 'b' });
    assert.equal(bJoin.count, 2);

    // b came second: its view must still hold a, who was there before it subscribed.
    await until(() => rb.presence.length > 0 && rb.presence.at(-1).count === 2, {
      what: 'b sees 2 members', detail: () => JSON.stringify(rb.presence),
    });
    const bView = rb.presence.at(-1).members.map((m) => m.info.name).sort();
    assert.deepEqual(bView, ['a', 'b']);

    const list = await a.presence('room');
    assert.equal(list.count, 2);
    assert.deepEqual(list.members.map((m) => m.connection).sort(), [a.connection, b.connection].sort());

    b.close();
    await until(() => ra.presence.some((e) => e.change === 'leave' && e.member.connection === b.connection), { what: 'a sees b leave' });
    const leave = ra.presence.find((e) => e.change === 'leave');
    assert.equal(leave.count, 1);
    assert.deepEqual(leave.members.map((m) => m.info.name), ['a']);
    assert.equal((await a.presence('room')).count, 1);
  });

  test('presence after a reconnect: the list is the server\'s again, the old connection gone', async () => {
    const proxy = await startCutProxy(server.port);
    try {
      const other = client(`${server.url}/`);
      const ro = recorder(other, 'room2', { presence: { name: 'other' } });
      await ro.sub.ready;
      const c = client(`ws://127.0.0.1:${proxy.port}/`);
      const r = recorder(c, 'room2', { presence: { name: 'me' } });
      await r.sub.ready;
      const names = (e) => e.members.map((m) => `${m.info.name}@${m.connection}`).sort();
      await until(() => r.presence.at(-1)?.count === 2, { what: 'two members' });
      const oldId = c.connection;
      const reopened = new Promise((resolve) => { const off = c.on('open', () => { off(); resolve(); }); });
      proxy.cut();
      await within(reopened, 15000, 'the reconnect');
      const newId = c.connection;
      assert.notEqual(newId, oldId);
      const want = [`me@${newId}`, `other@${other.connection}`].sort();
      await until(() => JSON.stringify(names(r.presence.at(-1))) === JSON.stringify(want), {
        what: 'the member list after the reconnect', detail: () => JSON.stringify(r.presence.at(-1)),
      });
      await until(() => ro.presence.some((e) => e.change === 'leave' && e.member.connection === oldId), { what: 'the other to see the old connection leave' });
      await until(() => JSON.stringify(names(ro.presence.at(-1))) === JSON.stringify(want), { what: 'the other\'s list' });
      assert.deepEqual((await c.presence('room2')).members.map((m) => m.connection).sort(), [newId, other.connection].sort());
    } finally {
      await proxy.close();
    }
  });

  test('since: a dropped connection resumes where it was (history fills the gap), and a new client resumes from a saved position', async () => {
    const proxy = await startCutProxy(server.port);
    try {
      const c = client(`ws://127.0.0.1:${proxy.port}/`);
      const states = [];
      c.on('state', (s) => states.push(s));
      const r = recorder(c, 'resume');
      const first = await r.sub.ready;
      const pub = client(`${server.url}/`);
      for (let i = 1; i <= 50; i++) await pub.publish('resume', `m${i}`);
      await until(() => r.messages.length === 50, { what: '50 messages before the cut' });

      const reopened = new Promise((resolve) => { const off = c.on('open', () => { off(); resolve(); }); });
      assert.equal(proxy.cut(), 1, 'the client connection was cut');
      // Published while the client's connection is down (or coming back): history must fill them in.
      for (let i = 51; i <= 100; i++) await pub.publish('resume', `m${i}`);
      await within(reopened, 15000, 'the client to reconnect');
      const again = await r.sub.ready;
      assert.equal(again.recovered, true, 'resumed from the last position');
      await until(() => r.messages.length >= 100, { what: '100 messages', detail: () => `${r.messages.length}` });
      assert.deepEqual(offsets(r), range(1, 100), 'every offset once, in order');
      assert.deepEqual(r.messages.map((m) => m.data), range(1, 100).map((i) => `m${i}`));
      assert.deepEqual(r.resets, [], 'onReset did not fire');
      assert.ok(states.includes('reconnecting'), `states: ${states}`);
      assert.equal(proxy.accepted(), 2);

      // A new client with a saved position gets exactly what came after it.
      const d = client(`${server.url}/`);
      const rd = recorder(d, 'resume', { since: { epoch: first.epoch, offset: 60 } });
      assert.equal((await rd.sub.ready).recovered, true);
      await until(() => rd.messages.length === 40, { what: '40 messages after offset 60' });
      assert.deepEqual(offsets(rd), range(61, 100));
      assert.deepEqual(rd.resets, []);

      // A position of another epoch cannot be resumed: onReset tells the app to reload.
      const e = client(`${server.url}/`);
      const re = recorder(e, 'resume', { since: { epoch: 'not-this-one', offset: 3 } });
      const ready = await re.sub.ready;
      assert.equal(ready.recovered, false);
      assert.deepEqual(re.resets, [{ epoch: first.epoch, offset: 100 }]);
      await pub.publish('resume', 'm101');
      await until(() => re.messages.length === 1, { what: 'the live message after a reset' });
      assert.equal(re.messages[0].offset, 101);
    } finally {
      await proxy.close();
    }
  });

  test('a subscribe made while the connection is closing is made once after the reconnect, and stays live', async () => {
    const proxy = await startCutProxy(server.port);
    try {
      const sockets = [];
      class Recorded extends WebSocket {
        constructor(...args) { super(...args); sockets.push(this); }
      }
      const c = client(`ws://127.0.0.1:${proxy.port}/`, { WebSocket: Recorded });
      const errors = [];
      c.on('error', (e) => errors.push(e));
      const first = recorder(c, 'closing-1');
      await first.sub.ready;
      // A close frame (1001) reaches the client, but the TCP connection stays up: the WebSocket is CLOSING
      // while the client has not had its close event yet.
      proxy.inject(Buffer.from([0x88, 0x02, 0x03, 0xe9]));
      await until(() => sockets[0].readyState === WebSocket.CLOSING, { what: 'the WebSocket to be closing' });
      assert.equal(c.state, 'open');
      const second = recorder(c, 'closing-2');
      const reopened = new Promise((resolve) => { const off = c.on('open', () => { off(); resolve(); }); });
      proxy.cut();
      await within(reopened, 15000, 'the reconnect');
      assert.equal((await second.sub.ready).offset, 0);
      const pub = client(`${server.url}/`);
      await pub.publish('closing-2', 'two');
      await pub.publish('closing-1', 'one');
      await until(() => first.messages.length === 1, { what: 'the message on closing-1' });
      await until(() => second.messages.length === 1, { what: 'the message on closing-2', detail: () => JSON.stringify(errors) });
      assert.equal(second.messages[0].data, 'two');
      assert.deepEqual(errors, []);
    } finally {
      await proxy.close();
    }
  });

  test('unsubscribing and subscribing again while disconnected leaves one live subscription after the reconnect', async () => {
    const proxy = await startCutProxy(server.port);
    try {
      const c = client(`ws://127.0.0.1:${proxy.port}/`);
      const old = recorder(c, 'offline-switch');
      await old.sub.ready;
      let fresh = null;
      let unsubscribed = null;
      // Right when the connection is lost (before any reconnect attempt) the app leaves and rejoins the topic.
      const off = c.on('state', (s) => {
        if (s !== 'reconnecting') return;
        off();
        unsubscribed = old.sub.unsubscribe();
        fresh = recorder(c, 'offline-switch');
      });
      const reopened = new Promise((resolve) => { const o = c.on('open', () => { o(); resolve(); }); });
      proxy.cut();
      await within(reopened, 15000, 'the reconnect');
      await within(unsubscribed, 5000, 'the old subscription to end');
      assert.equal((await fresh.sub.ready).offset, 0);
      const pub = client(`${server.url}/`);
      await pub.publish('offline-switch', 'after');
      await until(() => fresh.messages.length === 1, { what: 'the new subscription to get a message' });
      assert.equal(fresh.messages[0].data, 'after');
      assert.deepEqual(old.messages, []);
    } finally {
      await proxy.close();
    }
  });

  test('unsubscribe and subscribe again at once: messages still in flight for the old subscription are not the new one\'s', async () => {
    const sockets = [];
    class Recorded extends WebSocket {
      constructor(...args) { super(...args); sockets.push(this); }
    }
    const c = client(`${server.url}/`, { WebSocket: Recorded });
    const old = recorder(c, 'switch');
    await old.sub.ready;
    // 50 messages reach the client's socket but are not read yet when it leaves and rejoins the topic.
    sockets[0].pause();
    const pub = client(`${server.url}/`);
    for (let i = 1; i <= 50; i++) await pub.publish('switch', `m${i}`);
    const unsubscribed = old.sub.unsubscribe();
    const fresh = recorder(c, 'switch');
    sockets[0].resume();
    await within(unsubscribed, 10000, 'the unsubscribe');
    const ready = await fresh.sub.ready;
    assert.equal(ready.offset, 50, 'the new subscription starts after the 50');
    await pub.publish('switch', 'm51');
    await until(() => fresh.messages.length >= 1, { what: 'a message on the new subscription' });
    assert.deepEqual(fresh.messages.map((m) => m.offset), [51], 'only what came after its subscribe');
    assert.deepEqual(fresh.resets, [], 'no onReset for a brand-new subscription');
    assert.deepEqual(old.messages, [], 'the old subscription ended before they were read');
  });

  test('subscribe, unsubscribe and subscribe again before the first answer: the answers are told apart by id', async () => {
    const sockets = [];
    class Recorded extends WebSocket {
      constructor(...args) { super(...args); sockets.push(this); }
    }
    const c = client(`${server.url}/`, { WebSocket: Recorded });
    await opened(c);
    // Nothing the server sends is read until resume(): the first subscription's `subscribed`, 20 messages, the
    // `unsubscribed`, and the second subscription's `subscribed` all wait in the socket.
    sockets[0].pause();
    const old = recorder(c, 'switch-early');
    const pub = client(`${server.url}/`);
    // Whichever of these the first subscription got (its `sub` races them on the server), none may reach the second.
    for (let i = 1; i <= 20; i++) await pub.publish('switch-early', `m${i}`);
    const unsubscribed = old.sub.unsubscribe();
    const fresh = recorder(c, 'switch-early');
    sockets[0].resume();
    await within(unsubscribed, 10000, 'the unsubscribe');
    await assert.rejects(old.sub.ready, (e) => e.code === 'closed', 'the first subscription never became live for the app');
    const ready = await fresh.sub.ready;
    assert.equal(ready.offset, 20);
    await pub.publish('switch-early', 'm21');
    await until(() => fresh.messages.length >= 1, { what: 'a message on the new subscription' });
    assert.deepEqual(fresh.messages.map((m) => m.offset), [21]);
    assert.deepEqual(fresh.resets, []);
    assert.deepEqual(old.messages, []);
  });

  test('plain WebSocket clients and sockeye.js clients on one path see each other', async () => {
    const plainMessages = [];
    const plain = new WebSocket(`${server.url}/lobby`);
    plain.on('message', (data, isBinary) => plainMessages.push({ data: isBinary ? data : data.toString(), isBinary }));
    await within(new Promise((resolve, reject) => { plain.once('open', resolve); plain.once('error', reject); }), 10000, 'plain client');
    assert.equal(plain.protocol, '', 'a plain client gets no subprotocol');
    const js = client(`${server.url}/anything`);
    const r = recorder(js, '/lobby');
    await r.sub.ready;
    // The plain client's subscription is proven by its own first message coming back.
    plain.send('hello from plain');
    await until(() => plainMessages.length === 1, { what: 'the plain client to get its own message' });
    await until(() => r.messages.length === 1, { what: 'sockeye.js to get the plain message' });
    assert.equal(r.messages[0].data, 'hello from plain');

    await js.publish('/lobby', 'hello from sockeye.js');
    await js.publish('/lobby', Uint8Array.from([0, 255, 7]));
    plain.send(Buffer.from([9, 8, 7]));
    await until(() => plainMessages.length === 4, { what: '4 messages at the plain client', detail: () => JSON.stringify(plainMessages) });
    assert.deepEqual(plainMessages.slice(0, 3), [
      { data: 'hello from plain', isBinary: false },
      { data: 'hello from sockeye.js', isBinary: false },
      { data: Buffer.from([0, 255, 7]), isBinary: true },
    ], 'a plain client gets the payloads alone');
    assert.deepEqual(plainMessages[3], { data: Buffer.from([9, 8, 7]), isBinary: true });
    await until(() => r.messages.length === 4, { what: '4 messages at sockeye.js' });
    assert.deepEqual(Buffer.from(r.messages[3].data), Buffer.from([9, 8, 7]));
    assert.deepEqual(offsets(r), [1, 2, 3, 4]);
    plain.terminate();
  });
});

/**
 * Publishes 64 KiB messages to `topic` (awaiting each ack, from a client that reads) until the server's output
 * shows `marker` — a paused subscriber's queue overflowed — then `extra` more. Bounded by `max`.
 */
async function publishUntilLogged(pub, server, topic, marker, { extra = 0, max = 3000 } = {}) {
  const payload = Buffer.alloc(65536, 0x61);
  let n = 0;
  while (!server.output().includes(marker)) {
    assert.ok(n < max, `no "${marker}" in the server output after ${max} messages of 64 KiB:\n${server.output()}`);
    await pub.publish(topic, payload);
    n++;
  }
  for (let i = 0; i < extra; i++) {
    await pub.publish(topic, payload);
    n++;
  }
  return n;
}

describe('slow subscribers (--max-queued-messages 8)', () => {
  test('drop-oldest: a paused subscriber is told the dropped range (dropped / onGap) and gets the rest in order', async () => {
    const server = await startServe(['--broadcast', '--slow-subscriber', 'drop-oldest', '--max-queued-messages', '8']);
    try {
      // A sockeye.js subscriber whose socket stops being read (ws pause()), and a raw sockeye.v1 one likewise.
      const sockets = [];
      class Recorded extends WebSocket {
        constructor(...args) { super(...args); sockets.push(this); }
      }
      const js = client(`${server.url}/`, { WebSocket: Recorded });
      const r = recorder(js, 'slow');
      await r.sub.ready;
      const raw = await rawV1(`${server.url}/`);
      raw.send({ op: 'sub', id: 1, topic: 'slow' });
      await raw.next((f) => f.op === 'subscribed', 'subscribed');
      assert.equal(sockets.length, 1);
      sockets[0].pause();
      raw.ws.pause();

      const pub = client(`${server.url}/`);
      const n = await publishUntilLogged(pub, server, 'slow', 'policy drop-oldest', { extra: 20 });
      sockets[0].resume();
      raw.ws.resume();

      // The newest message is never the one dropped: both must reach offset n.
      await until(() => r.messages.at(-1)?.offset === n, { what: `sockeye.js to reach offset ${n}`, detail: () => `${r.messages.at(-1)?.offset}` });
      await until(() => raw.frames.some((f) => f.op === 'msg' && f.offset === n), { what: `the raw client to reach offset ${n}` });

      const coverage = (received, gaps) => {
        const seen = new Array(n + 1).fill(0);
        for (const o of received) seen[o]++;
        for (const g of gaps) for (let o = g.from; o <= g.to; o++) seen[o]++;
        return seen.slice(1);
      };
      assert.ok(r.gaps.length >= 1, 'onGap fired');
      assert.deepEqual(coverage(offsets(r), r.gaps), new Array(n).fill(1), 'received and dropped cover 1..n exactly once');
      assert.deepEqual(offsets(r), [...offsets(r)].sort((x, y) => x - y), 'in order');

      const rawGaps = raw.frames.filter((f) => f.op === 'dropped');
      const rawOffsets = raw.frames.filter((f) => f.op === 'msg').map((f) => f.offset);
      assert.ok(rawGaps.length >= 1, 'the raw client got dropped frames');
      for (const g of rawGaps) assert.equal(g.topic, 'slow');
      assert.deepEqual(coverage(rawOffsets, rawGaps), new Array(n).fill(1));
      // Each `dropped` comes right before the first message after the gap.
      raw.frames.forEach((f, i) => {
        if (f.op === 'dropped') assert.equal(raw.frames[i + 1].offset, f.to + 1);
      });
      assert.equal(js.state, 'open', 'drop-oldest keeps the connection');
      raw.close();
    } finally {
      closeClients();
      await server.stop();
    }
  });

  test('close: a non-reading subscriber is closed with 1008 while the others keep receiving', async () => {
    const server = await startServe(['--broadcast', '--slow-subscriber', 'close', '--max-queued-messages', '8']);
    try {
      const slow = new WebSocket(`${server.url}/feed`);
      let slowClose = null;
      const slowClosed = new Promise((resolve) => slow.on('close', (code, reason) => { slowClose = { code, reason: reason.toString() }; resolve(); }));
      slow.on('error', () => {});
      await within(new Promise((resolve, reject) => { slow.once('open', resolve); slow.once('error', reject); }), 10000, 'slow client');
      let slowGot = 0;
      slow.on('message', () => { slowGot++; });
      slow.send('subscribed?'); // its own message coming back proves its subscription
      await until(() => slowGot === 1, { what: 'the slow client subscribed' });

      const js = client(`${server.url}/`);
      const r = recorder(js, '/feed');
      assert.equal((await r.sub.ready).offset, 1, 'subscribed after the slow client\'s message');
      slow.pause();
      const pub = client(`${server.url}/`);
      const n = await publishUntilLogged(pub, server, '/feed', 'subscriber too slow');
      slow.resume();
      await within(slowClosed, 15000, 'the slow client to be closed');
      assert.deepEqual(slowClose, { code: 1008, reason: 'subscriber too slow' });

      // The others go on: everything published before and after, in order.
      await pub.publish('/feed', 'after');
      await until(() => r.messages.at(-1)?.offset === n + 2, { what: `offset ${n + 2} at the reading subscriber`, detail: () => `${r.messages.at(-1)?.offset}` });
      assert.deepEqual(offsets(r), range(2, n + 2));
      assert.equal(r.messages.at(-1).data, 'after');
      assert.equal(js.state, 'open');
      assert.match(server.output(), /closing .* with 1008, subscriber too slow/);
    } finally {
      closeClients();
      await server.stop();
    }
  });
});

describe('several nodes: connect([urls]) and connect((attempt) => url)', () => {
  test('a URL list is tried in turn: a node that refuses is skipped, a node that stops hands over to the next', async () => {
    const dead = await freePort(); // nothing listens here: the attempt is refused
    const a = await startServe(['--broadcast']);
    const b = await startServe(['--broadcast']);
    try {
      const c = client([`ws://127.0.0.1:${dead}/`, `${a.url}/`, `${b.url}/`]);
      await opened(c);
      assert.equal(c.url, `${a.url}/`, 'the refused first URL was skipped for the second');
      const firstConnection = c.connection;
      const reopened = new Promise((resolve) => { const off = c.on('open', () => { off(); resolve(); }); });
      await a.stop();
      await within(reopened, 15000, 'the reconnect to the next node');
      assert.equal(c.url, `${b.url}/`, 'the reconnect went to the next URL');
      assert.notEqual(c.connection, firstConnection);
      assert.equal((await c.publish('t', 'on b')).offset, 1, 'the new node answers (its topic starts at 1)');
    } finally {
      closeClients();
      await a.stop();
      await b.stop();
    }
  });

  test('a URL function is called before each attempt with the attempts made so far', async () => {
    const dead = await freePort();
    const server = await startServe(['--broadcast']);
    try {
      const calls = [];
      const c = client((attempt) => {
        calls.push(attempt);
        return attempt < 2 ? `ws://127.0.0.1:${dead}/` : `${server.url}/`;
      });
      await opened(c);
      assert.deepEqual(calls, [0, 1, 2]);
      assert.equal(c.url, `${server.url}/`);
    } finally {
      closeClients();
      await server.stop();
    }
  });

  test('bad endpoints: an empty list or a non-URL throws bad_request at connect; a throwing function is reported and retried', async () => {
    for (const bad of [[], 42, ['ws://127.0.0.1:1/', 'not a url']]) {
      assert.throws(() => sockeye.connect(bad, { WebSocket }), (e) => e.code === 'bad_request', `connect(${JSON.stringify(bad)})`);
    }
    const dead = await freePort();
    const server = await startServe(['--broadcast']);
    try {
      const errors = [];
      let calls = 0;
      const c = client((attempt) => {
        calls++;
        if (attempt === 1) throw new Error('no node known yet');
        return attempt === 0 ? `ws://127.0.0.1:${dead}/` : `${server.url}/`;
      });
      c.on('error', (e) => errors.push(e));
      await opened(c);
      assert.ok(calls >= 3, `called ${calls} times`);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].code, 'bad_request');
      assert.match(errors[0].message, /no node known yet/);
    } finally {
      closeClients();
      await server.stop();
    }
  });
});
