'use strict';
// Assertions over the messages a wire tap (lib/wire.js) recorded in one direction.
const assert = require('node:assert/strict');
const { TracingInflater } = require('./deflate-trace');

const KIB = 1024;

function describeMsg(m) {
  return `${m.type} ${m.compressed ? 'compressed' : 'uncompressed'}, ${m.frames.length} frame(s), ${m.wireLength} payload bytes on the wire`;
}

/** Common frame rules: same count/types as sent, RSV1 only on a message's first frame, RSV2/3 never. */
function checkFraming(wireMessages, sent, who) {
  assert.equal(wireMessages.length, sent.length, `${who}: ${wireMessages.length} data messages on the wire, expected ${sent.length}`);
  sent.forEach((s, i) => {
    const m = wireMessages[i];
    assert.equal(m.type, s.isBinary ? 'binary' : 'text', `${who}: message ${i} (${s.label}) has type ${m.type}`);
    m.frames.forEach((f, j) => {
      assert.ok(!f.rsv2 && !f.rsv3, `${who}: message ${i} frame ${j} has RSV2/RSV3 set`);
      if (j > 0) assert.ok(!f.rsv1, `${who}: message ${i} continuation frame ${j} has RSV1 set (RFC 7692 6.1)`);
    });
  });
}

/**
 * Checks a direction written by a compressing peer: messages at or above `threshold` bytes are
 * compressed (RSV1), smaller ones are not; compressible payloads of 1000 bytes or more take less than
 * a fifth of their size on the wire.
 */
function checkCompressedDirection(wireMessages, sent, { who, threshold }) {
  checkFraming(wireMessages, sent, who);
  sent.forEach((s, i) => {
    const m = wireMessages[i];
    const shouldCompress = s.size >= threshold;
    assert.equal(m.compressed, shouldCompress,
      `${who}: message ${i} (${s.label}, ${s.size} bytes, threshold ${threshold}) is ${describeMsg(m)}; expected ${shouldCompress ? 'compressed' : 'uncompressed'}`);
    if (s.kind === 'compressible' && s.size >= 1000) {
      assert.ok(m.wireLength < s.size / 5,
        `${who}: compressible message ${i} (${s.label}) took ${m.wireLength} bytes on the wire for ${s.size} bytes of payload`);
    }
  });
  const compressible = sent.map((s, i) => [s, wireMessages[i]]).filter(([s]) => s.kind === 'compressible');
  const payload = compressible.reduce((a, [s]) => a + s.size, 0);
  const wire = compressible.reduce((a, [, m]) => a + m.wireLength, 0);
  if (payload >= 64 * KIB) {
    assert.ok(wire < payload / 10, `${who}: compressible messages: ${wire} wire bytes for ${payload} payload bytes`);
  }
  return { payload, wire };
}

/**
 * Decodes every compressed message of a direction with the tracing inflater and checks that it is
 * the payload that was sent, that no back-reference is longer than the agreed window allows, and,
 * when no context takeover was agreed, that no message refers to an earlier one.
 * Returns the per-message traces (index-aligned with sent; null for uncompressed ones).
 */
function checkDeflateStream(wireMessages, sent, { who, windowBits, noContextTakeover }) {
  const inflater = new TracingInflater();
  const traces = [];
  sent.forEach((s, i) => {
    const m = wireMessages[i];
    if (!m.compressed) {
      assert.ok(m.payload.equals(s.bytes), `${who}: uncompressed message ${i} (${s.label}) differs from what was sent`);
      traces.push(null);
      return;
    }
    let t;
    try {
      t = inflater.message(m.payload);
    } catch (e) {
      assert.fail(`${who}: message ${i} (${s.label}) is not valid DEFLATE data: ${e.message}`);
    }
    assert.ok(t.data.equals(s.bytes), `${who}: message ${i} (${s.label}) inflates to ${t.data.length} bytes that differ from the ${s.size} sent`);
    assert.ok(t.maxDistance <= 2 ** windowBits,
      `${who}: message ${i} (${s.label}) uses a back-reference of ${t.maxDistance} bytes; the agreed window is 2^${windowBits} = ${2 ** windowBits}`);
    if (noContextTakeover) {
      assert.ok(!t.reachesBack, `${who}: message ${i} (${s.label}) refers to an earlier message although no context takeover was agreed`);
    }
    traces.push(t);
  });
  return traces;
}

module.exports = { checkFraming, checkCompressedDirection, checkDeflateStream, describeMsg };
