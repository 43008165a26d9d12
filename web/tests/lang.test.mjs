// The header's en/zh switch of the served UI: the diagnosis is fetched again in the chosen
// language, and the choice is remembered across reloads (localStorage).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, api, launch, openPage } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser && browser.close());

const LOADED = '.findings, .state-empty, .state-info';
const titles = (page) => page.$$eval('.finding-title', (hs) => hs.map((h) => h.textContent));

test('the language switch refetches the diagnosis in Chinese and is remembered', async () => {
  const { page, problems } = await openPage(browser.context, { allow404: ['/api/diagnosis'] });
  const first = page.waitForRequest((r) => r.url().includes('/api/diagnosis?lang=en'));
  await page.goto(`${BASE_URL}/#/diagnosis`);
  await first;
  await page.waitForSelector(LOADED);
  assert.equal(await page.getAttribute('.lang-switch [data-lang="en"]', 'aria-pressed'), 'true');

  const zh = page.waitForRequest((r) => r.url().includes('/api/diagnosis?lang=zh'));
  await page.click('.lang-switch [data-lang="zh"]');
  await zh;
  assert.equal(await page.evaluate(() => localStorage.getItem('huoyan.lang')), 'zh');
  const { status, body } = await api('/api/diagnosis?lang=zh');
  const findings = status === 200 ? body.findings : [];
  if (findings.length) {
    await page.waitForFunction((t) => document.querySelector('.finding-title')?.textContent === t, findings[0].title);
    assert.deepEqual(await titles(page), findings.map((f) => f.title));
    // The basis follows the switch too.
    await page.waitForFunction(() => document.querySelector('[data-window]')?.textContent.includes('分析范围'));
  }

  const again = page.waitForRequest((r) => r.url().includes('/api/diagnosis?lang=zh'));
  await page.reload();
  await again;
  assert.equal(await page.getAttribute('.lang-switch [data-lang="zh"]', 'aria-pressed'), 'true');
  await page.click('.lang-switch [data-lang="en"]');
  assert.equal(await page.evaluate(() => localStorage.getItem('huoyan.lang')), 'en');
  assert.deepEqual(problems, []);
  await page.close();
});
