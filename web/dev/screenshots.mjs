// Screenshots of every tab for visual review: HUOYAN_URL=... node dev/screenshots.mjs [outdir]
import fs from 'node:fs';
import { BASE_URL, launch, openPage, someRequest } from '../tests/helpers.mjs';

const out = process.argv[2] || 'test-output';
fs.mkdirSync(out, { recursive: true });
const { context, close } = await launch();
const { page, problems } = await openPage(context);
const req = await someRequest();
const shots = [
  ['flame', `#/flame?request=${req}&search=Int4Gemm`, '.flamechart[data-state="ready"]'],
  ['flame-zoom', `#/flame?request=${req}&focus=step;forward&view=icicle`, '.flamechart[data-state="ready"]'],
  ['timeline', '#/timeline', '.tl-canvas[data-drawn]'],
  ['kernels', '#/kernels', '.table'],
  ['requests', '#/requests', '.table'],
  ['diagnosis', '#/diagnosis', '.findings'],
  ['status', '#/status', '.cards'],
];
for (const [name, hash, sel] of shots) {
  await page.goto(`${BASE_URL}/${hash}`);
  await page.waitForSelector(sel, { timeout: 15000 });
  await page.waitForTimeout(700);
  await page.screenshot({ path: `${out}/${name}.png` });
  console.log(`${out}/${name}.png`);
}
if (problems.length) console.log('console problems:\n' + problems.join('\n'));
await close();
