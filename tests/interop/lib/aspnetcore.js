'use strict';
// Starts samples/AspNetCoreEcho (Sockeye's MapSockeye inside Kestrel): plain HTTP/1.1 on `port`, and with
// `https: true` TLS with HTTP/1.1 and HTTP/2 on `httpsPort` (a self-signed certificate the host makes at start).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { REPO_ROOT, freePort, waitForPort } = require('./sockeye');

function hostDll() {
  const candidates = ['Release', 'Debug'].map((c) =>
    path.join(REPO_ROOT, 'samples', 'AspNetCoreEcho', 'bin', c, 'net10.0', 'AspNetCoreEcho.dll'));
  const dll = candidates.find((p) => fs.existsSync(p));
  if (!dll) throw new Error(`AspNetCoreEcho.dll not found (looked at ${candidates.join(', ')}); build Sockeye.sln first`);
  return dll;
}

async function startAspNetCore({ https = false, deflate = false } = {}) {
  const port = await freePort();
  const httpsPort = https ? await freePort() : null;
  const args = [hostDll(), '--port', String(port), ...(https ? ['--https-port', String(httpsPort)] : []), ...(deflate ? ['--deflate'] : [])];
  const proc = spawn('dotnet', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await waitForPort(port, proc);
    if (https) await waitForPort(httpsPort, proc);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n--- AspNetCoreEcho output ---\n${out}`);
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    httpsOrigin: https ? `https://127.0.0.1:${httpsPort}` : null,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

module.exports = { startAspNetCore };
