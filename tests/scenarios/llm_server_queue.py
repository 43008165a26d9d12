#!/usr/bin/env python3
"""The scheduler-lock bottleneck against real runs of the reference server.

Runs llm_server with --queue=locked (one mutex for the request queue and every response
stream, chunks written under it) and --queue=lockfree (moodycamel queue, a channel per
request), each under 16 streaming clients of llm_loadgen, with a small model so that a step
takes about a millisecond. Then checks:
  - select_batch takes longer with the locked queue (the scheduler waits for the mutex);
  - `huoyan analyze` reports lock-contention on the locked run, naming queue_lock_wait and
    suggesting a lock-free queue, and does not on the lock-free run.

usage: llm_server_queue.py LLM_SERVER LLM_LOADGEN HUOYAN WORKDIR
"""
import gzip
import json
import os
import signal
import subprocess
import sys

SERVER, LOADGEN, HUOYAN, WORK = sys.argv[1:5]
MODEL = ["--layers", "1", "--d-model", "128", "--heads", "2", "--head-dim", "64",
         "--ffn-dim", "256", "--http-threads", "48"]
LOAD = ["--rate", "2000", "--concurrency", "16", "--duration", "6", "--seed", "7",
        "--prompt-min", "1", "--prompt-max", "16", "--output-min", "16", "--output-max", "64"]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def run(kind):
    out = os.path.join(WORK, "queue_%s.json.gz" % kind)
    proc = subprocess.Popen([SERVER, "--port", "0", "--queue", kind, "--profile-out", out] + MODEL,
                            stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        fail("%s: no 'listening on' line, got %r" % (kind, line))
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    url = "http://127.0.0.1:%d" % port
    load = subprocess.run([LOADGEN, "--url", url, "--quiet"] + LOAD, capture_output=True,
                          text=True, timeout=300)
    proc.send_signal(signal.SIGINT)
    if proc.wait(120) != 0:
        fail("%s: llm_server exited with %d" % (kind, proc.returncode))
    if load.returncode != 0:
        fail("%s: llm_loadgen exited with %d: %s" % (kind, load.returncode, load.stderr))
    with gzip.open(out) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    select = [e["dur"] for e in events if e.get("name") == "select_batch" and e.get("ph") == "X"]
    if len(select) < 100:
        fail("%s: only %d select_batch spans" % (kind, len(select)))
    mean = sum(select) / len(select)
    print("%s: %d steps, select_batch mean %.1f us -> %s" % (kind, len(select), mean, out),
          flush=True)
    return out, mean


def findings(trace):
    r = subprocess.run([HUOYAN, "analyze", trace, "--format", "json"], capture_output=True,
                       text=True)
    if r.returncode not in (0, 1):
        fail("analyze %s: exit %d: %s" % (trace, r.returncode, r.stderr))
    return json.loads(r.stdout)["findings"]


os.makedirs(WORK, exist_ok=True)
locked, locked_mean = run("locked")
lockfree, lockfree_mean = run("lockfree")
if locked_mean < 3 * lockfree_mean:
    fail("select_batch is not clearly slower with the locked queue: %.1f us vs %.1f us"
         % (locked_mean, lockfree_mean))

got = [f for f in findings(locked) if f["id"] == "lock-contention"]
if not got:
    fail("the --queue=locked run has no lock-contention finding")
f = got[0]
if f["subject"] != "queue_lock_wait" or "moodycamel::ConcurrentQueue" not in f["suggestion"]:
    fail("lock-contention finding lacks the lock span or the suggestion: %s" % json.dumps(f))
print("diagnosis of locked: %s (%d waits, mean %d ns)"
      % (f["title"], f["evidence"]["lock_waits"], f["evidence"]["mean_lock_wait_ns"]))
if any(f["id"] == "lock-contention" for f in findings(lockfree)):
    fail("the --queue=lockfree run is blamed for lock contention")
print("PASS")
