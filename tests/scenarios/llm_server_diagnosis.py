#!/usr/bin/env python3
"""The diagnosis against real runs of the reference server, over a grid of knob values and seeds.

Each knob scenario must be named first, with its knob, at every value of the grid:
  - --group-size below 128 (32, 64): the first finding is about Int4Gemm's group size;
  - --block-size at or below 8 (2, 4, 8) with long contexts: the first finding is
    small-kv-blocks on PagedAttention with that block size;
  - --queue=locked under streaming clients (8 and 24): the first finding is lock-contention or
    host-bound with the lock as its cause, suggesting a lock-free queue;
and the healthy defaults give no critical and no knob finding, with the first finding quoting a
measured peak. Finally a live server under a steady load answers /api/diagnosis ten times with
the same first finding.

The seeds differ from the other scenario tests'; HUOYAN_DIAG_SEED shifts them all, to try the
rules on values no run has used before.

usage: llm_server_diagnosis.py LLM_SERVER LLM_LOADGEN HUOYAN WORKDIR
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

SERVER, LOADGEN, HUOYAN, WORK = sys.argv[1:5]
SEED = int(os.environ.get("HUOYAN_DIAG_SEED", "40"))
MODEL = ["--layers", "2"]
SMALL = ["--layers", "1", "--d-model", "128", "--heads", "2", "--head-dim", "64",
         "--ffn-dim", "256", "--http-threads", "48"]
KNOBS = ("quant-group-size", "small-kv-blocks", "lock-contention")
results = []


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def start(name, flags, out=None):
    args = [SERVER, "--port", "0"] + (["--profile-out", out] if out else ["--profile"]) + flags
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        fail("%s: no 'listening on' line, got %r" % (name, line))
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    return proc, "http://127.0.0.1:%d" % port


def stop(name, proc):
    proc.send_signal(signal.SIGINT)
    if proc.wait(120) != 0:
        fail("%s: llm_server exited with %d" % (name, proc.returncode))


def get(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def startup_run(name, flags):
    """A profiled run of the start-up requests only; returns the trace path."""
    out = os.path.join(WORK, name + ".json.gz")
    proc, url = start(name, MODEL + flags, out)
    deadline = time.time() + 300
    while True:
        h = get(url + "/health")
        if h["steps"] > 0 and h["in_flight"] == 0 and h["queued"] == 0:
            break
        if time.time() > deadline:
            proc.kill()
            fail("%s: the start-up requests did not finish: %s" % (name, h))
        time.sleep(0.2)
    stop(name, proc)
    return out


def loaded_run(name, flags, clients, seed):
    """A profiled run of the small model under streaming clients; returns the trace path."""
    out = os.path.join(WORK, name + ".json.gz")
    proc, url = start(name, SMALL + flags, out)
    load = subprocess.run([LOADGEN, "--url", url, "--quiet", "--rate", "2000", "--concurrency",
                           str(clients), "--duration", "4", "--seed", str(seed), "--prompt-min",
                           "1", "--prompt-max", "16", "--output-min", "16", "--output-max", "64"],
                          capture_output=True, text=True, timeout=300)
    stop(name, proc)
    if load.returncode != 0:
        fail("%s: llm_loadgen exited with %d: %s" % (name, load.returncode, load.stderr))
    return out


def findings(trace):
    r = subprocess.run([HUOYAN, "analyze", trace, "--format", "json"], capture_output=True,
                       text=True)
    if r.returncode not in (0, 1):
        fail("analyze %s: exit %d: %s" % (trace, r.returncode, r.stderr))
    return json.loads(r.stdout)["findings"]


def record(name, fs, ok):
    first = fs[0] if fs else {}
    results.append((name, first.get("severity", "-"), first.get("id", "-"),
                    first.get("subject", ""), "ok" if ok else "WRONG"))
    print("%-22s first: [%s] %s %s — %s" % (name, first.get("severity"), first.get("id"),
                                           first.get("subject"), first.get("title", "")[:90]),
          flush=True)
    return ok


os.makedirs(WORK, exist_ok=True)
wrong = []

# Group sizes below 128.
for i, g in enumerate((32, 64)):
    name = "group%d_seed%d" % (g, SEED + i)
    fs = findings(startup_run(name, ["--group-size", str(g), "--test-requests", "24",
                                     "--seed", str(SEED + i)]))
    f = fs[0] if fs else {}
    ok = (f.get("subject") == "Int4Gemm" and f.get("evidence", {}).get("group_size") == g and
          f.get("severity") == "critical" and "group" in f.get("suggestion", "").lower())
    if not record(name, fs, ok):
        wrong.append(name)

# KV blocks at or below 8, the same KV capacity (8192 tokens) each time.
for i, b in enumerate((2, 4, 8)):
    name = "block%d_seed%d" % (b, SEED + 10 + i)
    fs = findings(startup_run(name, ["--block-size", str(b), "--kv-blocks", str(8192 // b),
                                     "--test-requests", "24", "--seed", str(SEED + 10 + i)]))
    f = fs[0] if fs else {}
    ok = (f.get("id") == "small-kv-blocks" and f.get("subject") == "PagedAttention" and
          f.get("evidence", {}).get("block_size") == b)
    if not record(name, fs, ok):
        wrong.append(name)

# The locked queue under streaming clients.
for i, clients in enumerate((8, 24)):
    name = "locked_c%d_seed%d" % (clients, SEED + 20 + i)
    fs = findings(loaded_run(name, ["--queue", "locked"], clients, SEED + 20 + i))
    f = fs[0] if fs else {}
    lock = f.get("evidence", {}).get("lock_span") or f.get("subject")
    ok = (f.get("id") in ("lock-contention", "host-bound") and lock == "queue_lock_wait" and
          "moodycamel::ConcurrentQueue" in f.get("suggestion", ""))
    if not record(name, fs, ok):
        wrong.append(name)

# Healthy defaults: nothing critical, no knob; the first finding quotes a measured peak.
name = "healthy_seed%d" % (SEED + 30)
fs = findings(startup_run(name, ["--test-requests", "24", "--seed", str(SEED + 30)]))
bad = [f for f in fs if f["severity"] == "critical" or f["id"] in KNOBS or
       "group_size" in f.get("title", "")]
quotes = bool(fs) and fs[0].get("evidence", {}).get("peak_source") == "measured" and \
    "measured peaks" in fs[0].get("cause", "") + fs[0].get("suggestion", "")
if not record(name, fs, not bad and (not fs or quotes)):
    wrong.append(name)
    print("  healthy run: %s" % json.dumps(bad or fs[:1])[:2000])

# A live server under a steady load: ten refreshes, one first finding.
proc, url = start("live", MODEL)  # the demo's healthy defaults
load = subprocess.Popen([LOADGEN, "--url", url, "--quiet", "--rate", "20", "--concurrency", "8",
                         "--duration", "40", "--seed", str(SEED + 40), "--prompt-max", "128",
                         "--output-max", "48"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
time.sleep(8)
firsts = []
for _ in range(10):
    d = get(url + "/api/diagnosis")
    f = d["findings"][0] if d["findings"] else {}
    firsts.append((f.get("id"), f.get("subject"), f.get("severity")))
    time.sleep(0.7)
load.terminate()
load.wait(60)
stop("live", proc)
print("live, ten refreshes: %s (window %s)" % (sorted(set(firsts)), d["window"]), flush=True)
if len(set(firsts)) != 1:
    wrong.append("live: first finding changed between refreshes: %s" % firsts)

print("\n| run | first finding | severity | subject | verdict |\n|---|---|---|---|---|")
for name, sev, fid, subject, verdict in results:
    print("| %s | %s | %s | %s | %s |" % (name, fid, sev, subject, verdict))
if wrong:
    fail("wrong first finding: %s" % ", ".join(wrong))
print("PASS")
