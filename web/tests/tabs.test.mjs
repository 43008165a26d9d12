// Every tab loads without console errors; tables sort and link to the flame graph.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api as apiGet, BASE_URL, flameReady, launch, openPage } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser && browser.close());

// Each tab's "loaded" marker; diagnosis may legitimately be unavailable (404).
const TABS = [
  ['flame', '.flamechart[data-state="ready"], .state-empty'],
  ['timeline', '.tl-canvas[data-drawn]'],
  ['kernels', '.table, .state-empty'],
  ['requests', '.table, .state-empty'],
  ['diagnosis', '.findings, .state-empty, .state-info'],
  ['status', '.cards'],
];

test('no console errors or warnings on any tab', async () => {
  const { page, problems, dialogs } = await openPage(browser.context, { allow404: ['/api/diagnosis'] });
  await page.goto(`${BASE_URL}/`);
  for (const [tab, ready] of TABS) {
    await page.click(`.tab[data-tab="${tab}"]`);
    await page.waitForSelector(ready, { timeout: 15000 });
    assert.ok(page.url().includes(`#/${tab}`));
    await page.waitForTimeout(300);
  }
  // Keyboard: digits switch tabs, '?' opens the shortcut help.
  await page.keyboard.press('1');
  await page.waitForSelector('.tab.active[data-tab="flame"]');
  await page.keyboard.press('?');
  await page.waitForSelector('.help');
  await page.keyboard.press('Escape');
  assert.deepEqual(problems, []);
  assert.deepEqual(dialogs, []);
  await page.close();
});

test('requests table sorts on the server and opens a request in the flame graph', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/requests`);
  await page.waitForSelector('.table tbody tr');
  const sortReq = page.waitForRequest((r) => r.url().includes('/api/requests') && r.url().includes('sort=-steps'));
  await page.click('th:has-text("Steps")');
  await sortReq;
  await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"]')?.textContent.includes('Steps'));
  await page.waitForTimeout(300);
  const steps = await page.$$eval('.table tbody tr td:nth-child(7)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
  assert.ok(steps.length > 1);
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i - 1] >= steps[i], 'sorted descending by steps');
  const id = (await page.textContent('.table tbody tr td')).trim();
  await page.click('.table tbody tr');
  await page.waitForFunction(() => location.hash.startsWith('#/flame'));
  assert.equal(await page.inputValue('.picker-input'), id);
  await flameReady(page);
  assert.deepEqual(problems, []);
  await page.close();
});

test('kernels table sorts on header click and links to the flame graph search', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/kernels`);
  await page.waitForSelector('.table tbody tr');
  await page.click('th:has-text("Calls")');
  await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"]')?.textContent.includes('Calls'));
  const calls = await page.$$eval('.table tbody tr td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i - 1] >= calls[i]);
  await page.click('th:has-text("Calls")');
  await page.waitForFunction(() => document.querySelector('th[aria-sort="ascending"]')?.textContent.includes('Calls'));
  const name = (await page.textContent('.table tbody tr td')).trim();
  await page.click('.table tbody tr');
  await page.waitForFunction(() => location.hash.startsWith('#/flame'));
  assert.equal(await page.getByRole('searchbox', { name: 'Search frames' }).inputValue(), name);
  assert.deepEqual(problems, []);
  await page.close();
});

test('kernels table names each row\'s kind; collectives and waits get their own lines, waits outside device time', async () => {
  const { page, problems } = await openPage(browser.context);
  // The documented /api/kernels shape of a two-card trace with NCCL and stream syncs.
  const rows = [
    { name: 'gemm', kind: 'kernel', count: 10, total_ns: 6000, mean_ns: 600, p50_ns: 600, p99_ns: 600, max_ns: 600, share: 0.6 },
    { name: 'ncclDevKernel_AllReduce', kind: 'collective', count: 2, total_ns: 3000, mean_ns: 1500, p50_ns: 1500, p99_ns: 1500, max_ns: 1500, share: 0.3 },
    { name: 'Memcpy HtoD', kind: 'memcpy', count: 1, total_ns: 1000, mean_ns: 1000, p50_ns: 1000, p99_ns: 1000, max_ns: 1000, share: 0.1 },
    { name: 'Stream Sync', kind: 'wait', count: 4, total_ns: 5000, mean_ns: 1250, p50_ns: 1250, p99_ns: 1250, max_ns: 1250, share: 0.5 },
  ];
  await page.route('**/api/kernels*', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(rows) }));
  await page.goto(`${BASE_URL}/#/kernels`);
  await page.waitForSelector('.table tbody tr');
  const kinds = await page.$$eval('.table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent.trim()));
  assert.deepEqual(kinds.sort(), ['collective', 'kernel', 'memcpy', 'wait']);
  // Device time is the 10 us of work; the 5 us of waits are not part of it.
  assert.match(await page.textContent('.toolbar'), /10(\.0+)?\s*(us|µs) device time/);
  const collective = await page.textContent('[data-kind-lines] [data-kind="collective"]');
  assert.match(collective, /collectives/);
  assert.match(collective, /30(\.0)?\s*% of device time/);
  assert.match(await page.textContent('[data-kind-lines] [data-kind="wait"]'), /waits .* not device time/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('kernels grouped by device show busy time, balance and open the device flame graph', async () => {
  const res = await fetch(`${BASE_URL}/api/kernels?group=device`);
  const devices = await res.json();
  assert.ok(devices.length >= 1 && typeof devices[0].busy_ns === 'number', 'device rows carry busy_ns');
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/kernels`);
  await page.waitForSelector('.table tbody tr');
  await page.getByRole('button', { name: 'By device' }).click();
  await page.waitForFunction(() => location.hash.includes('group=device'));
  await page.waitForSelector('th:has-text("Busy")');
  const names = await page.$$eval('.table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
  assert.deepEqual([...names].sort(), devices.map((d) => d.name).sort());
  if (devices.length > 1) {
    const busy = devices.map((d) => d.busy_ns);
    const expected = (Math.max(...busy) - Math.min(...busy)) / Math.max(...busy);
    const text = await page.textContent('[data-imbalance]');
    assert.ok(text.includes(`${(expected * 100).toFixed(1)}`), `"${text}" shows ${expected}`);
  }
  await page.click('.table tbody tr');
  await page.waitForFunction(() => location.hash.startsWith('#/flame') && location.hash.includes('device='));
  assert.deepEqual(problems, []);
  await page.close();
});

test('status says in words what each clock and merged input was aligned to, and its residual error', async () => {
  const { page, problems } = await openPage(browser.context);
  // The documented /api/status shape of a live profiler (TSC host clock, msPTI device clock)
  // serving `huoyan serve rank0.sqlite rank1.json`.
  const real = await (await fetch(`${BASE_URL}/api/status`)).json();
  const status = {
    ...real,
    clock: [
      { domain: 'tsc', offset_ns: -266149000000000, uncertainty_ns: 20, ns_per_tick: 0.4089 },
      { domain: 'mspti', offset_ns: -1765112344123456789, uncertainty_ns: 310, ns_per_tick: 1 },
      { domain: 'npu', offset_ns: -1234, uncertainty_ns: null, ns_per_tick: 1 },
    ],
    inputs: [
      { index: 0, rank: '0', file: 'rank0.sqlite', clock: 'Nsight Systems session', offset_ns: 1696392839587175550,
        basis: 'TARGET_INFO_SESSION_START_TIME.utcEpochNs', unaligned: null },
      { index: 1, rank: '1', file: 'rank1.json', clock: '', offset_ns: null, basis: '', unaligned: 'no sync info (no baseTimeNanoseconds)' },
    ],
    timeline: null,
  };
  await page.route('**/api/status', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(status) }));
  await page.goto(`${BASE_URL}/#/status`);
  await page.waitForSelector('.merged-inputs li');
  const text = async (sel) => (await page.textContent(sel)).replace(/\s+/g, ' ').trim();

  // The TSC: a rate and an error bound, not a meaningless offset.
  const tsc = await text('.clock-panel li[data-domain="tsc"]');
  assert.match(tsc, /CPU cycle counter \(TSC\): ticking at 2\.446 GHz, converted onto the profiler's clock \(CLOCK_MONOTONIC\)\./);
  assert.match(tsc, /Residual error ≤ 20 ns/);
  assert.doesNotMatch(tsc, /266/);
  const mspti = await text('.clock-panel li[data-domain="mspti"]');
  assert.match(mspti, /msPTI.*moved −1 765 112 344\.123 s onto the profiler's clock \(CLOCK_MONOTONIC\)\./);
  assert.match(mspti, /Residual error ≤ 310 ns/);
  const npu = await text('.clock-panel li[data-domain="npu"]');
  assert.match(npu, /The npu clock: moved −1\.23 µs onto/);
  assert.match(npu, /Residual error: none known\./);

  const rows = await page.$$eval('.merged-inputs li', (lis) =>
    lis.map((li) => ({ unaligned: li.classList.contains('unaligned'), text: li.textContent.replace(/\s+/g, ' ').trim() })));
  assert.equal(rows.length, 2);
  assert.match(rows[0].text, /^rank 0 · rank0\.sqlite — Its Nsight Systems session clock moved \+1 696 392 839\.587 s onto the Unix epoch \(basis: TARGET_INFO_SESSION_START_TIME\.utcEpochNs\)\./);
  assert.match(rows[0].text, /Residual error: none known/);
  assert.equal(rows[0].unaligned, false);
  assert.match(rows[1].text, /^rank 1 · rank1\.json — not aligned: no sync info \(no baseTimeNanoseconds\)\. Its times keep its clock/);
  assert.equal(rows[1].unaligned, true);
  assert.match(await page.textContent('.merged-inputs'), /Not every input could be aligned/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('requests table pages through the server with offset and limit', async () => {
  const all = (await (await fetch(`${BASE_URL}/api/requests?sort=id&limit=10000`)).json()).requests.map((r) => r.id);
  assert.ok(all.length > 10, `the test trace has more than one page of 10 (${all.length} requests)`);
  const { page, problems } = await openPage(browser.context);
  const ids = () => page.$$eval('.table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
  await page.goto(`${BASE_URL}/#/requests?sort=id&rows=10`);
  await page.waitForSelector('.table tbody tr');
  assert.deepEqual(await ids(), all.slice(0, 10));
  const range = async () => (await page.textContent('[data-range]')).replace(/\s+/g, ' ').trim();
  assert.match(await range(), new RegExp(`^rows 1–10 of ${all.length} requests`));
  assert.ok(await page.getByRole('button', { name: 'Previous page' }).isDisabled());

  const next = page.waitForRequest((r) => r.url().includes('/api/requests') && r.url().includes('offset=10') && r.url().includes('limit=10'));
  await page.getByRole('button', { name: 'Next page' }).click();
  await next;
  await page.waitForFunction(() => location.hash.includes('offset=10'));
  await page.waitForFunction((first) => document.querySelector('.table tbody tr td')?.textContent.trim() === first, all[10]);
  assert.deepEqual(await ids(), all.slice(10, 20));
  assert.match(await range(), new RegExp(`^rows 11–${Math.min(20, all.length)} of ${all.length} requests`));
  assert.match(await page.textContent('.pager'), /page 2 of/);

  // Back walks to the previous page; a new order starts at the first page again.
  await page.goBack();
  await page.waitForFunction((first) => document.querySelector('.table tbody tr td')?.textContent.trim() === first, all[0]);
  await page.getByRole('button', { name: 'Last page' }).click();
  await page.waitForFunction(() => location.hash.includes('offset='));
  await page.click('th:has-text("Steps")');
  await page.waitForFunction(() => location.hash.includes('sort=-steps') && !location.hash.includes('offset='));
  await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"]')?.textContent.includes('Steps'));
  // A bigger page size shows more rows per page (all of them, on a small trace).
  await page.selectOption('select[aria-label="Rows per page"]', '200');
  await page.waitForFunction((n) => document.querySelectorAll('.table tbody tr').length === n, Math.min(200, all.length));
  if (all.length <= 200) assert.equal(await page.$('.pager'), null);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the header draws 火眼 as outlines, with no text that needs a CJK font', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/status`);
  await page.waitForSelector('.brand svg.brand-logo');
  const logo = await page.$eval('.brand', (a) => {
    const svg = a.querySelector('svg.brand-logo');
    const box = svg.getBoundingClientRect();
    return {
      paths: [...svg.querySelectorAll('path')].map((p) => ({ glyph: p.dataset.glyph, len: p.getAttribute('d').length, w: p.getBBox().width, h: p.getBBox().height })),
      texts: svg.querySelectorAll('text, tspan').length,
      label: svg.getAttribute('aria-label'),
      w: box.width,
      h: box.height,
      fill: getComputedStyle(svg).fill,
      headerText: document.querySelector('.topbar').textContent,
    };
  });
  assert.deepEqual(logo.paths.map((p) => p.glyph), ['火', '眼']);
  for (const p of logo.paths) assert.ok(p.len > 200 && p.w > 800 && p.h > 700, `glyph ${p.glyph} has an outline: ${JSON.stringify(p)}`);
  assert.equal(logo.texts, 0);
  assert.equal(logo.label, '火眼');
  assert.ok(logo.w >= 30 && logo.h >= 15, `drawn at ${logo.w}×${logo.h}`);
  assert.notEqual(logo.fill, 'none');
  assert.doesNotMatch(logo.headerText, /[\u3400-\u9fff]/, 'no CJK text left for a font to render');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the diagnosis says what it rests on: window, peaks and the knob rules that stayed quiet', async () => {
  const { page, problems } = await openPage(browser.context, { allow404: ['/api/diagnosis'] });
  await page.goto(`${BASE_URL}/#/diagnosis`);
  await page.waitForSelector('.findings, .state-empty, .state-info', { timeout: 15000 });
  if (await page.$('.state-info')) return page.close(); // a server without the analysis
  const basis = await page.$eval('[data-window]', (e) => e.textContent);
  assert.match(basis, /whole profile|last \d+ of \d+ steps|整个 profile|最近/);
  const api = (await apiGet('/api/diagnosis')).body;
  const peaks = await page.$$eval('[data-peak]', (rows) => rows.map((r) => r.textContent));
  assert.equal(peaks.length, api.peaks.length);
  for (const [i, p] of api.peaks.entries()) assert.ok(peaks[i].includes(p.device), `peak row names ${p.device}`);
  const quiet = await page.$$eval('[data-quiet] li', (items) => items.map((li) => li.dataset.rule));
  assert.deepEqual(quiet, api.quiet.map((q) => q.id));
  assert.ok(quiet.length > 0, 'a knob rule was checked and stayed quiet');
  assert.deepEqual(problems, []);
  await page.close();
});
