'use strict';
// Headless Chromium opens a WebSocket to Sockeye's MapSockeye inside Kestrel (samples/AspNetCoreEcho). Chromium
// uses WebSockets over HTTP/2 (RFC 8441) only on an https origin it already talks h2 to: the page is served by
// the same Kestrel over TLS (self-signed, certificate errors ignored), and the server says which HTTP version the
// WebSocket request arrived over.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { startAspNetCore } = require('../lib/aspnetcore');
const { launch } = require('../lib/browser');

describe('Chromium -> MapSockeye in Kestrel over HTTP/2', () => {
  let host;
  let browser;
  before(async () => {
    host = await startAspNetCore({ https: true, deflate: true });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await host?.stop();
  });

  test('the WebSocket is carried by HTTP/2 extended CONNECT and echoes (with permessage-deflate)', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const response = await page.goto(`${host.httpsOrigin}/`);
    assert.equal(response.status(), 200);
    const result = await page.evaluate(async () => {
      const open = (path) => new Promise((resolve, reject) => {
        const ws = new WebSocket(`wss://${location.host}${path}`);
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error(`WebSocket ${path} failed`));
      });
      const next = (ws) => new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
      const proto = await open('/proto');
      const protocol = await next(proto);
      proto.close();
      const echo = await open('/echo');
      const text = 'Sockeye over HTTP/2 ✓ '.repeat(5000);
      echo.send(text);
      const back = await next(echo);
      const extensions = echo.extensions;
      echo.close();
      return { protocol, same: back === text, extensions };
    });
    assert.equal(result.protocol, 'HTTP/2', `server saw ${result.protocol}\n${host.output()}`);
    assert.ok(result.same, 'echo differs');
    assert.match(result.extensions, /permessage-deflate/);
    await context.close();
  });
});
