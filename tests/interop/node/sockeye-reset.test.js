'use strict';
// clients/js/sockeye.js against a scripted sockeye.v1 server (node `ws`): the `reset` op (docs/protocol.md §5),
// which a scaled-out server sends when its backplane could not deliver a range (docs/scale-out.md).
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const WebSocket = require('ws');

const servers = [];
after(async () => {
  for (const wss of servers) {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(() => r()));
  }
});

test('reset: onReset gets the new position, the client adopts it and takes the messages after it', async () => {
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('sockeye.v1') ? 'sockeye.v1' : false) });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ op: 'hello', version: 1, connection: 'n.1' }));
    ws.on('message', (data) => {
      const req = JSON.parse(data.toString());
      if (req.op !== 'sub') return;
      for (const frame of [
        { op: 'subscribed', id: req.id, topic: req.topic, epoch: 'e1', offset: 0 },
        { op: 'msg', topic: req.topic, epoch: 'e1', offset: 1, text: 'a' },
        { op: 'reset', topic: req.topic, epoch: 'e2', offset: 7 },
        { op: 'msg', topic: req.topic, epoch: 'e2', offset: 8, text: 'b' },
      ]) ws.send(JSON.stringify(frame));
    });
  });

  const { connect } = await import(pathToFileURL(path.join(__dirname, '../../../clients/js/sockeye.js')).href);
  const client = connect(`ws://127.0.0.1:${wss.address().port}/`, { WebSocket });
  const events = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  const sub = client.subscribe('t', {
    onMessage: (text, pos) => { events.push(['msg', text, pos.epoch, pos.offset]); if (text === 'b') done(); },
    onReset: (pos) => events.push(['reset', pos.epoch, pos.offset]),
  });
  await finished;
  assert.deepEqual(events, [['msg', 'a', 'e1', 1], ['reset', 'e2', 7], ['msg', 'b', 'e2', 8]]);
  assert.deepEqual(sub.position, { epoch: 'e2', offset: 8 });
  client.close();
});
