// Names come from traces and are untrusted: they must display as text.
// The served trace must contain a kernel with this exact name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, api, flameReady, launch, openPage } from './helpers.mjs';

const XSS = '<img src=x onerror=alert(1)>';
let browser;
before(async () => (browser = await launch()));
after(() => browser && browser.close());

function pathTo(node, name, path = []) {
  if (node.name === name) return path;
  for (const c of node.children || []) {
    const p = pathTo(c, name, [...path, c.name]);
    if (p) return p.length ? p : null;
  }
  return null;
}

test('a kernel named like markup renders literally everywhere', async () => {
  const { body: kernels } = await api('/api/kernels');
  assert.ok(kernels.some((k) => k.name === XSS), `the served trace must include a kernel named ${XSS}`);
  const { body: tree } = await api('/api/flamegraph?mode=shared&max_nodes=20000');
  const path = pathTo(tree, XSS);
  assert.ok(path, 'the kernel is in the whole-profile flame graph');

  const { page, dialogs, problems } = await openPage(browser.context, { allow404: ['/api/diagnosis'] });
  const focus = path.map((n) => n.replace(/[\\;]/g, (c) => `\\${c}`)).join(';');
  await page.goto(`${BASE_URL}/#/flame?${new URLSearchParams({ focus, search: XSS })}`);
  await flameReady(page);
  // Zoomed to it, the frame is wide enough to carry its label.
  const label = await page.$$eval('.flamechart g.frame', (gs, n) => gs.filter((g) => g.getAttribute('name') === n).map((g) => g.querySelector('.d3-flame-graph-label').textContent), XSS);
  assert.ok(label.includes(XSS), `label text is the literal name (${JSON.stringify(label)})`);
  const idx = await page.$$eval('.flamechart g.frame', (gs, n) => gs.findIndex((g) => g.getAttribute('name') === n), XSS);
  await page.locator('.flamechart g.frame').nth(idx).hover();
  await page.waitForSelector('.floattip .tip-title');
  assert.equal(await page.textContent('.floattip .tip-title'), XSS);
  assert.ok((await page.textContent('.search-summary')).includes(XSS));

  for (const tab of ['kernels', 'timeline', 'diagnosis']) {
    await page.click(`.tab[data-tab="${tab}"]`);
    await page.waitForTimeout(600);
  }
  await page.click('.tab[data-tab="kernels"]');
  await page.waitForSelector('.table');
  const cells = await page.$$eval('.table td', (tds) => tds.map((td) => td.textContent.trim()));
  assert.ok(cells.includes(XSS), 'kernels table shows the literal name');

  assert.equal(await page.$$eval('img', (x) => x.length), 0, 'no <img> element was created');
  assert.deepEqual(dialogs, [], 'no dialog fired');
  assert.deepEqual(problems, []);
  await page.close();
});
