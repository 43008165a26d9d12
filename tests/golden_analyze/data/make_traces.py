#!/usr/bin/env python3
"""Writes the synthetic serving traces of the analyze/diff golden cases (deterministic).

A reference-server-shaped trace: a scheduler thread runs select_batch, prepare_inputs and a
forward span per step; the kernels of the step run on NPU 0 (streams 3 and 4) with the args
the reference server writes (group_size, block_size, bytes, flops, tokens, batch). Steps and
requests are in the "huoyan" section. Each step's kernels share one noise factor.

  base.json   the baseline
  same.json   the same workload, other noise draws (must pass a 5 % gate)
  slow.json   Int4Gemm 15 % slower (must fail it)
  fused.json  RMSNorm fused away into a new FusedNormGemm kernel (for diff)

`make_traces.py --big STEPS FILE` streams a large trace of the same shape (about 4.3 kB per
step: 240000 steps ≈ 1 GB) for timing `huoyan analyze` against `huoyan top`.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def us(ns):
    return round(ns / 1000.0, 3)


def make(seed, gemm_slowdown=1.0, fused=False, steps=120, noise=0.05):
    rnd = random.Random(seed)
    ev = [
        {"ph": "M", "name": "process_name", "pid": 4242, "args": {"name": "llm_server"}},
        {"ph": "M", "name": "thread_name", "pid": 4242, "tid": 4242, "args": {"name": "scheduler"}},
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "NPU 0"}},
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 3, "args": {"name": "Stream 3"}},
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 4, "args": {"name": "Stream 4"}},
    ]
    t0 = 1_700_000_000_000_000
    t = t0
    requests = {}
    active = []
    next_req = 1
    step_records = []
    for step in range(1, steps + 1):
        # Admit a request every 10 steps while fewer than 4 run; each generates 30 tokens.
        new = []
        if len(active) < 4 and step % 10 == 1:
            rid = "req-%04d" % next_req
            next_req += 1
            requests[rid] = {"id": rid, "arrival": t - 20_000, "tokens_in": 24, "tokens_out": 0,
                             "first_token": None, "finish": None}
            active.append(rid)
            new.append(rid)
        factor = max(0.5, 1.0 + rnd.gauss(0.0, noise))
        start = t
        args = {"step": step}
        sel = int(90_000 * max(0.5, 1.0 + rnd.gauss(0.0, 0.2)))
        ev.append({"ph": "X", "name": "select_batch", "cat": "host", "pid": 4242, "tid": 4242,
                   "ts": us(t), "dur": us(sel), "args": args})
        t += sel
        ev.append({"ph": "X", "name": "prepare_inputs", "cat": "host", "pid": 4242, "tid": 4242,
                   "ts": us(t), "dur": us(10_000), "args": args})
        t += 10_000
        fwd_start = t
        tokens = sum(24 if r in new else 1 for r in active)
        batch = len(active)
        kernels = []
        for layer in range(2):
            if fused:
                kernels.append(("FusedNormGemm", 3, 100_000, {"group_size": 32}))
            else:
                kernels.append(("RMSNorm", 3, 6_000, {}))
                kernels.append(("Int4Gemm", 3, 95_000, {"group_size": 32}))
            kernels.append(("PagedAttention", 4, 30_000, {"block_size": 8}))
        for name, stream, base, extra in kernels:
            dur = int(base * factor * (gemm_slowdown if name == "Int4Gemm" else 1.0) *
                      (1 + 0.02 * tokens))
            a = {"step": step, "tokens": tokens, "batch": batch}
            a.update(extra)
            if name in ("Int4Gemm", "FusedNormGemm"):
                a["bytes"] = 2_400_000
                a["flops"] = 4_200_000 * tokens
            elif name == "PagedAttention":
                a["bytes"] = 400_000 * batch
            ev.append({"ph": "X", "name": name, "cat": "kernel", "pid": 1, "tid": stream,
                       "ts": us(t), "dur": us(dur), "args": a})
            t += dur + 1_500
        ev.append({"ph": "X", "name": "forward", "cat": "host", "pid": 4242, "tid": 4242,
                   "ts": us(fwd_start), "dur": us(t - fwd_start), "args": args})
        ev.append({"ph": "X", "name": "step", "cat": "host", "pid": 4242, "tid": 4242,
                   "ts": us(start), "dur": us(t - start), "args": args})
        members = [[r, 24 if r in new else 1] for r in active]
        step_records.append({"id": step, "start": start, "end": t, "pid": 4242, "tid": 4242,
                             "members": members})
        done = []
        for r in active:
            req = requests[r]
            req["tokens_out"] += 1
            if req["first_token"] is None:
                req["first_token"] = t
            if req["tokens_out"] == 30:
                req["finish"] = t
                done.append(r)
        active = [r for r in active if r not in done]
        t += 5_000
    return {"traceEvents": ev, "displayTimeUnit": "ns",
            "huoyan": {"version": 1, "steps": step_records,
                       "requests": list(requests.values())}}


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def write_big(steps, path):
    """Same shape as make(), streamed: the events never live in memory all at once."""
    rnd = random.Random(7)
    t = 1_700_000_000_000_000
    with open(path, "w") as f:
        f.write('{"traceEvents":[\n')
        f.write('{"ph":"M","name":"process_name","pid":4242,"args":{"name":"llm_server"}},\n')
        f.write('{"ph":"M","name":"process_name","pid":1,"args":{"name":"NPU 0"}}')
        steps_json = []
        for step in range(1, steps + 1):
            factor = max(0.5, 1.0 + rnd.gauss(0.0, 0.05))
            start = t
            out = []
            sel = int(90_000 * factor)
            out.append('{"ph":"X","name":"select_batch","cat":"host","pid":4242,"tid":4242,'
                       '"ts":%.3f,"dur":%.3f,"args":{"step":%d}}' % (t / 1e3, sel / 1e3, step))
            t += sel
            for layer in range(8):
                for name, stream, base, extra in (
                        ("RMSNorm", 3, 6_000, ""),
                        ("Int4Gemm", 3, 95_000, ',"group_size":32,"bytes":2400000,"flops":8400000'),
                        ("PagedAttention", 4, 30_000, ',"block_size":8,"bytes":1600000')):
                    dur = int(base * factor)
                    out.append('{"ph":"X","name":"%s","cat":"kernel","pid":1,"tid":%d,"ts":%.3f,'
                               '"dur":%.3f,"args":{"step":%d,"tokens":4,"batch":4%s}}'
                               % (name, stream, t / 1e3, dur / 1e3, step, extra))
                    t += dur + 1_500
            out.append('{"ph":"X","name":"step","cat":"host","pid":4242,"tid":4242,'
                       '"ts":%.3f,"dur":%.3f,"args":{"step":%d}}' % (start / 1e3, (t - start) / 1e3,
                                                                     step))
            f.write(",\n" + ",\n".join(out))
            steps_json.append('{"id":%d,"start":%d,"end":%d,"members":[["r%d",1],["r%d",1],'
                              '["r%d",1],["r%d",1]]}' % (step, start, t, step % 97, step % 89,
                                                          step % 83, step % 79))
            t += 5_000
        f.write('\n],"displayTimeUnit":"ns","huoyan":{"version":1,"steps":[\n')
        f.write(",\n".join(steps_json))
        f.write("\n]}}\n")


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "--big":
        write_big(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    write("base.json", make(seed=1))
    write("same.json", make(seed=2))
    write("slow.json", make(seed=3, gemm_slowdown=1.15))
    write("fused.json", make(seed=4, fused=True))
