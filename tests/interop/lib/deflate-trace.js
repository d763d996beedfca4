'use strict';
// An independent, tracing DEFLATE (RFC 1951) decoder for permessage-deflate payloads captured on the
// wire. zlib's own inflate cannot tell which window a peer compressed with (it happily resolves a
// back-reference from its output buffer even when it lies beyond the negotiated window), so this
// decoder records every back-reference distance instead:
//   - maxDistance: the largest LZ77 distance a message used (must be <= 2^max_window_bits),
//   - reachesBack: whether the message referred to bytes of an earlier message (context takeover;
//     must be false when *_no_context_takeover was agreed).
// Modelled on zlib's puff.c (canonical Huffman decoding one bit at a time; slow but simple).

const MAXBITS = 15;
const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
  4097, 6145, 8193, 12289, 16385, 24577];
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const HISTORY = 32768; // the largest window DEFLATE allows

class DeflateError extends Error {}

function huffman(lengths) {
  const count = new Uint16Array(MAXBITS + 1);
  const symbol = new Uint16Array(lengths.length);
  for (const l of lengths) count[l]++;
  const offs = new Uint16Array(MAXBITS + 1);
  for (let len = 1; len < MAXBITS; len++) offs[len + 1] = offs[len] + count[len];
  for (let s = 0; s < lengths.length; s++) if (lengths[s] !== 0) symbol[offs[lengths[s]]++] = s;
  return { count, symbol };
}

const FIXED_LEN = huffman(Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)));
const FIXED_DIST = huffman(new Array(30).fill(5));

/**
 * Decodes the messages of one direction of one connection, in order. Keeps the last 32 KiB of output
 * so that context takeover (references into earlier messages) can be decoded and detected.
 */
class TracingInflater {
  constructor() {
    this.history = Buffer.alloc(0);
  }

  /**
   * Decodes one compressed message (its frame payloads concatenated, without the 00 00 ff ff tail).
   * Returns { data, maxDistance, reachesBack, blocks: {stored, fixed, dynamic} }; throws DeflateError on bad data.
   */
  message(payload) {
    const input = Buffer.concat([payload, TRAILER]);
    let pos = 0; // byte position in input
    let bitbuf = 0;
    let bitcnt = 0;
    let out = Buffer.alloc(Math.max(1024, payload.length * 4));
    let outLen = 0;
    const history = this.history;
    const res = { maxDistance: 0, reachesBack: false, blocks: { stored: 0, fixed: 0, dynamic: 0 } };

    const bits = (need) => {
      let val = bitbuf;
      while (bitcnt < need) {
        if (pos >= input.length) throw new DeflateError('compressed data ends in the middle of a block');
        val |= input[pos++] << bitcnt;
        bitcnt += 8;
      }
      bitbuf = val >>> need;
      bitcnt -= need;
      return val & ((1 << need) - 1);
    };
    const put = (byte) => {
      if (outLen === out.length) {
        const bigger = Buffer.alloc(out.length * 2);
        out.copy(bigger, 0, 0, outLen);
        out = bigger;
      }
      out[outLen++] = byte;
    };
    const decode = (h) => {
      let code = 0;
      let first = 0;
      let index = 0;
      for (let len = 1; len <= MAXBITS; len++) {
        code |= bits(1);
        const count = h.count[len];
        if (code - count < first) return h.symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
      }
      throw new DeflateError('invalid Huffman code');
    };
    const codes = (lencode, distcode) => {
      for (;;) {
        const sym = decode(lencode);
        if (sym < 256) { put(sym); continue; }
        if (sym === 256) return;
        const li = sym - 257;
        if (li >= 29) throw new DeflateError(`invalid length symbol ${sym}`);
        const len = LBASE[li] + bits(LEXT[li]);
        const di = decode(distcode);
        if (di >= 30) throw new DeflateError(`invalid distance symbol ${di}`);
        const dist = DBASE[di] + bits(DEXT[di]);
        if (dist > res.maxDistance) res.maxDistance = dist;
        if (dist > outLen) {
          res.reachesBack = true;
          if (dist - outLen > history.length) throw new DeflateError(`distance ${dist} reaches before all earlier data`);
        }
        for (let i = 0; i < len; i++) {
          const from = outLen - dist;
          put(from >= 0 ? out[from] : history[history.length + from]);
        }
      }
    };
    const dynamicTables = () => {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      if (nlen > 286 || ndist > 30) throw new DeflateError('bad dynamic block counts');
      const clen = new Array(19).fill(0);
      for (let i = 0; i < ncode; i++) clen[CLORDER[i]] = bits(3);
      const lencode = huffman(clen);
      const lengths = [];
      while (lengths.length < nlen + ndist) {
        let sym = decode(lencode);
        if (sym < 16) { lengths.push(sym); continue; }
        let len = 0;
        let rep;
        if (sym === 16) {
          if (lengths.length === 0) throw new DeflateError('repeat with no first length');
          len = lengths[lengths.length - 1];
          rep = 3 + bits(2);
        } else if (sym === 17) rep = 3 + bits(3);
        else rep = 11 + bits(7);
        if (lengths.length + rep > nlen + ndist) throw new DeflateError('too many lengths');
        while (rep--) lengths.push(len);
      }
      if (lengths[256] === 0) throw new DeflateError('no end-of-block code');
      return [huffman(lengths.slice(0, nlen)), huffman(lengths.slice(nlen))];
    };

    // Blocks until the input is used up. A sync-flushed message ends with an empty stored block whose
    // LEN/NLEN are the 00 00 ff ff the sender stripped, so the last block ends exactly at the end.
    while (pos < input.length) {
      const last = bits(1);
      const type = bits(2);
      if (type === 0) {
        bitbuf = 0;
        bitcnt = 0;
        if (pos + 4 > input.length) throw new DeflateError('stored block header truncated');
        const len = input[pos] | (input[pos + 1] << 8);
        const nlen = input[pos + 2] | (input[pos + 3] << 8);
        pos += 4;
        if (len !== (~nlen & 0xffff)) throw new DeflateError('stored block LEN/NLEN mismatch');
        if (pos + len > input.length) throw new DeflateError('stored block truncated');
        for (let i = 0; i < len; i++) put(input[pos + i]);
        pos += len;
        res.blocks.stored++;
      } else if (type === 1) {
        codes(FIXED_LEN, FIXED_DIST);
        res.blocks.fixed++;
      } else if (type === 2) {
        const [l, d] = dynamicTables();
        codes(l, d);
        res.blocks.dynamic++;
      } else {
        throw new DeflateError('invalid block type 3');
      }
      if (last) break; // a final block ends the stream; what follows is the trailer we appended
    }

    res.data = out.subarray(0, outLen);
    const joined = Buffer.concat([history, res.data]);
    this.history = Buffer.from(joined.subarray(Math.max(0, joined.length - HISTORY)));
    return res;
  }
}

module.exports = { TracingInflater, DeflateError };
