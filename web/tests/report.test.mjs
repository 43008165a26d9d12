// The one-file report of `huoyan analyze --format html`, opened from disk with networking off:
// it must draw everything from the data inside it, make no request of any kind, and keep
// markup from traces inert. Needs HUOYAN_BIN and HUOYAN_SOURCE_DIR (set by ctest); skipped
// without them (e.g. against the fixture server).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { flameReady, frameWidths, launch, openPage } from './helpers.mjs';

const BIN = process.env.HUOYAN_BIN;
const SRC = process.env.HUOYAN_SOURCE_DIR;
const skip = !BIN || !SRC ? 'HUOYAN_BIN / HUOYAN_SOURCE_DIR not set' : false;
const GOLDEN = SRC ? path.join(SRC, 'tests/golden_analyze/data') : '';
const XSS_KERNEL = '<img src=x onerror=alert(1)>'; // a kernel of tests/data/ui.json
const XSS_EXPECT = '</script><script>alert(2)</script>';

let browser;
let dir;
before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huoyan-report-test-'));
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function analyze(args, out) {
  const file = path.join(dir, out);
  const r = spawnSync(BIN, ['analyze', ...args, '--format', 'html', '-o', file], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, file };
}

// Opens `file` offline; every request the page attempts is recorded and refused.
async function openReport(file) {
  const url = pathToFileURL(file).href;
  const { page, problems, dialogs } = await openPage(browser.context);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  await page.goto(url);
  return { page, problems, dialogs, requests, url };
}

const embedded = (page) => page.evaluate(() => JSON.parse(document.getElementById('huoyan-data').textContent));

test('a failing gate: verdict, failing check, diff and whole-run flame graphs, search, zoom, no request', { skip }, async () => {
  await browser.context.setOffline(true);
  const r = analyze(['slow.json', '--expect', 'Int4Gemm', '--baseline', 'base.json', '--max-regression', '5%'].map((a) => (a.endsWith('.json') ? path.join(GOLDEN, a) : a)), 'gate.html');
  assert.equal(r.code, 1, r.stderr);
  const { page, problems, dialogs, requests, url } = await openReport(r.file);
  await flameReady(page);

  assert.equal((await page.textContent('[data-verdict]')).trim(), 'FAILED');
  const failing = await page.$$eval('[data-check-status="fail"]', (rows) => rows.map((x) => x.textContent));
  assert.ok(failing.some((t) => t.includes('kernel Int4Gemm')), `failing checks: ${failing}`);

  // A failing gate with a baseline opens on the change: widths of this run, colours by change.
  assert.ok(await page.isVisible('[data-legend="diff"]'));
  const diffFrames = await frameWidths(page);
  assert.ok(diffFrames.some((f) => f.name === 'Int4Gemm' && f.w > 20), 'Int4Gemm drawn in the diff');

  await page.selectOption('select[aria-label="Flame graph view"]', 'run');
  await flameReady(page);
  const frames = await frameWidths(page);
  const root = frames.find((f) => f.name === 'all');
  assert.ok(root && root.w > 500, 'root frame spans the chart');

  await page.fill('input[aria-label="Search frames"]', 'int4');
  await page.waitForSelector('.search-summary');
  await flameReady(page);
  assert.match(await page.textContent('.search-summary'), /int4: \d+\.\d %/);
  const hits = (await frameWidths(page)).filter((f) => f.fill === '#d946ef');
  assert.ok(hits.length > 0 && hits.every((f) => f.name.toLowerCase().includes('int4')), 'matches highlighted');

  const idx = await page.$$eval('.flamechart g.frame', (gs) => gs.findIndex((g) => g.getAttribute('name') === 'forward'));
  assert.ok(idx >= 0, 'a "forward" frame');
  await page.locator('.flamechart g.frame').nth(idx).click();
  await page.waitForFunction(() => [...document.querySelectorAll('.crumb')].some((c) => c.textContent === 'forward'));

  // The regression table names the slower kernel.
  const reg = await page.$$eval('.regression-table td', (tds) => tds.map((td) => td.textContent.trim()));
  assert.ok(reg.includes('Int4Gemm') && reg.includes('regressed'), `regression table: ${reg.slice(0, 16)}`);

  assert.deepEqual(requests, [url], 'the file itself is the only request');
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
  await page.close();
  await browser.context.setOffline(false);
});

test('the language switch shows the findings in Chinese and is remembered', { skip }, async () => {
  const r = analyze([path.join(GOLDEN, 'slow.json')], 'lang.html');
  assert.equal(r.code, 0, r.stderr);
  const { page, problems, requests, url } = await openReport(r.file);
  await page.waitForSelector('.finding-title');
  const data = await embedded(page);
  assert.ok(data.findings.zh.length > 0, 'the trace has findings');
  const titles = () => page.$$eval('.finding-title', (hs) => hs.map((h) => h.textContent));
  assert.deepEqual(await titles(), data.findings.en.map((f) => f.title));

  await page.click('.lang-switch [data-lang="zh"]');
  await page.waitForFunction(() => document.querySelector('#diagnosis h2').textContent === '诊断');
  assert.deepEqual(await titles(), data.findings.zh.map((f) => f.title));
  assert.notDeepEqual(data.findings.zh[0].title, data.findings.en[0].title);

  await page.reload();
  await page.waitForSelector('.finding-title');
  assert.deepEqual(await titles(), data.findings.zh.map((f) => f.title), 'the choice survives a reload');
  await page.click('.lang-switch [data-lang="en"]');
  assert.deepEqual(await titles(), data.findings.en.map((f) => f.title));
  assert.ok(requests.every((u) => u === url), `requests: ${requests}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('markup in kernel names and check names stays text', { skip }, async () => {
  const r = analyze([path.join(SRC, 'tests/data/ui.json'), '--expect', XSS_EXPECT], 'xss.html');
  assert.equal(r.code, 1, r.stderr); // no kernel has that name
  const html = fs.readFileSync(r.file, 'utf8');
  assert.ok(!html.includes(XSS_EXPECT) && !html.includes(XSS_KERNEL), 'trace strings never appear raw');
  // The data block ends at the first "</script>" after it and still holds the whole document.
  const open = '<script type="application/json" id="huoyan-data">';
  const start = html.indexOf(open) + open.length;
  const block = JSON.parse(html.slice(start, html.indexOf('</script>', start)));
  assert.ok(block.kernels.some((k) => k.name === XSS_KERNEL));
  assert.ok(block.report.checks.some((c) => c.name === XSS_EXPECT));

  const { page, problems, dialogs, requests, url } = await openReport(r.file);
  await flameReady(page);
  const failing = await page.$$eval('[data-check-status="fail"] td', (tds) => tds.map((x) => x.textContent.trim()));
  assert.ok(failing.includes(XSS_EXPECT), `check name shown literally: ${failing}`);

  await page.fill('input[aria-label="Search frames"]', XSS_KERNEL);
  await page.waitForSelector('.search-summary');
  assert.ok((await page.textContent('.search-summary')).includes(XSS_KERNEL));
  const cells = await page.$$eval('.kernels-table td', (tds) => tds.map((td) => td.textContent.trim()));
  assert.ok(cells.includes(XSS_KERNEL), 'kernel table shows the literal name');

  assert.equal(await page.$$eval('img', (x) => x.length), 0, 'no <img> element was created');
  assert.equal(await page.$$eval('script', (x) => x.length), 2, 'the app and its data, nothing injected');
  assert.deepEqual(dialogs, [], 'no dialog fired');
  assert.deepEqual(requests, [url]);
  assert.deepEqual(problems, []);
  await page.close();
});
