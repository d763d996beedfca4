'use strict';
// Helpers for the topics tests: load clients/js/sockeye.js (an ES module) into Node, bounded condition waits, and a
// raw sockeye.v1 client on `ws` that speaks the wire protocol (docs/protocol.md) frame by frame.
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const WebSocket = require('ws');
const { REPO_ROOT } = require('./sockeye');

const CLIENT_JS = path.join(REPO_ROOT, 'clients', 'js', 'sockeye.js');

/** The sockeye.js module ({ connect, SockeyeError }) as Node loads it. */
function loadClient() {
  return import(pathToFileURL(CLIENT_JS).href);
}

/**
 * Resolves once cond() is truthy (checked now and every 10 ms), rejects after timeoutMs with `what` and, when given,
 * detail() in the message. A bounded wait for a condition, not a sleep.
 */
function until(cond, { timeoutMs = 20000, what = 'condition', detail } = {}) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      let value;
      try {
        value = cond();
      } catch (e) {
        reject(e);
        return;
      }
      if (value) {
        resolve(value);
      } else if (Date.now() > deadline) {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`));
      } else {
        setTimeout(check, 10); // poll interval of a bounded wait
      }
    };
    check();
  });
}

/** Rejects after ms with a message, unless the promise settles first. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Decodes a server frame: text → the JSON object; binary (§2.1) → the JSON object with `payload` (a Buffer). */
function decodeV1(data, isBinary) {
  if (!isBinary) return JSON.parse(data.toString('utf8'));
  const length = data.readUInt32BE(0);
  const msg = JSON.parse(data.subarray(4, 4 + length).toString('utf8'));
  msg.payload = Buffer.from(data.subarray(4 + length));
  return msg;
}

/** §2.1: [4-byte big-endian JSON length][JSON][payload]. */
function encodeV1Binary(obj, payload) {
  const json = Buffer.from(JSON.stringify(obj), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(json.length, 0);
  return Buffer.concat([head, json, Buffer.from(payload)]);
}

/**
 * A raw sockeye.v1 client: every frame it receives is decoded into `frames`, in order. `next(pred)` resolves with
 * the first frame (from the start) matching pred that was not already taken by an earlier next().
 */
async function rawV1(url, { timeoutMs = 10000 } = {}) {
  const ws = new WebSocket(url, 'sockeye.v1');
  const frames = [];
  const waiters = [];
  const taken = new Set();
  let closed = null;
  ws.on('message', (data, isBinary) => {
    frames.push(decodeV1(data, isBinary));
    for (const w of [...waiters]) w();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of [...waiters]) w();
  });
  ws.on('error', () => {});
  await within(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), timeoutMs, `raw sockeye.v1 connection to ${url}`);
  assertEqual(ws.protocol, 'sockeye.v1', 'the server agreed on sockeye.v1');
  const raw = {
    ws,
    frames,
    get closed() { return closed; },
    send(obj) { ws.send(JSON.stringify(obj)); },
    sendBinary(obj, payload) { ws.send(encodeV1Binary(obj, payload)); },
    next(pred, what = 'a frame', ms = timeoutMs) {
      return within(new Promise((resolve, reject) => {
        const check = () => {
          const i = frames.findIndex((f, k) => !taken.has(k) && pred(f));
          if (i >= 0) {
            taken.add(i);
            waiters.splice(waiters.indexOf(check), 1);
            resolve(frames[i]);
          } else if (closed) {
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`connection closed (${closed.code}) before ${what}; frames: ${JSON.stringify(frames.slice(-5))}`));
          }
        };
        waiters.push(check);
        check();
      }), ms, what);
    },
    close() { ws.terminate(); },
  };
  await raw.next((f) => f.op === 'hello', 'hello');
  return raw;
}

function assertEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}

module.exports = { CLIENT_JS, loadClient, until, within, decodeV1, encodeV1Binary, rawV1 };
