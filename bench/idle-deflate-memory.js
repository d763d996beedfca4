// Server RSS per connection after each of N ws clients (permessage-deflate offered, context takeover) sent one
// 1 KiB JSON message and got its echo, then went idle. Usage: node bench/idle-deflate-memory.js PORT SERVER_PID N [WAIT_MS]
const WebSocket = require('ws'); const fs = require('fs');
const [port, pid, n, wait] = [process.argv[2], process.argv[3], +process.argv[4], +(process.argv[5] || 3000)];
const rss = () => +fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1];
const msg = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: 'item-' + i, price: i * 1.5, tags: ['a', 'b'] })) }).slice(0, 1024);
(async () => {
  const base = rss(); const socks = []; let ext = '';
  for (let i = 0; i < n; i++) {
    await new Promise((res, rej) => { const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
      ws.on('open', () => { ext = ws.extensions; ws.send(msg); }); ws.on('message', () => res()); ws.on('error', rej); socks.push(ws); });
  }
  const busy = rss();
  await new Promise(r => setTimeout(r, wait));
  const idle = rss();
  console.log(JSON.stringify({ n, ext, msgLen: msg.length, baseKiB: base, afterEchoKiB: busy, afterIdleKiB: idle, perConnBusyKiB: +((busy - base) / n).toFixed(2), perConnIdleKiB: +((idle - base) / n).toFixed(2) }));
  socks.forEach(s => s.terminate()); process.exit(0);
})();
