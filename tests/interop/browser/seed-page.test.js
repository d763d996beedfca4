'use strict';
// Headless Chromium runs the user's seed page (../shared/fixtures/seed-test-page.html, used where it
// is) against `sockeye serve --port 9876 --static <fixtures>`; the page hard-codes port 9876.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServe, portOpen } = require('../lib/sockeye');
const { launch, newPage, seedFixture } = require('../lib/browser');

const { dir: FIXTURES, page: SEED, skip: SEED_SKIP } = seedFixture();
const PORT = 9876;

describe('seed page (shared/fixtures/seed-test-page.html) in headless chromium', { skip: SEED_SKIP }, () => {
  let server;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(SEED), `seed page not found at ${SEED}`);
    assert.equal(await portOpen(PORT), false, `port ${PORT} is already in use; the seed page needs it`);
    server = await startServe(['--static', FIXTURES], { port: PORT });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('connects, sends the typed message and shows the echo', async () => {
    const { page, problems, context } = await newPage(browser);
    try {
      const resp = await page.goto(`http://localhost:${PORT}/seed-test-page.html`);
      assert.equal(resp.status(), 200);
      await page.waitForFunction(
        () => [...document.querySelectorAll('#serveroutput p')].some((p) => p.textContent === 'Connected.'));
      const message = `hello sockeye ${Date.now()} ✓`;
      await page.fill('#msg', message);
      await page.click('input[type=submit]');
      await page.waitForFunction(
        (m) => [...document.querySelectorAll('#serveroutput p')].some((p) => p.textContent === m), message);
      assert.equal(await page.inputValue('#msg'), '', 'the page clears the input after sending');

      // A second message through the same connection, sent with Enter this time.
      await page.fill('#msg', 'second message');
      await page.press('#msg', 'Enter');
      await page.waitForFunction(
        () => [...document.querySelectorAll('#serveroutput p')].some((p) => p.textContent === 'second message'));
      const texts = await page.$$eval('#serveroutput p', (ps) => ps.map((p) => p.textContent));
      assert.deepEqual(texts, ['Connected.', message, 'second message']);
      assert.deepEqual(problems, [], 'the page logged errors');
    } finally {
      await context.close();
    }
  });

  test('page load is served with an HTML content type from --static', async () => {
    const res = await fetch(`http://127.0.0.1:${PORT}/seed-test-page.html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(await res.text(), fs.readFileSync(SEED, 'utf8'));
  });
});
