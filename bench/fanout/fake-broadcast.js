'use strict';
// A broadcast server that misbehaves on purpose, for bench/check-fanout-generator.sh: the fan-out load generator
// (`sockeye bench --fanout`) must count a correct broadcast without errors and report each fault below.
// Usage: node fake-broadcast.js --port N --mode MODE
//   good       every message to every client, sender included (the ws README loop)
//   drop       the first subscriber misses messages 25, 75, 125, ...   (lost)
//   duplicate  the first subscriber gets messages 25, 75, ... twice     (repeated)
//   binary     messages go out as binary frames                         (not what was sent)
//   close      the first subscriber is closed with 1011 after 60 messages
//   late       the first subscriber gets nothing for its first second   (the generator must probe until ready)
const WebSocket = require('ws');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg('--port', 5006));
const mode = arg('--mode', 'good');

const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port });
let first = null;
let firstAt = 0;
let sent = 0;
wss.on('connection', (ws) => {
  if (first === null) {
    first = ws;
    firstAt = Date.now();
  }
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const seq = parseInt(data.toString('latin1', 0, 16), 16);
    sent++;
    for (const client of wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      const isFirst = client === first;
      if (isFirst && mode === 'drop' && seq % 50 === 25) continue;
      if (isFirst && mode === 'late' && Date.now() - firstAt < 1000) continue;
      if (isFirst && mode === 'close' && sent > 60) {
        client.close(1011, 'fake failure');
        continue;
      }
      client.send(data, { binary: mode === 'binary' ? true : isBinary });
      if (isFirst && mode === 'duplicate' && seq % 50 === 25) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => console.log(`fake broadcast (${mode}) on ws://127.0.0.1:${port}/`));
