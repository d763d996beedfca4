'use strict';
// Helpers shared by the node and browser interop tests: locate the sockeye CLI,
// pick free ports, start `sockeye serve` (waiting for its TCP port, not a fixed
// sleep) and run `sockeye connect` to completion.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The command that runs sockeye, as [file, ...args].
 * SOCKEYE_CMD (space separated) overrides everything, SOCKEYE_DLL names the dll;
 * otherwise the Release build is preferred over the Debug one.
 */
function sockeyeCommand() {
  if (process.env.SOCKEYE_CMD) return process.env.SOCKEYE_CMD.trim().split(/\s+/);
  let dll = process.env.SOCKEYE_DLL;
  if (!dll) {
    const candidates = ['Release', 'Debug'].map((c) =>
      path.join(REPO_ROOT, 'src', 'Sockeye.Cli', 'bin', c, 'net10.0', 'sockeye.dll'));
    dll = candidates.find((p) => fs.existsSync(p));
    if (!dll) {
      throw new Error(`sockeye.dll not found (looked at ${candidates.join(', ')}); build src/Sockeye.Cli first or set SOCKEYE_DLL`);
    }
  }
  return ['dotnet', dll];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

/** Polls until something accepts TCP connections on port, the child dies, or the deadline passes. */
async function waitForPort(port, child, timeoutMs = 30000, host = '127.0.0.1') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`server exited with code ${child.exitCode} before listening on ${port}`);
    }
    if (await portOpen(port, host)) return;
    await new Promise((r) => setTimeout(r, 50)); // poll interval, not a synchronisation sleep
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for port ${port}`);
}

/**
 * Starts `sockeye serve --host 127.0.0.1 --port PORT ...extraArgs` and resolves once the port accepts
 * connections. Returns { port, url, httpUrl, proc, output(), stop() }.
 */
async function startServe(extraArgs = [], { port } = {}) {
  port = port ?? await freePort();
  const [cmd, ...base] = sockeyeCommand();
  const args = [...base, 'serve', '--host', '127.0.0.1', '--port', String(port), ...extraArgs];
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await waitForPort(port, proc);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n--- sockeye serve output ---\n${out}`);
  }
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    proc,
    output: () => out,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

/** Shortens captured output for error messages: long lines and long outputs are cut. */
function clip(text, maxLines = 40, maxLine = 200) {
  const lines = text.split('\n');
  const shown = lines.slice(0, maxLines).map((l) => (l.length > maxLine ? `${l.slice(0, maxLine)}… (${l.length} chars)` : l));
  if (lines.length > maxLines) shown.push(`… (${lines.length - maxLines} more lines)`);
  return shown.join('\n');
}

/**
 * Runs `sockeye connect ...args`, writes `input` to stdin, then closes stdin: at once, or when the
 * `endStdin` promise resolves, or never (keepStdinOpen). Unless `wait` (or --echo), the client gets
 * --no-wait: it closes 1000 at stdin EOF, as these servers never close first (by default it would wait
 * for the server to close). Resolves { code, signal, stdout, stderr, lines } when the process exits;
 * rejects on timeout.
 */
function runConnect(args, { input = '', keepStdinOpen = false, endStdin = null, timeoutMs = 20000, wait = false } = {}) {
  const [cmd, ...base] = sockeyeCommand();
  const noWait = wait || args.includes('--echo') ? [] : ['--no-wait'];
  const proc = spawn(cmd, [...base, 'connect', ...noWait, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdin.on('error', () => {}); // the child may exit before reading everything
  if (input) proc.stdin.write(input);
  if (endStdin) endStdin.then(() => proc.stdin.end());
  else if (!keepStdinOpen) proc.stdin.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sockeye connect ${args.join(' ')} did not exit within ${timeoutMs} ms\n--- stdout so far ---\n${clip(stdout)}\n--- stderr so far ---\n${clip(stderr)}`));
    }, timeoutMs);
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      if (keepStdinOpen || endStdin) proc.stdin.destroy();
      const lines = stdout.split(/\r?\n/);
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      resolve({ code, signal, stdout, stderr, lines });
    });
  });
}

module.exports = { clip, REPO_ROOT, sockeyeCommand, freePort, portOpen, waitForPort, startServe, runConnect };
