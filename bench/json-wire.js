// Bytes on the wire for a JSON stream echoed by a server: ws client with and without permessage-deflate.
// Usage: node bench/json-wire.js PORT 1|0   (1 = offer deflate). Counts the TCP bytes of the client socket.
const WebSocket = require('ws');
const [port, deflate] = [process.argv[2], process.argv[3] === '1'];
const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate ? { threshold: 0 } : false });
const N = 2000; let sent = 0, got = 0, payload = 0;
function msg(i) {
  return JSON.stringify({ type: 'trade', seq: i, symbol: ['AAPL', 'MSFT', 'GOOG', 'AMZN'][i % 4], price: +(100 + Math.sin(i) * 5).toFixed(2),
    size: 100 + (i * 37) % 900, side: i % 2 ? 'buy' : 'sell', exchange: 'XNAS', ts: 1764700000000 + i * 13, conditions: ['regular'] });
}
ws.on('open', () => { for (let i = 0; i < N; i++) { const m = msg(i); payload += Buffer.byteLength(m); ws.send(m); } });
ws.on('message', (d) => { if (d.toString() !== msg(got)) throw new Error('bad echo ' + got); if (++got === N) ws.close(1000); });
ws.on('close', () => {
  const s = ws._socket || {}; 
  console.log(JSON.stringify({ deflate, extensions: ws.extensions, messages: N, payloadBytes: payload, avgMessage: +(payload / N).toFixed(1) }));
});
ws.on('upgrade', (res) => { ws._sock = res.socket; });
process.on('exit', () => { const s = ws._sock; console.log(JSON.stringify({ clientToServerWire: s.bytesWritten, serverToClientWire: s.bytesRead, ratioUp: +(payload / s.bytesWritten).toFixed(2), ratioDown: +(payload / s.bytesRead).toFixed(2) })); });
