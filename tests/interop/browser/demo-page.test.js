'use strict';
// Headless Chromium drives the demo page that `sockeye serve` embeds and serves at `/`.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startServe, REPO_ROOT } = require('../lib/sockeye');
const { launch, newPage } = require('../lib/browser');

const logTexts = (page, cls) => page.$$eval(`#log li.${cls} .text`, (els) => els.map((e) => e.firstChild?.textContent ?? ''));

async function waitForLogEntry(page, cls, text) {
  await page.waitForFunction(([c, t]) => [...document.querySelectorAll(`#log li.${c} .text`)]
    .some((e) => (e.firstChild?.textContent ?? '') === t), [cls, text]);
}

async function sendViaEnter(page, text) {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
}

describe('demo page served at / in headless chromium', () => {
  let server;
  let browser;
  let page;
  let problems;
  before(async () => {
    server = await startServe();
    browser = await launch();
    ({ page, problems } = await newPage(browser));
    const resp = await page.goto(`${server.httpUrl}/`);
    assert.equal(resp.status(), 200);
  });
  after(async () => {
    if (process.env.SCREENSHOT_DIR && page) {
      await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'demo-page.png'), fullPage: true }).catch(() => {});
    }
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('auto-connects to ws://<host>/echo and shows the connected status', async () => {
    assert.equal(await page.inputValue('#url'), `ws://127.0.0.1:${server.port}/echo`);
    await page.waitForSelector('#status[data-state="open"]');
    assert.equal(await page.textContent('#status'), 'Connected');
    assert.equal(await page.isEnabled('#message'), true);
    assert.equal(await page.isEnabled('#send'), true);
  });

  test('Enter sends a text message; the sent and the echoed message are logged with timestamps', async () => {
    const msg = 'hello from chromium ✓ 🐟';
    await sendViaEnter(page, msg);
    await waitForLogEntry(page, 'received', msg);
    assert.ok((await logTexts(page, 'sent')).includes(msg));
    assert.equal(await page.inputValue('#message'), '', 'input cleared after sending');
    const times = await page.$$eval('#log li .time', (els) => els.map((e) => e.textContent));
    assert.ok(times.length >= 2 && times.every((t) => /^\d\d:\d\d:\d\d\.\d{3}$/.test(t)), `timestamps: ${times}`);
  });

  test('the Send button sends too', async () => {
    await page.fill('#message', 'via the button');
    await page.click('#send');
    await waitForLogEntry(page, 'received', 'via the button');
  });

  test('received markup is shown as text, never interpreted as HTML', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    await sendViaEnter(page, evil);
    await waitForLogEntry(page, 'received', evil);
    assert.equal(await page.$$eval('#log img, #log b', (els) => els.length), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  test('binary toggle sends a binary frame that is echoed back as binary', async () => {
    await page.check('#binary');
    await sendViaEnter(page, 'bytes ✓');
    await waitForLogEntry(page, 'received.binary', 'bytes ✓');
    assert.ok((await logTexts(page, 'sent.binary')).includes('bytes ✓'));
    const meta = await page.$$eval('#log li.received.binary .meta', (els) => els.map((e) => e.textContent));
    assert.ok(meta.includes('(9 bytes)'), `binary meta: ${meta}`);
    await page.uncheck('#binary');
  });

  test('50 quick messages are all echoed in order', async () => {
    const before = (await logTexts(page, 'received')).length;
    for (let i = 0; i < 50; i++) await sendViaEnter(page, `burst ${i}`);
    await page.waitForFunction((n) => document.querySelectorAll('#log li.received').length >= n, before + 50);
    const got = (await logTexts(page, 'received')).slice(before);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `burst ${i}`));
  });

  test('Disconnect closes with code 1000 and shows it', async () => {
    assert.equal(await page.textContent('#connect'), 'Disconnect');
    await page.click('#connect');
    await page.waitForSelector('#status[data-state="closed"]');
    assert.equal(await page.textContent('#status'), 'Closed (1000)');
    const system = await logTexts(page, 'system');
    assert.ok(system.some((t) => t.startsWith('Closed: code 1000')), `log: ${system.join(' | ')}`);
    assert.equal(await page.isEnabled('#message'), false, 'message box disabled while closed');
    assert.equal(await page.textContent('#connect'), 'Connect');
  });

  test('Reconnect opens a new connection that echoes', async () => {
    await page.click('#reconnect');
    await page.waitForSelector('#status[data-state="open"]');
    await sendViaEnter(page, 'after reconnect');
    await waitForLogEntry(page, 'received', 'after reconnect');
  });

  test('Reconnect while connected replaces the connection', async () => {
    await page.click('#reconnect');
    await page.waitForSelector('#status[data-state="open"]');
    await sendViaEnter(page, 'after second reconnect');
    await waitForLogEntry(page, 'received', 'after second reconnect');
  });

  test('the page logged no console errors', () => {
    assert.deepEqual(problems, []);
  });
});

describe('demo page when the server goes away', () => {
  test('status turns to closed and the close code is logged', async () => {
    const server = await startServe();
    const browser = await launch();
    try {
      const { page } = await newPage(browser);
      await page.goto(`${server.httpUrl}/`);
      await page.waitForSelector('#status[data-state="open"]');
      await server.stop();
      await page.waitForSelector('#status[data-state="closed"]');
      const system = await logTexts(page, 'system');
      assert.ok(system.some((t) => /^Closed: code \d+/.test(t)), `log: ${system.join(' | ')}`);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
