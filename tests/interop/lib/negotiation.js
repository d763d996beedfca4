'use strict';
// permessage-deflate negotiation rules of RFC 7692 section 7, used to judge what a peer answered.
const { parseExtensions } = require('./wire');

const KNOWN = ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'];

/** Params list [[k, v], ...] -> object; throws on duplicates. */
function paramObject(params) {
  const o = {};
  for (const [k, v] of params) {
    if (k in o) throw new Error(`duplicate parameter ${k}`);
    o[k] = v;
  }
  return o;
}

/** Formats params object as it would appear after "permessage-deflate" (for messages and offers). */
function formatParams(o) {
  return Object.entries(o).map(([k, v]) => (v === true ? `; ${k}` : `; ${k}=${v}`)).join('');
}

/**
 * Checks a server's Sec-WebSocket-Extensions answer against the client's offer (one permessage-deflate
 * offer given as an object like { server_no_context_takeover: true, client_max_window_bits: true|N }).
 * Returns { params, agreed: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits,
 * clientMaxWindowBits } } or throws an Error naming the rule that was broken.
 */
function judgeAnswer(offer, answerValue) {
  const exts = parseExtensions(answerValue);
  if (exts.length !== 1 || exts[0].name !== 'permessage-deflate') {
    throw new Error(`answer should accept exactly one permessage-deflate, got ${JSON.stringify(answerValue)}`);
  }
  const p = paramObject(exts[0].params);
  for (const [k, v] of Object.entries(p)) {
    if (!KNOWN.includes(k)) throw new Error(`unknown parameter ${k} in answer`);
    if (k.endsWith('_no_context_takeover') && v !== true) throw new Error(`${k} must not have a value (got ${v})`);
    if (k.endsWith('_max_window_bits')) {
      if (v === true || !/^(8|9|1[0-5])$/.test(v)) throw new Error(`${k} in an answer needs a value 8..15 (got ${v})`);
      p[k] = Number(v);
    }
  }
  // 7.1.1.1: accepting an offer with server_no_context_takeover means including it.
  if (offer.server_no_context_takeover && !p.server_no_context_takeover) {
    throw new Error('offer had server_no_context_takeover but the answer does not include it');
  }
  // 7.1.2.1: accepting an offer with server_max_window_bits=N means answering with a value <= N.
  if (offer.server_max_window_bits !== undefined) {
    if (p.server_max_window_bits === undefined) throw new Error('offer had server_max_window_bits but the answer does not');
    if (p.server_max_window_bits > offer.server_max_window_bits) {
      throw new Error(`answer server_max_window_bits=${p.server_max_window_bits} exceeds the offered ${offer.server_max_window_bits}`);
    }
  }
  // 7.1.2.2: client_max_window_bits only if offered, and not above an offered value.
  if (p.client_max_window_bits !== undefined) {
    if (offer.client_max_window_bits === undefined) throw new Error('answer has client_max_window_bits the client never offered');
    if (offer.client_max_window_bits !== true && p.client_max_window_bits > offer.client_max_window_bits) {
      throw new Error(`answer client_max_window_bits=${p.client_max_window_bits} exceeds the offered ${offer.client_max_window_bits}`);
    }
  }
  const clientBits = p.client_max_window_bits
    ?? (typeof offer.client_max_window_bits === 'number' ? offer.client_max_window_bits : 15);
  return {
    params: p,
    agreed: {
      serverNoContextTakeover: !!p.server_no_context_takeover,
      clientNoContextTakeover: !!p.client_no_context_takeover,
      serverMaxWindowBits: p.server_max_window_bits ?? 15,
      clientMaxWindowBits: clientBits,
    },
  };
}

/** The single permessage-deflate offer in a request header value, as a params object. */
function offerOf(headerValue) {
  const exts = parseExtensions(headerValue);
  if (exts.length !== 1 || exts[0].name !== 'permessage-deflate') {
    throw new Error(`expected one permessage-deflate offer, got ${JSON.stringify(headerValue)}`);
  }
  const o = paramObject(exts[0].params);
  for (const k of ['server_max_window_bits', 'client_max_window_bits']) if (typeof o[k] === 'string') o[k] = Number(o[k]);
  return o;
}

module.exports = { judgeAnswer, offerOf, formatParams, paramObject };
