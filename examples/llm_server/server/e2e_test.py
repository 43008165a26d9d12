#!/usr/bin/env python3
"""End-to-end tests of the llm_server binary (registered with ctest as llm_server_e2e.<case>).

ci_flow          --profile --test-prompt, poll /api/profile until the test request's kernels
                 are there: a valid Chrome trace with Int4Gemm kernels carrying args.request_id.
ci_flow_literal  the README's shell line, `./llm_server --profile --test-prompt="..." & sleep 10;
                 curl http://localhost:PORT/api/profile > trace.json`, on a free port.
shutdown_flush   SIGINT while a stream is in flight: the stream completes, the process exits 0
                 and --profile-out holds a readable gzipped trace with that request.
bad_flags        every bad flag exits 2 with a message naming it.
"""
import argparse
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# A small model so that the tests run in seconds on two busy cores.
SMALL = ["--d-model", "128", "--layers", "2", "--heads", "4", "--head-dim", "32",
         "--ffn-dim", "256", "--group-size", "32", "--kv-blocks", "256"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def start(server, args):
    proc = subprocess.Popen([server] + args, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    line = proc.stdout.readline()
    if "listening on http://" not in line:
        proc.kill()
        fail("no 'listening on' line, got %r" % line)
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    return proc, port


def get(port, path, timeout=30):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read()


def stop(proc, timeout=60):
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("server did not exit within %d s of SIGINT" % timeout)
    if rc != 0:
        fail("server exited with %d" % rc)


def kernels(trace, name):
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return [e for e in events if e.get("name") == name and e.get("ph") == "X"]


def check_gemm(trace, request_id, where):
    gemms = kernels(trace, "Int4Gemm")
    if not gemms:
        fail("%s: no Int4Gemm event" % where)
    mine = [e for e in gemms if e.get("args", {}).get("request_id") == request_id]
    if not mine:
        fail("%s: no Int4Gemm with args.request_id == %s" % (where, request_id))
    args = mine[0]["args"]
    for key in ("flops", "bytes", "group_size", "batch", "tokens", "step"):
        if key not in args:
            fail("%s: Int4Gemm args lack %s: %s" % (where, key, args))
    return len(gemms)


def ci_flow(server):
    proc, port = start(server, ["--profile", "--port", "0", "--test-prompt=The quick brown fox",
                                "--test-max-tokens", "8"] + SMALL)
    try:
        deadline = time.time() + 90
        while True:
            try:
                status, body = get(port, "/api/profile?request_id=test-0")
                trace = json.loads(body)
                if any(e.get("args", {}).get("request_id") == "test-0"
                       for e in kernels(trace, "Int4Gemm")):
                    break
            except urllib.error.HTTPError as e:
                if e.code != 404:  # 404: the request is not in the store yet
                    raise
            if time.time() > deadline:
                fail("test-0's kernels never showed up in /api/profile")
            time.sleep(0.2)
        check_gemm(trace, "test-0", "/api/profile?request_id=test-0")
        status, body = get(port, "/api/profile")
        whole = json.loads(body)
        # The whole trace names the requests of every stepped kernel too.
        n = check_gemm(whole, "test-0", "/api/profile")
        devices = [e for e in whole["traceEvents"]
                   if e.get("ph") == "M" and "CPU 0" in json.dumps(e.get("args", {}))]
        if not devices:
            fail("/api/profile: no CPU 0 device row")
        print("ci_flow: %d Int4Gemm kernels in /api/profile" % n)
    finally:
        stop(proc)


def ci_flow_literal(server):
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(server, os.path.join(tmp, "llm_server"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        line = ('./llm_server --profile --port %d --test-prompt="Hello, huoyan" & echo $! > pid; '
                'sleep 10; curl -s http://localhost:%d/api/profile > trace.json' % (port, port))
        subprocess.run(["bash", "-c", line], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        pid = int(open(os.path.join(tmp, "pid")).read())
        try:
            with open(os.path.join(tmp, "trace.json")) as f:
                trace = json.load(f)
            # The brief's check, on the file curl wrote: Int4Gemm with args.request_id.
            n = check_gemm(trace, "test-0", "trace.json")
            status, body = get(port, "/api/profile?request_id=test-0")
            check_gemm(json.loads(body), "test-0", "request trace")
            print("ci_flow_literal: %d Int4Gemm kernels" % n)
        finally:
            os.kill(pid, signal.SIGINT)
            for _ in range(600):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
                fail("server did not exit after SIGINT")


def shutdown_flush(server):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "trace.json.gz")
        proc, port = start(server, ["--port", "0", "--profile-out", out] + SMALL)
        body = json.dumps({"prompt": "drain me", "max_tokens": 60, "stream": True}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/v1/completions" % port, data=body,
                                     headers={"X-Request-Id": "flush-1",
                                              "Content-Type": "application/json"})
        events, first = [], threading.Event()

        def read():
            with urllib.request.urlopen(req, timeout=60) as r:
                for raw in r:
                    line = raw.decode().strip()
                    if line.startswith("data: "):
                        events.append(line[6:])
                        first.set()
            first.set()

        reader = threading.Thread(target=read)
        reader.start()
        if not first.wait(60):
            fail("no stream event")
        stop(proc)  # SIGINT while the stream is in flight
        reader.join(60)
        if not events or events[-1] != "[DONE]":
            fail("stream cut by shutdown: %r" % events[-3:])
        last = json.loads(events[-2])
        if last["usage"]["completion_tokens"] != 60 and last["choices"][0]["finish_reason"] != "stop":
            fail("in-flight request not completed: %s" % last)
        with gzip.open(out, "rt") as f:
            trace = json.load(f)
        if not kernels(trace, "Int4Gemm"):
            fail("flushed profile has no Int4Gemm")
        mine = [e for e in trace["traceEvents"]
                if e.get("args", {}).get("request_id") == "flush-1"]
        if not any(e["name"] == "detokenize" for e in mine):
            fail("flushed profile lacks flush-1's detokenize spans")
        print("shutdown_flush: %d stream events, %d events of flush-1 in %s"
              % (len(events), len(mine), out))


def bad_flags(server):
    cases = [(["--queue=foo"], "--queue"), (["--group-size", "33"], "group_size"),
             (["--port", "70000"], "--port"), (["--no-such-flag"], "no-such-flag"),
             (["--max-batch-tokens", "0"], "--max-batch-tokens"), (["--devices", "3"], "n_heads")]
    for args, needle in cases:
        r = subprocess.run([server] + args, capture_output=True, text=True, timeout=30)
        if r.returncode != 2:
            fail("%s: exit %d, want 2" % (args, r.returncode))
        if needle not in r.stderr:
            fail("%s: message %r does not name %s" % (args, r.stderr, needle))
    print("bad_flags: %d cases" % len(cases))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--case", required=True,
                   choices=["ci_flow", "ci_flow_literal", "shutdown_flush", "bad_flags"])
    a = p.parse_args()
    globals()[a.case](os.path.abspath(a.server))


if __name__ == "__main__":
    main()
