'use strict';
// The user's seed page (../shared/fixtures/seed-test-page.html, unmodified, used where it is; it hard-codes port
// 9876) in two Chromium tabs against `sockeye serve --broadcast --static <fixtures> --port 9876`: both tabs are
// plain clients of the path "/", so what one tab sends, both tabs show.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServe, portOpen } = require('../lib/sockeye');
const { launch, newPage, seedFixture } = require('../lib/browser');

const { dir: FIXTURES, page: SEED, skip: SEED_SKIP } = seedFixture();
const PORT = 9876;

const texts = (page) => page.$$eval('#serveroutput p', (ps) => ps.map((p) => p.textContent));
const shows = (page, text) => page.waitForFunction(
  (t) => [...document.querySelectorAll('#serveroutput p')].some((p) => p.textContent === t), text);

async function send(page, text) {
  await page.fill('#msg', text);
  await page.press('#msg', 'Enter');
}

describe('seed page in two chromium tabs with serve --broadcast', { skip: SEED_SKIP }, () => {
  let server;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(SEED), `seed page not found at ${SEED}`);
    assert.equal(await portOpen(PORT), false, `port ${PORT} is already in use; the seed page needs it`);
    server = await startServe(['--broadcast', '--static', FIXTURES], { port: PORT });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('each tab sends a message and both tabs show both', async () => {
    const tabA = await newPage(browser);
    const tabB = { page: await tabA.context.newPage(), problems: [] };
    tabB.page.on('pageerror', (err) => tabB.problems.push(`page error: ${err.message}`));
    tabB.page.on('console', (msg) => { if (msg.type() === 'error') tabB.problems.push(`console.error: ${msg.text()}`); });
    try {
      for (const { page } of [tabA, tabB]) {
        const resp = await page.goto(`http://localhost:${PORT}/seed-test-page.html`);
        assert.equal(resp.status(), 200);
        await shows(page, 'Connected.');
      }
      // "Connected." (the handshake) can come before the server has subscribed the connection to "/". A tab's own
      // message coming back proves its subscription, so each tab first says hello and waits for its echo.
      await send(tabA.page, 'A is here');
      await shows(tabA.page, 'A is here');
      await send(tabB.page, 'B is here');
      await shows(tabB.page, 'B is here');
      await shows(tabA.page, 'B is here'); // A was subscribed before B sent

      const fromA = `hello from tab A ${Date.now()}`;
      await send(tabA.page, fromA);
      await shows(tabA.page, fromA);
      await shows(tabB.page, fromA);
      const fromB = 'hello from tab B ✓';
      await send(tabB.page, fromB);
      await shows(tabB.page, fromB);
      await shows(tabA.page, fromB);

      assert.deepEqual(await texts(tabA.page), ['Connected.', 'A is here', 'B is here', fromA, fromB]);
      // B may have subscribed before or after A's hello: that one line is the only difference allowed.
      const b = await texts(tabB.page);
      assert.ok(
        JSON.stringify(b) === JSON.stringify(['Connected.', 'A is here', 'B is here', fromA, fromB])
          || JSON.stringify(b) === JSON.stringify(['Connected.', 'B is here', fromA, fromB]),
        `tab B shows ${JSON.stringify(b)}`);
      assert.deepEqual(tabA.problems, [], 'tab A logged errors');
      assert.deepEqual(tabB.problems, [], 'tab B logged errors');
    } finally {
      await tabA.context.close();
    }
  });
});
