#!/usr/bin/env python3
"""--queue=locked vs lockfree under streaming load: select_batch time, lock waits, delivery and
throughput, one run each per client count, locked and lock-free back to back.

A small model (1 layer, d_model 128) keeps a step near a millisecond, where scheduling is a
visible part of the loop. Each run: llm_server --profile-out, then llm_loadgen for 10 s, then
SIGINT; figures come from the server's trace and `huoyan analyze`.

usage: bench/llm_queue_pair.py [BUILD_DIR] [CLIENTS...]   (default: build 8 16 32)
"""
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
CLIENTS = [int(c) for c in sys.argv[2:]] or [8, 16, 32]
MODEL = ["--layers", "1", "--d-model", "128", "--heads", "2", "--head-dim", "64",
         "--ffn-dim", "256", "--http-threads", "48"]


def spans(events, name):
    return [e["dur"] for e in events if e.get("name") == name and e.get("ph") == "X"]


def run(kind, clients, work):
    out = os.path.join(work, "%s_%d.json.gz" % (kind, clients))
    server = subprocess.Popen([os.path.join(BUILD, "llm_server"), "--port", "0", "--queue", kind,
                               "--profile-out", out] + MODEL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(server.stdout.readline().split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    summary = os.path.join(work, "load.json")
    subprocess.run([os.path.join(BUILD, "llm_loadgen"), "--url", "http://127.0.0.1:%d" % port,
                    "--rate", "2000", "--concurrency", str(clients), "--duration", "10",
                    "--seed", "7", "--prompt-min", "1", "--prompt-max", "16", "--output-min",
                    "16", "--output-max", "64", "--quiet", "--json", summary], check=True)
    server.send_signal(signal.SIGINT)
    server.wait()
    with open(summary) as f:
        load = json.load(f)
    with gzip.open(out) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    select = sorted(spans(events, "select_batch"))
    locks = spans(events, "queue_lock_wait")
    deliver = spans(events, "deliver")
    r = subprocess.run([os.path.join(BUILD, "huoyan"), "analyze", out, "--format", "json"],
                       capture_output=True, text=True)
    found = [f["id"] for f in json.loads(r.stdout)["findings"]
             if f["id"] in ("lock-contention", "host-bound")]
    return {
        "select_mean": statistics.mean(select) if select else 0,
        "select_p99": select[int(len(select) * 0.99)] if select else 0,
        "lock_waits": len(locks),
        "lock_ms": sum(locks) / 1000,
        "deliver_mean": statistics.mean(deliver) if deliver else 0,
        "steps": len(select),
        "load": load,
        "findings": found,
    }


print("| clients | `--queue` | `select_batch` mean | p99 | `queue_lock_wait` | `deliver` mean "
      "| steps | output tokens/s | TTFT p50 | findings |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
with tempfile.TemporaryDirectory() as work:
    for clients in CLIENTS:
        for kind in ("locked", "lockfree"):
            m = run(kind, clients, work)
            load = m["load"]
            print("| %d | %s | %.1f us | %.1f us | %d (%.0f ms) | %.1f us | %d | %.0f | %s ms | %s |"
                  % (clients, kind, m["select_mean"], m["select_p99"], m["lock_waits"],
                     m["lock_ms"], m["deliver_mean"], m["steps"],
                     load.get("output_tokens_per_s", 0),
                     load.get("ttft_ms", {}).get("p50", "?"), ", ".join(m["findings"]) or "-"),
                  flush=True)
