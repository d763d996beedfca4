'use strict';
// Fan-out baseline on Socket.IO (npm `socket.io`, defaults otherwise): every client joins one room on connection, and
// each event 'm' a client emits is broadcast to the room with `io.to(room).emit`, so the sender (in the room too)
// receives its own message, as with Sockeye's `serve --broadcast` and the ws broadcast loop.
// Usage: node socketio-room.js --port N [--ping-interval MS --ping-timeout MS] [--redis HOST:PORT]
//        (clients: /socket.io/?EIO=4&transport=websocket)
// --redis: one node of several sharing rooms through npm @socket.io/redis-adapter (its documented set-up: a `redis` v4
// client for publishing and a duplicate for subscribing), as Sockeye's `serve --broadcast --redis` (bench scenario j).
// The ping options (Socket.IO's defaults otherwise: 25 s, 20 s) let bench/check-fanout-generator.sh check that the
// load generator answers Engine.IO pings.
const http = require('http');
const { Server } = require('socket.io');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5005;
const room = 'bench';
const options = {};
for (const [flag, name] of [['--ping-interval', 'pingInterval'], ['--ping-timeout', 'pingTimeout']]) {
  const i = process.argv.indexOf(flag);
  if (i > 0) options[name] = Number(process.argv[i + 1]);
}

const redisArg = process.argv.indexOf('--redis');
const redis = redisArg > 0 ? process.argv[redisArg + 1] : null;

const httpServer = http.createServer();
const io = new Server(httpServer, options);

io.on('connection', (socket) => {
  socket.join(room);
  socket.on('m', (data) => {
    io.to(room).emit('m', data);
  });
});

async function main() {
  if (redis) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pubClient = createClient({ url: `redis://${redis}` });
    const subClient = pubClient.duplicate();
    for (const c of [pubClient, subClient]) c.on('error', (err) => console.error(`redis: ${err.message}`));
    await Promise.all([pubClient.connect(), subClient.connect()]);
    io.adapter(createAdapter(pubClient, subClient));
  }
  httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () =>
    console.log(`socket.io room broadcast listening on http://127.0.0.1:${port}/socket.io/${redis ? ` (redis adapter on ${redis})` : ''}`));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
