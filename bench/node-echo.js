'use strict';
// Baseline echo server on Node's `ws`: echoes every message with its type.
// Usage: node node-echo.js --port N [--deflate]
// --deflate enables permessage-deflate with threshold 0 (every message compressed, like the other
// servers in the compressed scenarios) and ws's defaults otherwise (server context takeover on).
const { WebSocketServer } = require('ws');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5003;
const deflate = process.argv.includes('--deflate');

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  maxPayload: 16 * 1024 * 1024,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a vanished client is not news in a benchmark
});
wss.on('listening', () => console.log(`node ws echo listening on ws://127.0.0.1:${port}/`));
