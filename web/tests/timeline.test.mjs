// Timeline: draws on a canvas, zooms and pans with new server requests, and
// opens event details on click.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launch, openPage } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser && browser.close());

const viewOf = async (page) => (await page.getAttribute('.tl-canvas', 'data-view')).split(',').map(Number);

test('timeline draws, zooms around the cursor, pans and shows event details', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${BASE_URL}/#/timeline`);
  await page.waitForFunction(() => Number(document.querySelector('.tl-canvas')?.dataset.drawn) > 0, null, { timeout: 15000 });
  assert.equal(await page.$$eval('.tl-canvas ~ *', (x) => x.length), 0, 'no DOM node per event');
  // The bitmap follows devicePixelRatio and is not blank.
  const painted = await page.$eval('.tl-canvas', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 16) if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) n++;
    return { n, ratio: c.width / c.getBoundingClientRect().width, dpr: devicePixelRatio };
  });
  assert.ok(painted.n > 1000, 'canvas has content');
  assert.ok(Math.abs(painted.ratio - painted.dpr) < 0.01, 'canvas resolution matches devicePixelRatio');

  const box = await page.locator('.tl-canvas').boundingBox();
  const [s0, e0] = await viewOf(page);
  const cx = box.x + box.width * 0.6;
  const tAtCursor = s0 + ((cx - box.x - 188) / (box.width - 188)) * (e0 - s0);
  const zoomReq = page.waitForRequest((r) => r.url().includes('/api/timeline') && r.url().includes('start_ns='));
  await page.mouse.move(cx, box.y + 60);
  for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -300);
  await zoomReq;
  const [s1, e1] = await viewOf(page);
  assert.ok(e1 - s1 < (e0 - s0) / 4, 'wheel zoomed in');
  const tAfter = s1 + ((cx - box.x - 188) / (box.width - 188)) * (e1 - s1);
  assert.ok(Math.abs(tAfter - tAtCursor) < (e0 - s0) * 0.002, 'zoom keeps the time under the cursor');
  await page.waitForFunction(() => /from=\d+&to=\d+/.test(location.hash));

  await page.mouse.move(box.x + box.width / 2, box.y + 60);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 200, box.y + 60, { steps: 5 });
  await page.mouse.up();
  const [s2] = await viewOf(page);
  assert.ok(s2 > s1, 'dragging left pans to later time');
  await page.waitForTimeout(400);

  // Find an event on a device track by probing the cursor shape.
  const rows = JSON.parse(await page.getAttribute('.tl-canvas', 'data-tracks'));
  const dev = rows.find((r) => r.kind === 'device') || rows[0];
  let hit = null;
  for (let x = box.x + 200; x < box.x + box.width - 5 && !hit; x += 7) {
    await page.mouse.move(x, box.y + dev.y + 9);
    if ((await page.$eval('.tl-canvas', (c) => c.style.cursor)) === 'pointer') hit = x;
  }
  assert.ok(hit, 'an event under the pointer on a device track');
  const evResp = page.waitForResponse((r) => r.url().includes('/api/event?'));
  await page.mouse.click(hit, box.y + dev.y + 9);
  const ev = await (await evResp).json();
  await page.waitForSelector('.event-panel .event-name');
  assert.equal(await page.textContent('.event-panel .event-name'), ev.name);

  // The zoomed range survives a reload (it lives in the URL).
  const url = page.url();
  const [s3, e3] = await viewOf(page);
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction(() => Number(document.querySelector('.tl-canvas')?.dataset.drawn) > 0);
  await page.waitForTimeout(300);
  const [s4, e4] = await viewOf(page);
  assert.ok(Math.abs(s4 - s3) < 2 && Math.abs(e4 - e3) < 2, `range restored (${s3},${e3} vs ${s4},${e4})`);
  assert.deepEqual(problems, []);
  await page.close();
});
