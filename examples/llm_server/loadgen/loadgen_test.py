#!/usr/bin/env python3
"""llm_loadgen against a small llm_server: the summary JSON is complete and consistent, and bad
flags exit 2 (registered with ctest as llm_loadgen_e2e.against_server)."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

SMALL = ["--d-model", "128", "--layers", "2", "--heads", "4", "--head-dim", "32",
         "--ffn-dim", "256", "--group-size", "32"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--loadgen", required=True)
    a = p.parse_args()

    for args, needle in [(["--rate", "0"], "--rate"), (["--concurrency", "0"], "--concurrency"),
                         (["--prompt-min", "9", "--prompt-max", "3"], "--prompt-min"),
                         (["--url", "nota url"], "--url")]:
        r = subprocess.run([a.loadgen] + args, capture_output=True, text=True, timeout=30)
        if r.returncode != 2 or needle not in r.stderr:
            fail("%s: exit %d, stderr %r" % (args, r.returncode, r.stderr))

    server = subprocess.Popen([a.server, "--port", "0"] + SMALL, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = line.split("listening on ")[1].split()[0].rstrip("/")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "load.json")
            r = subprocess.run([a.loadgen, "--url", url, "--rate", "20", "--duration", "3",
                                "--concurrency", "8", "--seed", "5", "--prompt-max", "64",
                                "--output-max", "24", "--json", out],
                               capture_output=True, text=True, timeout=90)
            print(r.stdout)
            if r.returncode != 0:
                fail("loadgen exited %d: %s" % (r.returncode, r.stderr))
            s = json.load(open(out))
        for key in ("sent", "completed", "requests_per_s", "output_tokens_per_s", "ttft_ms",
                    "itl_ms"):
            if key not in s:
                fail("summary lacks " + key)
        if s["completed"] < 10 or s["completed"] != s["sent"] or s["failed"] != 0:
            fail("requests lost: %s" % s)
        if not (s["output_tokens_per_s"] > 0 and 0 < s["ttft_ms"]["p50"] <= s["ttft_ms"]["p99"]
                and 0 <= s["itl_ms"]["p50"] <= s["itl_ms"]["p99"]):
            fail("inconsistent figures: %s" % s)
        if "TTFT" not in r.stdout or "tokens/s" not in r.stdout:
            fail("no summary printed")
    finally:
        server.send_signal(signal.SIGINT)
        if server.wait(60) != 0:
            fail("server exit %d" % server.returncode)


if __name__ == "__main__":
    main()
