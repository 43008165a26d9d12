#!/usr/bin/env node
// Development-only stand-in for `huoyan serve`: serves the built UI and JSON
// fixtures that follow the server's API contract, so the UI can be developed
// and its browser tests run before/without the C++ server. CI runs the same
// tests against the real server.
//
//   node dev/fixture-server.mjs [--port 8765] [--dist ../dist] [--steps 400]
//   FIXTURE_NO_DIAGNOSIS=1  → /api/diagnosis answers 404 (server without it)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, DEVICES, XSS_KERNEL, buildTrace, flameTree, kernelStats, timelineSlice } from './fixtures.mjs';
import { diagnosis, status } from './fixture-docs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const port = Number(arg('port', process.env.PORT || 8765));
const dist = path.resolve(arg('dist', process.env.HUOYAN_WEB_DIST || path.join(here, '..', 'dist')));
const steps = Number(arg('steps', process.env.FIXTURE_STEPS || 400));

const trace = buildTrace({ steps });
const allSteps = trace.stepAgg.map((_, i) => i);
const started = Date.now();

class HttpError extends Error {
  constructor(code, msg) {
    super(msg);
    this.code = code;
  }
}

function requestOf(q) {
  const id = q.get('request_id');
  if (!id) return null;
  const r = trace.byId.get(id);
  if (!r) throw new HttpError(404, `unknown request_id '${id}'`);
  return r;
}

function tree(q) {
  const r = requestOf(q);
  const mode = q.get('mode') || 'shared';
  if (mode !== 'shared' && mode !== 'apportioned') throw new HttpError(400, `mode must be shared or apportioned, not '${mode}'`);
  const device = q.get('device') || null;
  if (device && !DEVICES.some((d) => d.id === device)) throw new HttpError(404, `unknown device '${device}'`);
  const w = r && mode === 'apportioned' ? (s) => 1 / trace.stepAgg[s].batch.length : () => 1;
  return flameTree(trace, r ? r.steps : allSteps, w, device);
}

const abs = (rel) => (BASE + BigInt(Math.round(rel))).toString();
const absNum = (rel) => (rel === undefined ? null : Number(BASE + BigInt(Math.round(rel))));

function requestRow(r) {
  return {
    id: r.id,
    arrival_ns: absNum(trace.stepAgg[Math.min(r.arriveStep, trace.stepAgg.length - 1)].start - 5e5),
    first_token_ns: absNum(r.firstTokenT),
    finish_ns: absNum(r.finishT),
    tokens_in: r.tokens_in,
    tokens_out: r.tokens_out,
    steps: r.steps.length,
    device_ns_shared: Math.round(r.device_shared),
    device_ns_apportioned: Math.round(r.device_apportioned),
    host_ns: Math.round(r.host),
  };
}

const SORT_KEYS = { id: 'id', arrival_ns: 'arrival_ns', steps: 'steps', device_ns: 'device_ns_shared', host_ns: 'host_ns', tokens_out: 'tokens_out' };

const api = {
  status: () => status(trace, (Date.now() - started) / 1000),
  devices: () => DEVICES,
  requests(q) {
    const prefix = q.get('prefix') || '';
    const limit = Math.min(10000, Number(q.get('limit') || 100));
    const offset = Math.max(0, Number(q.get('offset') || 0));
    const sort = q.get('sort') || 'id';
    const key = SORT_KEYS[sort.replace(/^-/, '')];
    if (!key) throw new HttpError(400, `unknown sort key '${sort}'`);
    const dir = sort.startsWith('-') ? -1 : 1;
    const rows = trace.requests.filter((r) => r.id.startsWith(prefix)).map(requestRow);
    rows.sort((a, b) => dir * (typeof a[key] === 'string' ? a[key].localeCompare(b[key]) : (a[key] ?? -1) - (b[key] ?? -1)));
    return { total: rows.length, offset, requests: rows.slice(offset, offset + limit) };
  },
  flamegraph: (q) => tree(q),
  kernels: (q) => kernelStats(tree(q)),
  timeline(q) {
    const r = requestOf(q);
    const stepSet = r ? new Set(r.steps) : null;
    let a = 0;
    let b = trace.span;
    if (r && r.steps.length) {
      a = trace.stepAgg[r.steps[0]].start - 1e5;
      const last = trace.stepAgg[r.steps[r.steps.length - 1]];
      b = last.start + last.dur + 1e5;
    }
    if (q.get('start_ns')) a = Number(BigInt(q.get('start_ns')) - BASE);
    if (q.get('end_ns')) b = Number(BigInt(q.get('end_ns')) - BASE);
    if (!(b > a)) throw new HttpError(400, 'end_ns must be greater than start_ns');
    const width = Math.max(1, Math.min(20000, Number(q.get('width') || 1600)));
    return { start_ns: abs(a), end_ns: abs(b), span_ns: Math.round(b - a), names: trace.names, tracks: timelineSlice(trace, a, b, width, stepSet) };
  },
  event(q) {
    const e = trace.events[Number(q.get('id'))];
    if (!e || q.get('id') === null) throw new HttpError(404, `unknown event id '${q.get('id')}'`);
    const tr = trace.tracks.find((t) => t.id === e.track);
    const name = trace.names[e.name];
    const batch = trace.stepAgg[e.step].batch;
    const args = name === 'Int4Gemm' ? { flops: 2 * 4096 * 4096 * batch.length, group_size: 32, m: batch.length, n: 4096, k: 4096 } : name === 'PagedAttention' ? { blocks: 16 * batch.length, block_size: 128, max_seq_len: 2048 } : {};
    return {
      id: e.id,
      name,
      cat: tr.kind === 'device' ? 'kernel' : 'host',
      track: `${tr.group} / ${tr.name}`,
      ts_ns: abs(e.ts),
      dur_ns: e.dur,
      step: e.step,
      args,
      requests: batch.map((id) => ({ id, share: 1 / batch.length })),
    };
  },
  diagnosis(q) {
    if (process.env.FIXTURE_NO_DIAGNOSIS) throw new HttpError(404, 'not found');
    return diagnosis(q.get('lang') === 'zh' ? 'zh' : 'en', trace, XSS_KERNEL);
  },
  profile(q) {
    const r = requestOf(q);
    const set = r ? new Set(r.steps) : null;
    const traceEvents = [];
    for (const e of trace.events) {
      if (set && !set.has(e.step)) continue;
      if (traceEvents.length > 200000) break;
      const tr = trace.tracks.find((t) => t.id === e.track);
      traceEvents.push({ name: trace.names[e.name], ph: 'X', ts: e.ts / 1e3, dur: e.dur / 1e3, pid: tr.group, tid: tr.name });
    }
    return { traceEvents, displayTimeUnit: 'ns' };
  },
};

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon' };

function serveStatic(res, urlPath) {
  const rel = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '');
  const file = path.join(dist, rel);
  if (!file.startsWith(dist + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found');
  }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (!url.pathname.startsWith('/api/')) return serveStatic(res, url.pathname);
  const fn = api[url.pathname.slice(5)];
  const send = (code, body, extra = {}) => {
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra });
    res.end(JSON.stringify(body));
  };
  if (!fn || req.method !== 'GET') return send(404, { error: `no such endpoint ${url.pathname}` });
  try {
    const body = fn(url.searchParams);
    const extra = url.pathname === '/api/profile' ? { 'Content-Disposition': 'attachment; filename="huoyan-trace.json"' } : {};
    send(200, body, extra);
  } catch (e) {
    if (e instanceof HttpError) send(e.code, { error: e.message });
    else send(500, { error: String(e && e.stack ? e.stack : e) });
  }
});

server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`fixture server: http://127.0.0.1:${a.port}/  (${trace.events.length} events, dist ${dist})`);
});
