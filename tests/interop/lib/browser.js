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

/**
 * The user's seed page (../shared/fixtures/seed-test-page.html, or SEED_FIXTURES_DIR), used where it is.
 * { dir, page, skip }: outside CI a missing fixture skips the tests that need it (skip is the message to show);
 * with CI=true skip is false, so their `before` fails on the missing file instead.
 */
function seedFixture() {
  const path = require('node:path');
  const fs = require('node:fs');
  const { REPO_ROOT } = require('./sockeye');
  const dir = process.env.SEED_FIXTURES_DIR || path.resolve(REPO_ROOT, '..', 'shared', 'fixtures');
  const page = path.join(dir, 'seed-test-page.html');
  const missing = !fs.existsSync(page);
  const skip = missing && process.env.CI !== 'true'
    ? `seed page not found at ${page} (skipped outside CI; with CI=true this fails)`
    : false;
  return { dir, page, skip };
}

module.exports = { launch, newPage, chromiumPath, seedFixture };
