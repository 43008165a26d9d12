// Flame graph tab against a live server: frames must match /api/flamegraph.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, api, flameReady, frameWidths, launch, openPage, someRequest } from './helpers.mjs';

let browser;
let req;
before(async () => {
  browser = await launch();
  req = await someRequest();
});
after(() => browser && browser.close());

function sumsByName(root) {
  const m = new Map();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    const e = m.get(n.name) || { value: 0, nodes: 0 };
    e.value += n.value;
    e.nodes += 1;
    m.set(n.name, e);
    stack.push(...(n.children || []));
  }
  return m;
}

const pct = (f) => `${(f * 100).toFixed(1)} %`;

test('typing a request ID (autocomplete) draws frames proportional to the API values', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/flame`);
  const input = page.getByRole('combobox', { name: 'Request ID' });
  await input.fill(req.slice(0, Math.max(3, req.length - 2)));
  await page.getByRole('option').filter({ hasText: req }).first().click();
  await page.waitForFunction((id) => location.hash.includes(`request=${encodeURIComponent(id)}`), req);
  await flameReady(page);

  const { status, body: tree } = await api(`/api/flamegraph?request_id=${encodeURIComponent(req)}&mode=shared&max_nodes=20000`);
  assert.equal(status, 200);
  const frames = await frameWidths(page);
  const root = frames.find((f) => f.name === tree.name);
  assert.ok(root && root.w > 500, 'root frame spans the chart');
  const api_ = sumsByName(tree);
  for (const f of frames) assert.ok(api_.has(f.name), `frame "${f.name}" is not in /api/flamegraph`);
  let checked = 0;
  for (const [name, { value, nodes }] of api_) {
    const expected = (value / tree.value) * root.w;
    if (expected < 3) continue;
    const drawn = frames.filter((f) => f.name === name).reduce((s, f) => s + f.w, 0);
    assert.ok(Math.abs(drawn - expected) <= nodes * 1.01 + 0.5, `${name}: drawn ${drawn.toFixed(1)} px, expected ${expected.toFixed(1)} px`);
    checked++;
  }
  assert.ok(checked >= 3, 'at least three distinct frames compared');
  assert.deepEqual(problems, []);
  await page.close();
});

test('search highlights matches and shows their share of the total', async () => {
  const { body: kernels } = await api(`/api/kernels?request_id=${encodeURIComponent(req)}`);
  const term = kernels.slice().sort((a, b) => b.total_ns - a.total_ns)[0].name;
  const { body: tree } = await api(`/api/flamegraph?request_id=${encodeURIComponent(req)}&mode=shared&max_nodes=20000`);
  // Expected share: matching frames, not counting a match nested in a match.
  let sum = 0;
  const walk = (n, under) => {
    const hit = n.name.toLowerCase().includes(term.toLowerCase());
    if (hit && !under) sum += n.value;
    (n.children || []).forEach((c) => walk(c, under || hit));
  };
  walk(tree, false);

  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/flame?request=${encodeURIComponent(req)}`);
  await flameReady(page);
  const plain = new Map((await frameWidths(page)).map((f) => [f.name, f.fill]));
  await page.getByRole('searchbox', { name: 'Search frames' }).fill(term);
  await page.waitForSelector('.search-summary');
  await flameReady(page);
  const summary = (await page.textContent('.search-summary')).replace(/\s+/g, ' ');
  assert.ok(summary.includes(`${term}: ${pct(sum / tree.value)} of`), `summary "${summary}"`);
  const frames = await frameWidths(page);
  const hits = frames.filter((f) => f.name.toLowerCase().includes(term.toLowerCase()));
  assert.ok(hits.length > 0);
  const hl = hits[0].fill;
  for (const f of hits) {
    assert.equal(f.fill, hl, `${f.name} has the highlight colour`);
    assert.notEqual(f.fill, plain.get(f.name), `${f.name} changed colour when matched`);
  }
  for (const f of frames.filter((x) => !hits.includes(x))) {
    assert.notEqual(f.fill, hl, `${f.name} is not highlighted`);
    assert.equal(f.fill, plain.get(f.name), `${f.name} kept its colour`);
  }
  assert.ok(page.url().includes(`search=${encodeURIComponent(term)}`), 'search is in the URL');
  assert.deepEqual(problems, []);
  await page.close();
});

test('clicking a frame zooms with a breadcrumb; back and reset restore the view', async () => {
  const { body: tree } = await api(`/api/flamegraph?request_id=${encodeURIComponent(req)}&mode=shared&max_nodes=20000`);
  const child = tree.children.slice().sort((a, b) => b.value - a.value)[0];
  const grand = (child.children || []).slice().sort((a, b) => b.value - a.value)[0];
  assert.ok(grand, 'the largest top-level frame has children');

  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/flame?request=${encodeURIComponent(req)}`);
  await flameReady(page);
  const before = await frameWidths(page);
  const rootW = before.find((f) => f.name === tree.name).w;
  const grandW = Math.max(...before.filter((f) => f.name === grand.name).map((f) => f.w));

  const clickWidest = async (name) => {
    const idx = await page.$$eval('.flamechart g.frame', (gs, n) => {
      let best = -1;
      let bw = -1;
      gs.forEach((g, i) => {
        const w = Number(g.querySelector('rect').getAttribute('width'));
        if (g.getAttribute('name') === n && w > bw) [best, bw] = [i, w];
      });
      return best;
    }, name);
    await page.locator('.flamechart g.frame').nth(idx).click();
    await flameReady(page);
  };
  await clickWidest(child.name);
  await clickWidest(grand.name);
  const crumbs = await page.$$eval('.crumbs .crumb', (bs) => bs.map((b) => b.textContent.trim()));
  assert.deepEqual(crumbs, [tree.name, child.name, grand.name]);
  const zoomed = await frameWidths(page);
  const g = Math.max(...zoomed.filter((f) => f.name === grand.name).map((f) => f.w));
  assert.ok(Math.abs(g - rootW) < 2, `zoomed frame fills the width (${g} vs ${rootW})`);

  await page.goBack();
  await page.waitForFunction(() => document.querySelectorAll('.crumbs .crumb').length === 2);
  await flameReady(page);

  await page.getByRole('button', { name: 'Reset zoom' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.crumbs .crumb').length === 1);
  await flameReady(page);
  const after = await frameWidths(page);
  const grandAfter = Math.max(...after.filter((f) => f.name === grand.name).map((f) => f.w));
  assert.ok(Math.abs(grandAfter - grandW) < 1, 'reset restores the original widths');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a deep link restores request, search, zoom, mode and orientation', async () => {
  const { body: tree } = await api(`/api/flamegraph?request_id=${encodeURIComponent(req)}&mode=apportioned&max_nodes=20000`);
  const child = tree.children.slice().sort((a, b) => b.value - a.value)[0];
  const { body: kernels } = await api(`/api/kernels?request_id=${encodeURIComponent(req)}`);
  const term = kernels[0].name;
  const focus = child.name.replace(/[\\;]/g, (c) => `\\${c}`);
  const q = new URLSearchParams({ request: req, search: term, focus, mode: 'apportioned', view: 'icicle' });

  const { page, problems } = await openPage(browser.context);
  const flameReq = page.waitForRequest((r) => r.url().includes('/api/flamegraph') && r.url().includes('mode=apportioned'));
  await page.goto(`${BASE_URL}/#/flame?${q}`);
  await flameReq;
  await flameReady(page);
  assert.equal(await page.inputValue('.picker-input'), req);
  assert.equal(await page.getByRole('searchbox', { name: 'Search frames' }).inputValue(), term);
  assert.deepEqual(await page.$$eval('.crumbs .crumb', (bs) => bs.map((b) => b.textContent.trim())), [tree.name, child.name]);
  assert.equal(await page.textContent('.seg button.on >> nth=0'), 'Apportioned');
  assert.equal((await page.textContent('.seg button.on >> nth=1')).trim(), 'Icicle');
  await page.waitForSelector('.search-summary');
  // Icicle: the root is the top row.
  const rootY = await page.$eval(`.flamechart g.frame[name="${tree.name}"]`, (g) => g.getBoundingClientRect().top);
  const childY = await page.$eval(`.flamechart g.frame[name="${child.name}"]`, (g) => g.getBoundingClientRect().top);
  assert.ok(rootY < childY, 'icicle puts the root on top');
  assert.deepEqual(problems, []);
  await page.close();
});

test('an unknown request ID shows the server message', async () => {
  const bad = 'no-such-request-zz9';
  const { status, body } = await api(`/api/flamegraph?request_id=${bad}`);
  assert.equal(status, 404);
  const { page } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/flame`);
  await page.waitForSelector('.flamechart, .state');
  const input = page.getByRole('combobox', { name: 'Request ID' });
  await input.fill(bad);
  await input.press('Enter');
  const msg = await page.waitForSelector('.state-error');
  const text = await msg.textContent();
  assert.ok(text.includes(body.error), `"${text}" shows "${body.error}"`);
  assert.equal(await page.$('.flamechart'), null, 'no stale chart is left behind');
  await page.close();
});

test('comparing two requests colours frames by change and shows both values', async () => {
  const { body: list } = await api('/api/requests?limit=2&sort=-device_ns');
  assert.ok(list.requests.length >= 2, 'two requests to compare');
  const [a, b] = list.requests.map((r) => r.id);
  const q = `request_id=${encodeURIComponent(a)}&baseline_request_id=${encodeURIComponent(b)}&mode=shared&max_nodes=20000`;
  const { status, body: diff } = await api(`/api/flamegraph/diff?${q}`);
  assert.equal(status, 200);
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/flame?request=${encodeURIComponent(a)}&vs=${encodeURIComponent(b)}`);
  await flameReady(page);
  await page.waitForSelector('[data-legend="diff"]');
  // Widths come from NEW (request a), colours from the sign of each frame's delta.
  const byName = new Map();
  const stack = [diff];
  while (stack.length) {
    const n = stack.pop();
    if (!byName.has(n.name)) byName.set(n.name, n);
    stack.push(...(n.children || []));
  }
  const hue = (fill) => {
    const m = /hsl\((\d+)/.exec(fill || '');
    return m ? Number(m[1]) : null;
  };
  let coloured = 0;
  for (const f of await frameWidths(page)) {
    const n = byName.get(f.name);
    assert.ok(n, `frame "${f.name}" is in /api/flamegraph/diff`);
    if (f.name === 'all' || n.delta === 0) continue;
    assert.equal(hue(f.fill), n.delta > 0 ? 2 : 215, `${f.name}: delta ${n.delta}, fill ${f.fill}`);
    coloured++;
  }
  assert.ok(coloured > 0 || diff.delta === 0, 'changed frames are coloured');
  // The tooltip gives both values.
  await page.locator('.flamechart svg g.frame').first().hover();
  const tip = await page.waitForSelector('.tip-title');
  const text = await tip.evaluate((el) => el.parentElement.textContent);
  assert.ok(text.includes('base') && text.includes('vs base'), `tooltip "${text}" shows both values`);
  // Leaving the comparison restores the kind colours.
  await page.getByRole('combobox', { name: 'Compare' }).selectOption('');
  await page.waitForFunction(() => !document.querySelector('[data-legend="diff"]'));
  assert.deepEqual(problems, []);
  await page.close();
});

test('the first draw asks for the flame graph only, not the kernel table (its frames carry their kind)', async () => {
  const { page, problems } = await openPage(browser.context);
  const asked = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) asked.push(u.pathname);
  });
  await page.goto(`${BASE_URL}/#/flame`);
  await flameReady(page);
  assert.ok(asked.includes('/api/flamegraph'));
  assert.ok(!asked.includes('/api/kernels'), `asked: ${asked.join(' ')}`);
  // Frames the tree marks `device` get the warm (device) hues, the others the cool ones.
  const { body: tree } = await api('/api/flamegraph?mode=shared&max_nodes=20000');
  const device = new Set();
  const host = new Set();
  const stack = [...(tree.children || [])];
  while (stack.length) {
    const n = stack.pop();
    (n.device ? device : host).add(n.name);
    stack.push(...(n.children || []));
  }
  let checked = 0;
  for (const f of await frameWidths(page)) {
    const hue = Number((/^hsl\((\d+)/.exec(f.fill) || [])[1]);
    if (device.has(f.name) && !host.has(f.name)) assert.ok(hue < 60, `${f.name} (device) is ${f.fill}`);
    else if (host.has(f.name) && !device.has(f.name)) assert.ok(hue > 180, `${f.name} (host) is ${f.fill}`);
    else continue;
    checked++;
  }
  assert.ok(checked >= 3 && device.size > 0 && host.size > 0);
  assert.deepEqual(problems, []);
  await page.close();
});
