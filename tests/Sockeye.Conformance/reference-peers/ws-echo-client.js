// Reference echo client with permessage-deflate (Node ws): node ws-echo-client.js URL 'OFFER PARAMS'
// For --peer-deflate "node ws-echo-client.js {url} {offer}". ws builds its offer from options, so the parameters
// are mapped onto them (client_max_window_bits is left out unless asked for).
const path = require('path');
const WebSocket = require(path.join(__dirname, '../../interop/node_modules/ws'));

const [url, offer = 'client_max_window_bits'] = process.argv.slice(2);
const options = { threshold: 32, clientMaxWindowBits: false };
for (const param of offer.split(';').map((p) => p.trim()).filter(Boolean)) {
  const [name, value] = param.split('=');
  options[name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = value === undefined ? true : Number(value);
}
const ws = new WebSocket(url, { perMessageDeflate: options, maxPayload: 64 * 1024 * 1024 });
ws.on('open', () => console.error(`extensions: ${ws.extensions || 'none'}`));
ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true }));
ws.on('close', () => process.exit(0));
ws.on('error', (e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
