// Reference echo server with permessage-deflate (Node ws, from tests/interop): node ws-echo-server.js PORT
// Runs groups 12/13 against a third-party server to compare verdicts with Sockeye's (see ../README.md).
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, '../../interop/node_modules/ws'));

const port = Number(process.argv[2] || 9101);
const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 64 * 1024 * 1024, perMessageDeflate: { threshold: 32 } });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`listening on ${port}`));
