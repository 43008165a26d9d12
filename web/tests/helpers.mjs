// Shared setup for the browser tests: Debian's Chromium driven by
// playwright-core (no browser download), pointed at HUOYAN_URL.
import { chromium } from 'playwright-core';
import { launchChromium } from './chromium.mjs';

export const BASE_URL = (process.env.HUOYAN_URL || '').replace(/\/+$/, '');
if (!BASE_URL) {
  throw new Error('HUOYAN_URL is not set: point it at a running `huoyan serve` (or `npm run fixture` for UI development)');
}

export const launch = () => launchChromium(chromium);

// Opens a page that records console errors/warnings, page errors and dialogs.
// Network 404s of endpoints the test expects to fail can be allowed by URL part.
export async function openPage(context, { allow404 = [] } = {}) {
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const where = (m.location() && m.location().url) || '';
    if (/Failed to load resource/.test(m.text()) && allow404.some((a) => where.includes(a))) return;
    problems.push(`${m.type()}: ${m.text()} ${where}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  return { page, problems, dialogs };
}

export async function api(pathAndQuery) {
  const res = await fetch(`${BASE_URL}${pathAndQuery}`);
  const body = await res.json();
  return { status: res.status, body };
}

// The flame chart marks itself ready once d3's transitions have settled.
export async function flameReady(page) {
  await page.waitForSelector('.flamechart[data-state="ready"] svg g.frame', { timeout: 15000 });
  // Any later re-render (search, zoom) flips it back to busy first.
  await page.waitForFunction(() => document.querySelector('.flamechart')?.dataset.state === 'ready');
}

// A request that exists, preferring one with much device time (more frames).
export async function someRequest() {
  const { body } = await api('/api/requests?limit=1&sort=-device_ns');
  if (!body.requests || !body.requests.length) throw new Error('the server has no requests to test with');
  return body.requests[0].id;
}

export function frameWidths(page) {
  return page.$$eval('.flamechart svg g.frame', (gs) =>
    gs.map((g) => ({ name: g.getAttribute('name'), w: Number(g.querySelector('rect').getAttribute('width')), fill: g.querySelector('rect').getAttribute('fill'), fade: g.classList.contains('fade') })),
  );
}
