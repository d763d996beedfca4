'use strict';
// A deliberately small, raw-socket permessage-deflate echo server used by bench/check-generator.sh to
// check that `sockeye bench --deflate` accepts what RFC 7692 allows and rejects what it forbids.
// Not a baseline: it is slow and trusts its input. Only Node's built-in modules are used.
//
//   node deflate-fake-echo.js --port N --mode MODE
//
// Modes: good           context takeover, answers client_max_window_bits=15 when offered; echoes
//                       alternately compressed (every 3rd one split into two frames) and uncompressed
//        decline        no Sec-WebSocket-Extensions in the 101
//        unknown-param  answers `permessage-deflate; foo`
//        client-bits    always answers client_max_window_bits=15 (invalid if the client did not offer it)
//        corrupt        the 2nd echo of each connection (inside the client's first window) inflates to different text
//        rsv1-cont      compressed echoes split in two frames with RSV1 on both
const net = require('net');
const crypto = require('crypto');
const zlib = require('zlib');

const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const port = Number(arg('--port', 5010));
const mode = arg('--mode', 'good');
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function frame(opcode, payload, { fin = true, rsv1 = false } = {}) {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (n < 126) head[1] = n;
  else if (n < 65536) { head[1] = 126; head.writeUInt16BE(n, 2); } else { head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  return Buffer.concat([head, payload]);
}

function answer(offer) {
  if (mode === 'decline' || !/permessage-deflate/i.test(offer || '')) return null;
  if (mode === 'unknown-param') return 'permessage-deflate; foo';
  const offeredClientBits = /client_max_window_bits/i.test(offer);
  if (mode === 'client-bits' || offeredClientBits) return 'permessage-deflate; client_max_window_bits=15';
  return 'permessage-deflate';
}

net.createServer((socket) => {
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let deflate = false;
  let count = 0;
  let chain = Promise.resolve();
  const compressor = zlib.createDeflateRaw();
  const compress = (data) => new Promise((resolve) => {
    const parts = [];
    const onData = (c) => parts.push(c);
    compressor.on('data', onData);
    compressor.write(data);
    compressor.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      compressor.off('data', onData);
      const out = Buffer.concat(parts);
      resolve(out.subarray(0, out.length - 4)); // drop 00 00 ff ff (RFC 7692 §7.2.1)
    });
  });

  const echo = async (opcode, data) => {
    count++;
    if (!deflate || (mode === 'good' && count % 2 === 0)) { socket.write(frame(opcode, data)); return; }
    let text = data;
    if (mode === 'corrupt' && count === 2) { text = Buffer.from(data); text[text.length >> 1] ^= 0x01; }
    const z = await compress(text);
    const split = (mode === 'good' && count % 3 === 0) || mode === 'rsv1-cont';
    if (split && z.length >= 2) {
      const h = z.length >> 1;
      socket.write(Buffer.concat([frame(opcode, z.subarray(0, h), { fin: false, rsv1: true }),
        frame(0, z.subarray(h), { rsv1: mode === 'rsv1-cont' })]));
    } else {
      socket.write(frame(opcode, z, { rsv1: true }));
    }
  };

  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
      const offer = (/sec-websocket-extensions:\s*([^\r\n]*)/i.exec(head) || [])[1];
      const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      const ext = answer(offer);
      deflate = ext !== null;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
        (ext ? `Sec-WebSocket-Extensions: ${ext}\r\n` : '') + '\r\n');
      upgraded = true;
    }
    // Client frames: masked, unfragmented (the load generator never fragments).
    while (buf.length >= 2) {
      const len7 = buf[1] & 0x7f;
      const hl = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
      if (buf.length < hl) return;
      const n = len7 === 126 ? buf.readUInt16BE(2) : len7 === 127 ? Number(buf.readBigUInt64BE(2)) : len7;
      if (buf.length < hl + n) return;
      const mask = buf.subarray(hl - 4, hl);
      const payload = Buffer.from(buf.subarray(hl, hl + n));
      for (let i = 0; i < n; i++) payload[i] ^= mask[i & 3];
      const opcode = buf[0] & 0x0f;
      const rsv1 = (buf[0] & 0x40) !== 0;
      buf = buf.subarray(hl + n);
      // The close answer queues behind pending echoes, so the client sees every echo it is owed.
      if (opcode === 8) { chain = chain.then(() => socket.end(frame(8, payload.subarray(0, 2)))); return; }
      // The client compresses every message on its own, so each inflates without history.
      const data = rsv1 ? zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : payload;
      chain = chain.then(() => echo(opcode, data));
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => compressor.close());
}).listen(port, '127.0.0.1', () => console.log(`fake deflate echo (${mode}) on ws://127.0.0.1:${port}/`));
