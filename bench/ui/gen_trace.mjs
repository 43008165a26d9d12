#!/usr/bin/env node
// Writes a Chrome Trace JSON of an LLM serving loop with about N duration events:
//
//   node bench/ui/gen_trace.mjs --events 1000000 --out /tmp/llm-1m.json [--seed 7]
//
// The loop: a scheduler thread runs steps (select_batch, prepare_inputs, forward with
// embedding / layer.i {attention, mlp} / lm_head, sample, deliver); each step launches the
// layers' kernels on two tensor-parallel GPUs, a compute stream and a communication stream
// (NCCL all-reduce) each. Continuous batching: up to 16 requests in flight, each one prefill step
// then 16-128 decode steps; HTTP worker threads carry a span per request. The "huoyan" section
// lists the steps with their member requests and the requests' lifecycles, as `huoyan convert`
// writes them, so request views work; other viewers ignore it.
//
// About 320 events per step; deterministic for a given seed.
import fs from 'node:fs';

function args(argv) {
  const o = { events: 1_000_000, out: '', seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = k === 'out' ? argv[++i] : Number(argv[++i]);
  }
  if (!o.out || !(o.events > 0)) throw new Error('usage: gen_trace.mjs --events N --out FILE [--seed S]');
  return o;
}

// Small deterministic PRNG (mulberry32): the same seed gives the same file.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LAYERS = 12;
const GPUS = 2;
const BATCH = 16;
const HOST_PID = 4242;
const SCHED_TID = 4242;
const HTTP_TID0 = 4301; // one worker thread per batch slot: a worker serves one request at a time
const T0_US = 1_700_000_000_000; // µs, like a Kineto trace's epoch-based clock
const EVENTS_PER_STEP = 44 + GPUS * (3 + LAYERS * 11); // host spans + kernels

export function generate({ events, out, seed }) {
  const rand = rng(seed);
  const jitter = (x, f = 0.15) => x * (1 - f + 2 * f * rand());
  const fd = fs.openSync(out, 'w');
  let buf = '';
  let first = true;
  let count = 0;
  const flush = (force) => {
    if (force || buf.length > 1 << 22) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  };
  const emit = (json) => {
    buf += first ? `\n${json}` : `,\n${json}`;
    first = false;
    flush(false);
  };
  const us = (ns) => (T0_US + ns / 1000).toFixed(3);
  const X = (name, cat, pid, tid, startNs, durNs, extra) => {
    emit(`{"ph":"X","name":"${name}","cat":"${cat}","pid":${pid},"tid":${tid},"ts":${us(startNs)},"dur":${(durNs / 1000).toFixed(3)},"args":{${extra}}}`);
    count++;
  };
  const meta = (name, pid, tid, value) => emit(`{"ph":"M","name":"${name}","pid":${pid}${tid === null ? '' : `,"tid":${tid}`},"args":{"name":"${value}"}}`);

  buf = '{"traceEvents":[';
  first = true;
  meta('process_name', HOST_PID, null, 'llm_server');
  meta('thread_name', HOST_PID, SCHED_TID, 'scheduler');
  for (let i = 0; i < BATCH; i++) meta('thread_name', HOST_PID, HTTP_TID0 + i, `http worker ${i}`);
  for (let g = 0; g < GPUS; g++) {
    meta('process_name', g, null, `GPU ${g}`);
    meta('thread_name', g, 7, 'stream 7 (compute)');
    meta('thread_name', g, 13, 'stream 13 (nccl)');
  }

  const steps = [];
  const requests = [];
  const active = []; // { id, left, tokensIn, arrival, firstToken, tokensOut, slot, prefill }
  const slotFree = Array.from({ length: BATCH }, () => -Infinity); // ns each worker is free from
  let nextReq = 0;
  let t = 0; // ns since T0
  const nSteps = Math.max(1, Math.round(events / EVENTS_PER_STEP));
  for (let s = 1; s <= nSteps; s++) {
    // Admit new requests: they arrived a little earlier and were queued.
    const members = [];
    let prefillTokens = 0;
    while (active.length < BATCH) {
      const slot = slotFree.findIndex((f) => f < t);
      if (slot < 0) break;
      const arrival = Math.max(slotFree[slot] + 1e3, t - Math.floor(jitter(2e6, 0.9)));
      slotFree[slot] = Infinity;
      const r = { id: `req-${String(nextReq++).padStart(7, '0')}`, left: 16 + Math.floor(rand() * 113), tokensIn: 16 + Math.floor(rand() * 497), arrival, firstToken: null, tokensOut: 0, slot, prefill: true };
      active.push(r);
      requests.push(r);
    }
    for (const r of active) {
      const tokens = r.prefill ? r.tokensIn : 1;
      if (r.prefill) prefillTokens += tokens;
      members.push([r.id, tokens]);
    }
    const tokenLoad = active.length + prefillTokens / 8;
    const stepArgs = `"step":${s}`;
    const start = t;
    const sel = jitter(45e3);
    const prep = jitter(30e3 + 200 * active.length);
    const fwdStart = start + sel + prep + 2e3;
    // forward: embedding, layers, lm_head; its kernels run on both GPUs in lockstep.
    let ht = fwdStart;
    const hostSpans = [];
    const emb = jitter(60e3);
    hostSpans.push(['embedding', ht, emb]);
        const dev = Array.from({ length: GPUS }, () => []);
    let kt = ht + 8e3; // kernels trail the launching host span
    // Kernels of one stream never overlap: each starts after the previous one ended.
    const kernel = (name, dur, nccl = false) => {
      let longest = 0;
      for (let g = 0; g < GPUS; g++) {
        const d = jitter(dur, 0.05);
        dev[g].push([name, kt + g * 1500, d, nccl ? 13 : 7]);
        longest = Math.max(longest, d + g * 1500);
      }
      kt += longest + 2e3;
    };
    kernel('EmbeddingLookup', jitter(30e3));
    ht += emb;
    for (let l = 0; l < LAYERS; l++) {
      const layerStart = ht;
      const attnDur = jitter(220e3 + 9e3 * tokenLoad);
      const mlpDur = jitter(260e3 + 6e3 * tokenLoad);
      hostSpans.push([`attention`, ht + 3e3, attnDur]);
      kt = Math.max(kt, ht + 10e3);
      kernel('RMSNorm', 12e3);
      kernel('Int4Gemm_qkv', 60e3 + 2.5e3 * tokenLoad);
      kernel('RotaryEmbedding', 9e3);
      kernel('PagedAttention', 50e3 + 5e3 * tokenLoad);
      kernel('Int4Gemm_o', 30e3 + 1.2e3 * tokenLoad);
      kernel('ncclDevKernel_AllReduce_Sum_f16_RING_LL', 25e3, true);
      ht += attnDur + 6e3;
      hostSpans.push([`mlp`, ht, mlpDur]);
      kt = Math.max(kt, ht + 10e3);
      kernel('RMSNorm', 12e3);
      kernel('Int4Gemm_gate_up', 80e3 + 3e3 * tokenLoad);
      kernel('SwiGLU', 15e3);
      kernel('Int4Gemm_down', 55e3 + 2e3 * tokenLoad);
      kernel('ncclDevKernel_AllReduce_Sum_f16_RING_LL', 25e3, true);
      ht += mlpDur + 6e3;
      hostSpans.push([`layer.${l}`, layerStart, ht - layerStart - 1e3]);
    }
    const head = jitter(120e3);
    hostSpans.push(['lm_head', ht, head]);
    kt = Math.max(kt, ht + 10e3);
    kernel('Int4Gemm_lm_head', 90e3 + 1e3 * active.length);
    kernel('TopKSampling', 20e3);
    ht += head + 3e3;
    const fwdEnd = Math.max(ht, kt) + 5e3;
    const sample = jitter(40e3);
    const deliver = jitter(25e3 + 1.5e3 * active.length);
    const end = fwdEnd + sample + deliver + 4e3;
    const host = (name, a, d) => X(name, 'host', HOST_PID, SCHED_TID, a, d, stepArgs);
    host('step', start, end - start);
    host('select_batch', start, sel);
    host('prepare_inputs', start + sel + 1e3, prep);
    host('forward', fwdStart, fwdEnd - fwdStart);
    for (const [name, a, d] of hostSpans) host(name, a, d);
    host('sample', fwdEnd + 1e3, sample);
    host('deliver', fwdEnd + sample + 2e3, deliver);
    for (let g = 0; g < GPUS; g++) for (const [name, a, d, tid] of dev[g]) X(name, 'kernel', g, tid, a, d, stepArgs);
    steps.push({ id: s, start, end, members });

    // Tokens out; finished requests leave the batch and close their HTTP span.
    for (let i = active.length - 1; i >= 0; i--) {
      const r = active[i];
      if (r.prefill) {
        r.prefill = false;
        r.firstToken = end;
      }
      r.tokensOut++;
      if (--r.left === 0) {
        r.finish = end + 20e3;
        X('handle_request', 'host', HOST_PID, HTTP_TID0 + r.slot, r.arrival, r.finish + 30e3 - r.arrival, `"request_id":"${r.id}"`);
        slotFree[r.slot] = r.finish + 30e3;
        active.splice(i, 1);
      }
    }
    t = end + jitter(15e3);
  }
  // Requests still in flight at the end of the capture have no finish.
  buf += '\n],\n"displayTimeUnit":"ms",\n"huoyan":{"version":1,"steps":[';
  steps.forEach((s, i) => {
    buf += `${i ? ',' : ''}\n{"id":${s.id},"start":${Math.round(s.start) + T0_US * 1000},"end":${Math.round(s.end) + T0_US * 1000},"track":[${HOST_PID},${SCHED_TID}],"members":${JSON.stringify(s.members)}}`;
    flush(false);
  });
  buf += '],\n"requests":[';
  const ns = (x) => (x === null || x === undefined ? 'null' : String(Math.round(x) + T0_US * 1000));
  requests.forEach((r, i) => {
    buf += `${i ? ',' : ''}\n{"id":"${r.id}","arrival":${ns(r.arrival)},"first_token":${ns(r.firstToken)},"finish":${ns(r.finish)},"tokens_in":${r.tokensIn},"tokens_out":${r.tokensOut}}`;
    flush(false);
  });
  buf += ']}}\n';
  flush(true);
  fs.closeSync(fd);
  return { events: count, steps: steps.length, requests: requests.length, bytes: fs.statSync(out).size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = args(process.argv.slice(2));
  const t0 = Date.now();
  const r = generate(o);
  console.error(`gen_trace: ${r.events} events, ${r.steps} steps, ${r.requests} requests, ${(r.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${o.out}`);
}
