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
  // allowHalfOpen: a client's FIN is passed on by the pipe, not answered by the proxy itself (see inject()).
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
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
        /**
         * Writes `bytes` to every client as if the server had sent them, and from then on forwards nothing between
         * them and the server, not even a FIN (e.g. a close frame the server never sent: the client answers it and
         * waits in CLOSING for a TCP close that only cut() brings).
         */
        inject(bytes) {
          for (const pair of pairs) {
            pair.upstream.unpipe(pair.client);
            pair.client.unpipe(pair.upstream);
            pair.client.write(bytes);
          }
        },
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
