'use strict';
// Node `ws` as a CLIENT of `sockeye serve` (an echo server).
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const WebSocket = require('ws');
const { startServe } = require('../lib/sockeye');

/** Opens a ws client and resolves once it is open. */
async function open(url, protocols, options) {
  const ws = new WebSocket(url, protocols, options);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected HTTP ${res.statusCode}`)));
  });
  return ws;
}

/** Resolves with the next message as { data, isBinary }. */
function nextMessage(ws, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
    ws.once('message', (data, isBinary) => { clearTimeout(t); resolve({ data, isBinary }); });
  });
}

/** Closes (if asked) and resolves with { code, reason } from the close event. */
function closed(ws, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
    ws.once('close', (code, reason) => { clearTimeout(t); resolve({ code, reason: reason.toString() }); });
  });
}

/**
 * Sends a raw HTTP/1.1 request over a plain TCP socket and resolves with the parsed status line and
 * headers (lower-cased names) once the header block has arrived. A raw socket is used rather than
 * node's http client, whose upgrade handling hides non-101 answers to upgrade requests.
 */
function rawRequest(port, { method = 'GET', path = '/', headers = {} }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`no HTTP response header within 10 s; got: ${JSON.stringify(buf)}`)); }, 10000);
    const finish = () => {
      const endOfHead = buf.indexOf('\r\n\r\n');
      if (endOfHead < 0) return false;
      clearTimeout(t);
      const [statusLine, ...headerLines] = buf.slice(0, endOfHead).split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!m) { reject(new Error(`bad status line: ${statusLine}`)); sock.destroy(); return true; }
      const hdrs = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(m[1]), headers: hdrs, body: buf.slice(endOfHead + 4) });
      sock.destroy();
      return true;
    };
    sock.setEncoding('latin1');
    sock.on('data', (d) => { buf += d; finish(); });
    sock.on('end', () => { if (!finish()) { clearTimeout(t); reject(new Error(`connection closed before a full response header; got: ${JSON.stringify(buf)}`)); } });
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    sock.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

/** Plain HTTP GET; resolves with { status, headers, body }. */
function httpGet(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('ws client -> sockeye serve', () => {
  let server;
  before(async () => { server = await startServe(['--max-message', String(16 * 1024 * 1024)]); });
  after(async () => {
    if (!server) return;
    const { code, signal } = await server.stop();
    // SIGTERM should be a clean shutdown (exit 0).
    assert.ok(code === 0, `sockeye serve exited with code=${code} signal=${signal} on SIGTERM\n${server.output()}`);
  });

  test('text echo (ASCII, empty, multi-byte UTF-8)', async () => {
    const ws = await open(server.url + '/echo');
    for (const text of ['hello', '', 'héllo wörld ✓ 🐟 日本語', 'x'.repeat(70000)]) {
      ws.send(text);
      const { data, isBinary } = await nextMessage(ws);
      assert.equal(isBinary, false, 'text must come back as text');
      assert.equal(data.toString('utf8'), text);
    }
    ws.close(1000);
    await closed(ws);
  });

  for (const size of [0, 1, 125, 126, 65535, 65536, 1024 * 1024]) {
    test(`binary echo of ${size} random bytes`, async () => {
      const ws = await open(server.url + '/');
      const payload = crypto.randomBytes(size);
      ws.send(payload, { binary: true });
      const { data, isBinary } = await nextMessage(ws);
      assert.equal(isBinary, true, 'binary must come back as binary');
      assert.equal(data.length, size);
      assert.ok(Buffer.compare(data, payload) === 0, 'payload differs');
      ws.close(1000);
      await closed(ws);
    });
  }

  test('1000 mixed messages come back in order', async () => {
    const ws = await open(server.url + '/any/path?x=1');
    const n = 1000;
    const sent = [];
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) {
        const b = crypto.randomBytes(i % 300);
        sent.push({ isBinary: true, data: b });
        ws.send(b, { binary: true });
      } else {
        const s = `message #${i} ${'·'.repeat(i % 50)}`;
        sent.push({ isBinary: false, data: s });
        ws.send(s);
      }
    }
    const got = [];
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${got.length}/${n} echoes arrived`)), 30000);
      ws.on('message', (data, isBinary) => {
        got.push({ data, isBinary });
        if (got.length === n) { clearTimeout(t); resolve(); }
      });
    });
    for (let i = 0; i < n; i++) {
      assert.equal(got[i].isBinary, sent[i].isBinary, `type of message ${i}`);
      if (sent[i].isBinary) assert.ok(Buffer.compare(got[i].data, sent[i].data) === 0, `payload of message ${i}`);
      else assert.equal(got[i].data.toString('utf8'), sent[i].data, `text of message ${i}`);
    }
    ws.close(1000);
    await closed(ws);
  });

  test('ping is answered by a pong with the same payload', async () => {
    const ws = await open(server.url);
    for (const payload of [Buffer.alloc(0), Buffer.from('ping-payload'), crypto.randomBytes(125)]) {
      const pong = once(ws, 'pong');
      ws.ping(payload);
      const [data] = await pong;
      assert.ok(Buffer.compare(data, payload) === 0, 'pong payload differs from ping payload');
    }
    ws.close(1000);
    await closed(ws);
  });

  test('close handshake: client closes with 1000 + reason, server answers the close', async () => {
    const ws = await open(server.url);
    ws.send('before close');
    await nextMessage(ws);
    const c = closed(ws);
    ws.close(1000, 'bye now');
    const { code } = await c;
    assert.equal(code, 1000, 'close code observed by the client');
  });

  test('close handshake: client closes with 4000 (application code), server echoes it', async () => {
    const ws = await open(server.url);
    const c = closed(ws);
    ws.close(4000, 'app reason');
    const { code } = await c;
    assert.equal(code, 4000);
  });

  test('GET / serves the demo page as HTML', async () => {
    const res = await httpGet(server.httpUrl + '/');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /id="status"/);
    assert.match(res.body, /id="log"/);
  });

  test('handshake with Sec-WebSocket-Version: 12 gets 426 and Sec-WebSocket-Version: 13', async () => {
    const res = await rawRequest(server.port, {
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '12',
      },
    });
    assert.equal(res.status, 426);
    assert.match(String(res.headers['sec-websocket-version']), /\b13\b/);
  });

  test('handshake without Sec-WebSocket-Key gets 400', async () => {
    const res = await rawRequest(server.port, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' },
    });
    assert.equal(res.status, 400);
  });

  test('handshake with a malformed Sec-WebSocket-Key gets 400', async () => {
    const res = await rawRequest(server.port, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'not-base64-16-bytes', 'Sec-WebSocket-Version': '13' },
    });
    assert.equal(res.status, 400);
  });

  test('POST upgrade gets 405', async () => {
    const res = await rawRequest(server.port, {
      method: 'POST',
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Content-Length': '0',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '13',
      },
    });
    assert.equal(res.status, 405);
  });

  test('ws handshake completes with a correct Sec-WebSocket-Accept (checked by ws) on 20 parallel connections', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => open(server.url + '/parallel')));
    await Promise.all(clients.map(async (ws, i) => {
      const m = nextMessage(ws);
      ws.send(`client ${i}`);
      assert.equal((await m).data.toString(), `client ${i}`);
      const c = closed(ws);
      ws.close(1000);
      assert.equal((await c).code, 1000);
    }));
  });
});

describe('ws client -> sockeye serve --max-message 1024', () => {
  let server;
  before(async () => { server = await startServe(['--max-message', '1024']); });
  after(async () => { if (server) await server.stop(); });

  test('a message at the limit is echoed', async () => {
    const ws = await open(server.url);
    const payload = crypto.randomBytes(1024);
    ws.send(payload);
    const { data } = await nextMessage(ws);
    assert.ok(Buffer.compare(data, payload) === 0);
    ws.close(1000);
    await closed(ws);
  });

  test('a message over the limit closes the connection with 1009', async () => {
    const ws = await open(server.url);
    ws.on('error', () => {}); // the server may drop the TCP connection right after its close frame
    const c = closed(ws);
    ws.send(crypto.randomBytes(2048), { binary: true });
    const { code } = await c;
    assert.equal(code, 1009);
  });

  test('a text message over the limit closes the connection with 1009', async () => {
    const ws = await open(server.url);
    ws.on('error', () => {});
    const c = closed(ws);
    ws.send('t'.repeat(5000));
    const { code } = await c;
    assert.equal(code, 1009);
  });
});
