'use strict';
// Fan-out baseline on Socket.IO (npm `socket.io`, defaults otherwise): every client joins one room on connection, and
// each event 'm' a client emits is broadcast to the room with `io.to(room).emit`, so the sender (in the room too)
// receives its own message, as with Sockeye's `serve --broadcast` and the ws broadcast loop.
// Usage: node socketio-room.js --port N   (clients: /socket.io/?EIO=4&transport=websocket)
const http = require('http');
const { Server } = require('socket.io');

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5005;
const room = 'bench';

const httpServer = http.createServer();
const io = new Server(httpServer);

io.on('connection', (socket) => {
  socket.join(room);
  socket.on('m', (data) => {
    io.to(room).emit('m', data);
  });
});

httpServer.listen({ host: '127.0.0.1', port, backlog: 4096 }, () =>
  console.log(`socket.io room broadcast listening on http://127.0.0.1:${port}/socket.io/`));
