'use strict';
// Test messages of exact byte sizes: compressible and random, text and binary, plus a "long-range"
// binary payload whose only redundancy lies 20000 bytes back (compressible only with a window of
// 2^15, so it shows which window a compressor really used).
const crypto = require('node:crypto');

const SIZES = [0, 1, 31, 32, 100, 1000, 64 * 1024, 1024 * 1024];

/** Trims (whole characters) and pads with ASCII so that the UTF-8 form is exactly n bytes. */
function toByteLength(s, n) {
  let chars = [...s];
  let bytes = Buffer.byteLength(s);
  while (bytes > n) bytes -= Buffer.byteLength(chars.pop());
  return chars.join('') + 'x'.repeat(n - bytes);
}

function compressibleText(n) {
  const unit = 'The quick brown fox jumps over the lazy dog — grüße ✓ 🐟. ';
  return toByteLength(unit.repeat(Math.ceil(n / Buffer.byteLength(unit)) + 1), n);
}

const RANGES = [[0x20, 0x7e], [0xa0, 0x17f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0x1f300, 0x1f5ff]];
function randomText(n) {
  const rnd = crypto.randomBytes(n * 2 + 8);
  const out = [];
  let bytes = 0;
  for (let i = 0; bytes < n && i + 1 < rnd.length; i += 2) {
    const [lo, hi] = RANGES[rnd[i] % RANGES.length];
    const cp = lo + ((rnd[i + 1] * 7919 + i) % (hi - lo + 1));
    const ch = String.fromCodePoint(cp);
    out.push(ch);
    bytes += Buffer.byteLength(ch);
  }
  return toByteLength(out.join(''), n);
}

function compressibleBinary(n) {
  const b = Buffer.alloc(n);
  // 32-byte records: a fixed pattern plus a record counter (little-endian), like a table of structs.
  for (let i = 0; i < n; i++) b[i] = (i & 31) < 28 ? (i & 31) * 9 : (i >> (5 + 8 * ((i & 31) - 28))) & 0xff;
  return b;
}

function randomBinary(n) {
  return crypto.randomBytes(n);
}

function longRangeBinary(n) {
  const block = crypto.randomBytes(20000);
  const b = Buffer.alloc(n);
  for (let off = 0; off < n; off += block.length) block.copy(b, off, 0, Math.min(block.length, n - off));
  return b;
}

/**
 * The standard message set: every size in SIZES as compressible/random text/binary, and the
 * long-range payload at 64 KiB and 1 MiB. Each is { label, kind, size, isBinary, data (string|Buffer) }.
 */
function messageSet(sizes = SIZES) {
  const out = [];
  for (const size of sizes) {
    out.push({ label: `text/compressible/${size}`, kind: 'compressible', size, isBinary: false, data: compressibleText(size) });
    out.push({ label: `text/random/${size}`, kind: 'random', size, isBinary: false, data: randomText(size) });
    out.push({ label: `binary/compressible/${size}`, kind: 'compressible', size, isBinary: true, data: compressibleBinary(size) });
    out.push({ label: `binary/random/${size}`, kind: 'random', size, isBinary: true, data: randomBinary(size) });
    if (size >= 64 * 1024) {
      out.push({ label: `binary/long-range/${size}`, kind: 'long-range', size, isBinary: true, data: longRangeBinary(size) });
    }
  }
  for (const m of out) {
    m.bytes = m.isBinary ? m.data : Buffer.from(m.data, 'utf8');
    if (m.bytes.length !== m.size) throw new Error(`payload generator: ${m.label} is ${m.bytes.length} bytes`);
  }
  return out;
}

module.exports = {
  SIZES, messageSet, compressibleText, randomText, compressibleBinary, randomBinary, longRangeBinary,
};
