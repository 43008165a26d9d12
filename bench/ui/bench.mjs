#!/usr/bin/env node
// Web UI at scale: huoyan's flame graph and timeline against the speedscope app, on the same
// generated LLM serving trace, in headless Chromium, in one run.
//
//   cd bench/ui && npm ci && node bench.mjs --huoyan ../../build/huoyan
//   node bench.mjs --events 1000000,10000000 --timeout 300 --json /tmp/ui-bench.json
//   node bench.mjs --smoke          # 50 k events, bounded waits: checks the bench itself
//   node bench.mjs --before /tmp/old/huoyan   # also an older huoyan binary, in the same run
//   --no-speedscope / --no-huoyan    # one side only
//
// Per size: the trace is generated once into --dir (kept for later runs). huoyan: `huoyan
// serve` is started and navigation begins once /api/status answers; first flame graph and
// first timeline are timed on a cold visit (the server may still be filling its caches) and a
// warm one, then the timeline is dragged back and forth (whole trace, then a 1/200 window).
// speedscope: its release app is served next to the trace file, opened with
// #profileURL=, timed to its first rendered profile, zoomed to the same 1/200 window (it
// cannot pan its whole view) and dragged the same way. Every wait is bounded by --timeout; a
// failure is a result, not an abort.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../../web/tests/chromium.mjs';
import { generate } from './gen_trace.mjs';
import { frameStats, installProbe } from './probe.mjs';
import { serveStatic } from './static_server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// playwright-core from this folder's node_modules (`npm ci`), else from the folder named by
// HUOYAN_NODE_MODULES: the web build's, which the ctest smoke run (no speedscope) uses.
async function playwrightChromium() {
  try {
    return (await import('playwright-core')).chromium;
  } catch (e) {
    const dir = process.env.HUOYAN_NODE_MODULES;
    if (!dir) throw e;
    return (await import(pathToFileURL(path.join(dir, 'playwright-core/index.mjs')).href)).chromium;
  }
}

function options(argv) {
  const o = { huoyan: path.join(here, '../../build/huoyan'), before: '', events: '1000000,10000000', dir: '/tmp/huoyan-ui-bench', timeout: 300, pan: 6, json: '', speedscope: true, huoyanRuns: true, smoke: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-speedscope') o.speedscope = false;
    else if (a === '--no-huoyan') o.huoyanRuns = false;
    else if (a === '--smoke') o.smoke = true;
    else if (['--huoyan', '--before', '--events', '--dir', '--timeout', '--pan', '--json'].includes(a)) o[a.slice(2)] = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (o.smoke) Object.assign(o, { events: '50000', timeout: Math.min(Number(o.timeout), 40), pan: 2 });
  o.sizes = String(o.events).split(',').map(Number);
  o.timeout = Number(o.timeout);
  o.pan = Number(o.pan);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('bench:', ...a);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function traceFor(o, n) {
  fs.mkdirSync(o.dir, { recursive: true });
  const file = path.join(o.dir, `llm-${n}.json`);
  if (!fs.existsSync(file)) {
    const t0 = Date.now();
    const r = generate({ events: n, out: file, seed: 7 });
    log(`generated ${file}: ${r.events} events, ${(r.bytes / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}

// Waits until `page` has the mark, at most `ms`; the mark's time, or an error text. Polls from
// here with bounded calls: a renderer stuck in a long synchronous parse answers nothing, and
// Playwright's own timeouts then wait for it too.
async function waitMark(page, name, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (page.isClosed()) return { error: 'page crashed' };
    const left = Math.max(1000, deadline - Date.now());
    const v = await withTimeout(page.evaluate((n) => window.__bench && window.__bench.marks[n], name), left, 'poll').catch(() => undefined);
    if (typeof v === 'number') return { ms: v };
    await sleep(100);
  }
  if (page.isClosed()) return { error: 'page crashed' };
  const errors = await withTimeout(page.evaluate(() => window.__bench.errors), 5000, 'reading page errors').catch(() => []);
  return { error: errors.length ? `failed: ${errors[0]}` : `did not render within ${Math.round(ms / 1000)} s` };
}

async function openProbed(context) {
  const page = await context.newPage();
  await page.addInitScript(installProbe);
  const crashed = new Promise((r) => page.on('crash', () => r('crashed')));
  return { page, crashed };
}

// Server-side part of a first draw: the API call's time to first byte and to its last byte.
async function apiTiming(page, part) {
  return page.evaluate((p) => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.includes(p));
    return e ? { ttfb_ms: e.responseStart - e.startTime, total_ms: e.responseEnd - e.startTime, bytes: e.encodedBodySize } : null;
  }, part);
}

// Drags from (x, y) back and forth ±300 px for `seconds`, as fast as the page takes the
// moves, holding still for 200 ms every second (a pause in a real pan: huoyan fetches the new
// range then, and its answer lands inside the measured period).
// Also reports how busy the page's main thread was (Chrome's TaskDuration over the period).
async function dragPan(page, x, y, seconds) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  await page.mouse.move(x, y);
  await page.mouse.down();
  const busy0 = await busy();
  await page.evaluate(() => window.__bench.meter.start());
  const end = Date.now() + seconds * 1000;
  let px = x;
  let dir = -1;
  let hold = Date.now() + 1000;
  while (Date.now() < end) {
    px += dir * 8;
    if (px < x - 300 || px > x + 300) dir = -dir;
    await page.mouse.move(px, y);
    if (Date.now() > hold) {
      await sleep(200);
      hold = Date.now() + 1000;
    }
  }
  const r = await page.evaluate(() => window.__bench.meter.stop());
  const busy1 = await busy();
  await page.mouse.up();
  await cdp.detach();
  return { ...frameStats(r), main_thread_busy: (busy1 - busy0) / (r.ms / 1000) };
}

// The promise, or a rejection after `ms`; a late settlement of the promise is ignored.
async function withTimeout(promise, ms, what) {
  promise.catch(() => {});
  let t;
  const timer = new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms)));
  try {
    return await Promise.race([promise, timer]);
  } finally {
    clearTimeout(t);
  }
}

async function benchHuoyan(o, context, trace, binary) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  const server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, trace], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const r = { app: 'huoyan' };
  try {
    for (;;) {
      if (server.exitCode !== null) throw new Error(`huoyan serve exited (${server.exitCode}): ${stderr.trim()}`);
      if (Date.now() - t0 > o.timeout * 1000) throw new Error(`huoyan serve not ready within ${o.timeout} s`);
      try {
        if ((await fetch(`${base}/api/status`)).ok) break;
      } catch {
        // still loading
      }
      await sleep(100);
    }
    r.load_s = (Date.now() - t0) / 1000;
    log(`huoyan serve ready in ${r.load_s.toFixed(1)} s`);
    for (const visit of ['cold', 'warm']) {
      const f = await openProbed(context);
      await f.page.goto(`${base}/#/flame`);
      r[`flame_${visit}`] = await waitMark(f.page, 'flame', o.timeout * 1000);
      r[`flame_${visit}`].api = await apiTiming(f.page, '/api/flamegraph');
      await f.page.close();
      const t = await openProbed(context);
      await t.page.goto(`${base}/#/timeline`);
      r[`timeline_${visit}`] = await waitMark(t.page, 'timeline', o.timeout * 1000);
      r[`timeline_${visit}`].api = await apiTiming(t.page, '/api/timeline');
      if (visit === 'cold') await t.page.close();
      else r.timelinePage = t.page;
      log(`huoyan ${visit}: flame ${JSON.stringify(r[`flame_${visit}`])}, timeline ${JSON.stringify(r[`timeline_${visit}`])}`);
    }
    const page = r.timelinePage;
    delete r.timelinePage;
    const box = await page.locator('.tl-canvas').boundingBox();
    await sleep(500);
    r.pan_whole = await dragPan(page, box.x + box.width * 0.6, box.y + 120, o.pan);
    log(`huoyan pan (whole trace): ${JSON.stringify(r.pan_whole)}`);
    // A 1/200 window in the middle of the trace: the zoom at which steps and kernels show.
    const { start_ns: s, end_ns: e } = await (await fetch(`${base}/api/timeline?width=1`)).json();
    const span = BigInt(e) - BigInt(s);
    const from = BigInt(s) + span / 2n;
    await page.goto(`${base}/#/timeline?from=${from}&to=${from + span / 200n}`);
    await page.reload();
    await waitMark(page, 'timeline', o.timeout * 1000);
    await sleep(800);
    r.pan_zoomed = await dragPan(page, box.x + box.width * 0.6, box.y + 120, o.pan);
    log(`huoyan pan (1/200 window): ${JSON.stringify(r.pan_zoomed)}`);
    await page.close();
  } catch (e) {
    r.error = e.message;
    log(`huoyan: ${e.message}`);
  } finally {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((res) => (server.exitCode !== null ? res() : server.on('exit', res)));
  }
  return r;
}

async function benchSpeedscope(o, context, trace) {
  const root = path.join(here, 'node_modules/speedscope/dist/release');
  const srv = await serveStatic(root, trace);
  const r = { app: 'speedscope' };
  const { page, crashed } = await openProbed(context);
  try {
    await page.goto(`${srv.url}/index.html#profileURL=${encodeURIComponent(`${srv.url}/trace.json`)}`);
    const first = await Promise.race([waitMark(page, 'title', o.timeout * 1000), crashed.then(() => ({ error: 'page crashed (out of memory?)' }))]);
    r.first = first;
    log(`speedscope first render: ${JSON.stringify(first)}`);
    if (first.ms !== undefined) {
      const vp = page.viewportSize();
      await sleep(500);
      // It cannot pan the whole profile; zoom to 1/200 around the middle like huoyan's window:
      // three ctrl+wheel steps of 200^(-1/3) each (speedscope zooms by 1 + deltaY / 40).
      await page.mouse.move(vp.width / 2, vp.height * 0.6);
      await page.keyboard.down('Control');
      for (let i = 0; i < 3; i++) await page.mouse.wheel(0, 40 * (Math.cbrt(1 / 200) - 1));
      await page.keyboard.up('Control');
      await sleep(800);
      r.pan = await withTimeout(dragPan(page, vp.width * 0.6, vp.height * 0.6, o.pan), o.timeout * 1000, 'speedscope pan');
      log(`speedscope pan: ${JSON.stringify(r.pan)}`);
    }
  } catch (e) {
    r.error = e.message;
    log(`speedscope: ${e.message}`);
  } finally {
    await withTimeout(page.close(), 30000, 'closing the page').catch(() => {});
    await srv.close();
  }
  return r;
}

const fmtMs = (m) => (!m ? '—' : m.error ? m.error : m.ms >= 10000 ? `${(m.ms / 1000).toFixed(1)} s` : `${Math.round(m.ms)} ms`);
const fmtPan = (p) => (!p ? '—' : `${p.fps.toFixed(1)} fps (median ${p.median_ms.toFixed(1)} ms, p95 ${p.p95_ms.toFixed(1)} ms; main thread ${Math.round(100 * p.main_thread_busy)} % busy)`);

function table(results) {
  const withBefore = results.some((r) => r.before);
  const rows = [`| events | what | huoyan |${withBefore ? ' huoyan before |' : ''} speedscope | speedscope / huoyan |`, `|---:|---|---|${withBefore ? '---|' : ''}---|---:|`];
  const ratio = (h, sp) => (h !== undefined && sp !== undefined ? `${(sp / h).toFixed(1)}×` : '—');
  for (const { n, huoyan: h, before: hb, speedscope: s } of results) {
    const N = n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} k`;
    const sFirst = s && s.first ? s.first.ms : undefined;
    const api = (m) => (m && m.api ? ` (API ${Math.round(m.api.total_ms)} ms)` : '');
    const row = (what, f, sv, r) => rows.push(`| ${N} | ${what} | ${f(h)} |${withBefore ? ` ${hb ? f(hb) : '—'} |` : ''} ${sv} | ${r} |`);
    const total = (x) => (x.load_s && x.flame_cold && x.flame_cold.ms !== undefined ? x.load_s * 1000 + x.flame_cold.ms : undefined);
    row('`huoyan serve` ready (file read)', (x) => (x.load_s ? `${x.load_s.toFixed(1)} s` : x.error), 'part of its first render', '');
    row('first flame graph, first visit', (x) => fmtMs(x.flame_cold) + api(x.flame_cold), s ? fmtMs(s.first) : '—', ratio(h.flame_cold && h.flame_cold.ms, sFirst));
    row('first flame graph, repeat visit', (x) => fmtMs(x.flame_warm) + api(x.flame_warm), '', '');
    row('first timeline, first visit', (x) => fmtMs(x.timeline_cold) + api(x.timeline_cold), s ? fmtMs(s.first) : '—', ratio(h.timeline_cold && h.timeline_cold.ms, sFirst));
    row('first timeline, repeat visit', (x) => fmtMs(x.timeline_warm) + api(x.timeline_warm), '', '');
    row('file → first flame graph (read + first visit)', (x) => (total(x) !== undefined ? fmtMs({ ms: total(x) }) : '—'), s ? fmtMs(s.first) : '—', ratio(total(h), sFirst));
    row('pan, whole trace', (x) => fmtPan(x.pan_whole), '(cannot pan unzoomed)', '');
    row('pan, 1/200 of the trace', (x) => fmtPan(x.pan_zoomed), s ? (s.pan ? fmtPan(s.pan) : s.error || '—') : '—', s && s.pan && h.pan_zoomed ? `${(s.pan.fps / h.pan_zoomed.fps).toFixed(2)} (fps)` : '—');
  }
  return rows.join('\n');
}

const o = options(process.argv.slice(2));
if (!fs.existsSync(o.huoyan)) throw new Error(`no huoyan binary at ${o.huoyan} (give --huoyan PATH)`);
const { context, close } = await launchChromium(await playwrightChromium(), { args: ['--enable-unsafe-swiftshader'] });
const results = [];
log(`load average at the start: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} cores)`);
try {
  for (const n of o.sizes) {
    const trace = traceFor(o, n);
    const entry = { n, trace, bytes: fs.statSync(trace).size };
    if (o.huoyanRuns && o.before) entry.before = await benchHuoyan(o, context, trace, o.before);
    entry.huoyan = o.huoyanRuns ? await benchHuoyan(o, context, trace, o.huoyan) : { app: 'huoyan', error: 'not run' };
    if (o.speedscope) entry.speedscope = await benchSpeedscope(o, context, trace);
    results.push(entry);
  }
} finally {
  await withTimeout(close(), 60000, 'closing the browser').catch((e) => log(e.message));
}
if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 2));
console.log(table(results));
console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} cores)`);
// Smoke mode checks the bench works end to end: huoyan must have drawn both views and panned.
if (o.smoke) {
  const h = results[0].huoyan;
  const ok = !h.error && h.flame_cold.ms !== undefined && h.timeline_cold.ms !== undefined && h.pan_whole.frames > 10 && h.pan_whole.views > 10;
  process.exit(ok ? 0 : 1);
}
