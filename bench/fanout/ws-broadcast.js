'use strict';
// Fan-out baseline on Node's `ws`: the "Server broadcast" example of the ws README, unchanged: every message goes to
// every open client, the sender included (as Sockeye's `serve --broadcast` does for plain clients).
// Usage: node ws-broadcast.js --port N
const WebSocket = require('ws');
const { WebSocketServer } = WebSocket;

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 5004;

// The README's `new WebSocketServer({ port: 8080 })`, bound to loopback with a backlog for 10,000 quick connects.
const wss = new WebSocketServer({ host: '127.0.0.1', port, backlog: 4096 });

wss.on('connection', function connection(ws) {
  ws.on('error', () => {}); // the README logs; a vanished benchmark client is not news

  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(client) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});
wss.on('listening', () => console.log(`node ws broadcast listening on ws://127.0.0.1:${port}/`));
