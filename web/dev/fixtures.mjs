// Synthetic trace for UI development: a scheduler thread driving two NPUs
// (tensor parallel) through decode steps, with batches of requests. Only the
// shape follows the real server's API; the numbers are made up but
// self-consistent. Deterministic (seeded) so tests can rely on it.

export const BASE = 1700000000000000000n; // absolute ns of the trace start (> 2^53 on purpose)
export const XSS_KERNEL = '<img src=x onerror=alert(1)>';

function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOST_PHASES = ['select_batch', 'prepare_inputs', 'forward', 'sample'];
const LAYER = ['RMSNorm', 'Int4Gemm', 'RotaryEmbedding', 'PagedAttention', 'Int4Gemm', 'RMSNorm', 'Int4Gemm', 'SiluAndMul', 'Int4Gemm'];
const KERNEL_US = { RMSNorm: 18, Int4Gemm: 140, RotaryEmbedding: 12, PagedAttention: 95, SiluAndMul: 15, AllReduce: 40, Sampling: 60, [XSS_KERNEL]: 9 };

export const DEVICES = [
  { id: 'NPU 0', kind: 'npu', streams: [3, 4] },
  { id: 'NPU 1', kind: 'npu', streams: [3, 4] },
];

export function buildTrace({ steps = 400, layers = 8, seed = 7 } = {}) {
  const rand = rng(seed);
  const names = ['step', ...HOST_PHASES, ...Object.keys(KERNEL_US)];
  const nameIdx = new Map(names.map((n, i) => [n, i]));
  const tracks = [
    { id: 1, name: 'Thread 1201 (scheduler)', group: 'Host · pid 1200', kind: 'host', ev: [] },
    { id: 2, name: 'Thread 1207 (tokenizer)', group: 'Host · pid 1200', kind: 'host', ev: [] },
    { id: 3, name: 'Stream 3', group: 'NPU 0', kind: 'device', device: 'NPU 0', ev: [] },
    { id: 4, name: 'Stream 4', group: 'NPU 0', kind: 'device', device: 'NPU 0', ev: [] },
    { id: 5, name: 'Stream 3', group: 'NPU 1', kind: 'device', device: 'NPU 1', ev: [] },
    { id: 6, name: 'Stream 4', group: 'NPU 1', kind: 'device', device: 'NPU 1', ev: [] },
  ];
  const events = []; // id -> {track, ts, dur, name, depth, step}
  const add = (track, ts, dur, name, depth, step) => {
    const id = events.length;
    const e = { id, track: track.id, ts, dur: Math.max(1, Math.round(dur)), name: nameIdx.get(name), depth, step };
    events.push(e);
    track.ev.push(e);
    return e;
  };

  // Requests arrive over time and decode for tokens_out steps in batches of <= 32.
  const nReq = Math.max(40, Math.round(steps * 0.6));
  const requests = [];
  const used = new Set();
  for (let i = 0; i < nReq; i++) {
    let id;
    do id = `req-${Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0')}`;
    while (used.has(id));
    used.add(id);
    requests.push({ id, arriveStep: Math.floor((i / nReq) * steps * 0.92), tokens_in: 16 + Math.floor(rand() * 900), tokens_out: 8 + Math.floor(rand() * 160), steps: [], left: 0 });
  }
  for (const r of requests) r.left = r.tokens_out;

  const stepAgg = [];
  let t = 2_000_000 + rand() * 1e5;
  let next = 0;
  const active = [];
  for (let s = 0; s < steps; s++) {
    while (next < requests.length && requests[next].arriveStep <= s) active.push(requests[next++]);
    const batch = active.slice(0, 32);
    const agg = { host: {}, dev: { 'NPU 0': new Map(), 'NPU 1': new Map() }, batch: batch.map((r) => r.id), start: t };
    const stepStart = t;
    const stepEv = add(tracks[0], t, 0, 'step', 0, s);
    for (const ph of HOST_PHASES) {
      const base = { select_batch: 250e3, prepare_inputs: 900e3 + batch.length * 25e3, forward: 1.2e6, sample: 300e3 }[ph];
      const dur = base * (0.8 + rand() * 0.4);
      add(tracks[0], t, dur, ph, 1, s);
      agg.host[ph] = dur;
      if (ph === 'forward') emitKernels(t + 40e3, s, batch.length);
      if (ph === 'sample') for (const d of [2, 4]) kernel(tracks[d], t + 30e3, 'Sampling', s, agg);
      t += dur + 20e3;
    }
    stepEv.dur = Math.round(t - stepStart);
    if (s % 5 === 0) add(tracks[1], stepStart + 100e3, 400e3 * (0.5 + rand()), 'prepare_inputs', 0, s);
    agg.dur = t - stepStart;
    stepAgg.push(agg);
    for (const r of batch) {
      r.steps.push(s);
      if (r.steps.length === 1) r.firstTokenT = t;
      if (--r.left === 0) r.finishT = t;
    }
    for (let i = active.length - 1; i >= 0; i--) if (active[i].left === 0) active.splice(i, 1);
    t += 60e3 + rand() * 200e3; // idle gap between steps

    function kernel(track, at, name, step, a) {
      const dur = KERNEL_US[name] * 1e3 * (0.7 + rand() * 0.6) * (name === 'PagedAttention' ? 0.6 + batch.length / 40 : 1);
      add(track, at, dur, name, 0, step);
      const m = a.dev[track.device];
      const cur = m.get(name) || [0, 0];
      m.set(name, [cur[0] + Math.round(dur), cur[1] + 1]);
      return at + dur;
    }
    function emitKernels(at, step) {
      for (const [main, comm] of [[tracks[2], tracks[3]], [tracks[4], tracks[5]]]) {
        let x = at;
        for (let l = 0; l < layers; l++) {
          for (const k of LAYER) x = kernel(main, x + 2e3, k, step, agg) ;
          x = kernel(comm, x + 1e3, 'AllReduce', step, agg);
          if (l === 0 && main === tracks[2]) x = kernel(main, x + 1e3, XSS_KERNEL, step, agg);
        }
      }
    }
  }
  const span = Math.ceil(t + 1e6);
  for (const tr of tracks) {
    tr.ev.sort((a, b) => a.ts - b.ts);
    tr.maxDur = tr.ev.reduce((m, e) => Math.max(m, e.dur), 0);
  }
  const byId = new Map(requests.map((r) => [r.id, r]));
  for (const r of requests) {
    r.device_shared = 0;
    r.device_apportioned = 0;
    r.host = 0;
    for (const s of r.steps) {
      const a = stepAgg[s];
      let dev = 0;
      for (const m of Object.values(a.dev)) for (const [d] of m.values()) dev += d;
      r.device_shared += dev;
      r.device_apportioned += dev / a.batch.length;
      r.host += Object.values(a.host).reduce((x, y) => x + y, 0);
    }
  }
  return { names, tracks, events, requests, byId, stepAgg, span, layers };
}

// Flame graph for a set of steps; `weight(step)` scales each step's time
// (1 for "shared", 1/batch for "apportioned").
export function flameTree(trace, stepList, weight, device) {
  const root = { name: 'all', value: 0, calls: 0, children: [] };
  const stepNode = { name: 'step', value: 0, calls: 0, children: [] };
  const phases = new Map(HOST_PHASES.map((p) => [p, { name: p, value: 0, calls: 0, host: 0, kids: new Map() }]));
  for (const s of stepList) {
    const a = trace.stepAgg[s];
    const w = weight(s);
    stepNode.calls++;
    for (const p of HOST_PHASES) {
      const ph = phases.get(p);
      ph.host += a.host[p] * w;
      ph.calls++;
      if (p !== 'forward' && p !== 'sample') continue;
      for (const [dev, m] of Object.entries(a.dev)) {
        if (device && dev !== device) continue;
        for (const [name, [dur, n]] of m) {
          if ((name === 'Sampling') !== (p === 'sample')) continue;
          const k = ph.kids.get(name) || { name, value: 0, calls: 0 };
          k.value += dur * w;
          k.calls += n;
          ph.kids.set(name, k);
        }
      }
    }
  }
  for (const ph of phases.values()) {
    const kids = [...ph.kids.values()].map((k) => ({ ...k, value: Math.round(k.value) })).sort((x, y) => y.value - x.value);
    const sum = kids.reduce((x, k) => x + k.value, 0);
    // Host phases contain the kernels they launched; a parent is never narrower than its children.
    const node = { name: ph.name, value: Math.max(Math.round(ph.host), sum), calls: ph.calls };
    if (kids.length) node.children = kids;
    if (node.value) stepNode.children.push(node);
  }
  stepNode.value = stepNode.children.reduce((x, c) => x + c.value, 0);
  if (stepNode.value) root.children.push(stepNode);
  root.value = stepNode.value;
  root.calls = 1;
  return root;
}

export function kernelStats(tree) {
  const m = new Map();
  const walk = (n, depth) => {
    if (depth >= 3) {
      const k = m.get(n.name) || { name: n.name, count: 0, total_ns: 0 };
      k.count += n.calls;
      k.total_ns += n.value;
      m.set(n.name, k);
    }
    for (const c of n.children || []) walk(c, depth + 1);
  };
  walk(tree, 0);
  const list = [...m.values()];
  const total = list.reduce((s, k) => s + k.total_ns, 0) || 1;
  return list
    .map((k) => {
      const mean = k.total_ns / Math.max(1, k.count);
      return { ...k, mean_ns: Math.round(mean), p50_ns: Math.round(mean * 0.96), p99_ns: Math.round(mean * 1.38), max_ns: Math.round(mean * 1.6), share: k.total_ns / total };
    })
    .sort((a, b) => b.total_ns - a.total_ns);
}

// Level of detail like the real server: per track and depth, runs of events
// narrower than a pixel that touch are merged into one block, which keeps the
// name and id of its longest member.
export function timelineSlice(trace, a, b, width, stepFilter) {
  const nsPerPx = (b - a) / Math.max(1, width);
  const out = [];
  for (const tr of trace.tracks) {
    const ev = tr.ev;
    let lo = 0;
    let hi = ev.length;
    const from = a - tr.maxDur;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ev[mid].ts < from) lo = mid + 1;
      else hi = mid;
    }
    const res = [];
    const pending = new Map(); // depth -> block
    let merged = 0;
    const flush = (d) => {
      const p = pending.get(d);
      if (!p) return;
      res.push([Math.round(p.ts - a), Math.max(1, Math.round(p.end - p.ts)), p.best.name, d, p.best.id]);
      if (p.n > 1) merged += p.n - 1;
      pending.delete(d);
    };
    for (let i = lo; i < ev.length && ev[i].ts < b; i++) {
      const e = ev[i];
      if (e.ts + e.dur < a || (stepFilter && !stepFilter.has(e.step))) continue;
      const d = e.depth;
      const p = pending.get(d);
      if (e.dur >= nsPerPx) {
        flush(d);
        res.push([Math.round(e.ts - a), e.dur, e.name, d, e.id]);
      } else if (p && e.ts <= p.end + nsPerPx) {
        p.end = Math.max(p.end, e.ts + e.dur);
        p.n++;
        if (e.dur > p.best.dur) p.best = e;
      } else {
        flush(d);
        pending.set(d, { ts: e.ts, end: e.ts + e.dur, n: 1, best: e });
      }
    }
    for (const d of [...pending.keys()]) flush(d);
    if (res.length) out.push({ id: tr.id, name: tr.name, group: tr.group, kind: tr.kind, events: res, merged });
  }
  return out;
}
