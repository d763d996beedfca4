'use strict';
// Launches Debian's headless chromium through playwright-core (no bundled browser download).
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('bash', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium not found on PATH (apt-get install chromium)');
  }
}

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

function launch() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ARGS, timeout: 60000 });
}

/** Opens a page that records console errors, page errors and failed requests into `problems`. */
async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The browser's own automatic /favicon.ico request is not the page's doing.
    const where = msg.location()?.url ?? '';
    if (/\/favicon\.ico$/.test(where)) return;
    problems.push(`console.error: ${msg.text()} ${where}`.trim());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (!/\/favicon\.ico$/.test(req.url())) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.setDefaultTimeout(15000);
  return { context, page, problems };
}

module.exports = { launch, newPage, chromiumPath };
