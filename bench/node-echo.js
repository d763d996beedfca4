'use strict';
// Baseline echo server on Node's `ws`: echoes every message with its type. Usage: node node-echo.js --port N
const { WebSocketServer } = require('ws');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5003;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a vanished client is not news in a benchmark
});
wss.on('listening', () => console.log(`node ws echo listening on ws://127.0.0.1:${port}/`));
