'use strict';
// A plain TCP proxy whose connections a test can cut: `cut()` resets both sockets of every open connection, so the
// client and the server each see their TCP connection break (RST), as when a network path fails. Used to drop a
// client's connection mid-stream without touching the client or the server.
const net = require('node:net');
const { EventEmitter } = require('node:events');

/**
 * Listens on 127.0.0.1 (a free port unless `port` is given) and forwards every connection to targetPort.
 * Returns { port, events, open(), accepted(), cut(), close() }; `events` emits 'connection' with the running count.
 */
function startCutProxy(targetPort, { port = 0, targetHost = '127.0.0.1' } = {}) {
  const events = new EventEmitter();
  const pairs = new Set();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ port: targetPort, host: targetHost });
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    events.emit('connection', accepted);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        events,
        /** Connections open now. */
        open: () => pairs.size,
        /** Connections accepted so far. */
        accepted: () => accepted,
        /** Resets every open connection, both sides; returns how many were cut. */
        cut() {
          const n = pairs.size;
          for (const { client, upstream } of [...pairs]) {
            client.resetAndDestroy();
            upstream.resetAndDestroy();
          }
          pairs.clear();
          return n;
        },
        close() {
          this.cut();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

module.exports = { startCutProxy };
