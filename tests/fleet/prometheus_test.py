#!/usr/bin/env python3
"""Debian's Prometheus scrapes three profiled llm_server instances; its PromQL answer agrees with
`huoyan top` on the same runs.

Starts three `llm_server --profile` (small model, free ports) and one `prometheus` (free port,
temporary folder, 1 s scrape interval) scraping their /metrics, drives each server with
llm_loadgen, waits for a scrape after the load, then checks:
  - every target is up;
  - `sum by (kernel) (huoyan_kernel_duration_seconds_sum)` equals, per kernel, the sum of the
    three profiles' totals from `huoyan top --kind work --json` (the profiles are written at
    shutdown), to 1e-6 relative — with no event missed between scrapes;
  - `sum(huoyan_kernel_duration_seconds_count)` equals the total kernel count;
  - the request histograms saw every finished request
    (`sum(huoyan_request_latency_seconds_count)` = the loadgen's completions).

usage: prometheus_test.py PROMETHEUS LLM_SERVER LLM_LOADGEN HUOYAN WORKDIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

PROMETHEUS, SERVER, LOADGEN, HUOYAN, WORK = sys.argv[1:6]
SMALL = ["--layers", "1", "--d-model", "128", "--heads", "2", "--head-dim", "64",
         "--ffn-dim", "256", "--http-threads", "8"]
procs = []


def fail(msg):
    print("FAIL: " + msg, flush=True)
    for p in procs:
        if p.poll() is None:
            p.kill()
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def promql(base, query):
    d = get_json(base + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    if d.get("status") != "success":
        fail("query %r: %s" % (query, d))
    return d["data"]["result"]


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

# Three servers.
servers = []
for i in range(3):
    out = os.path.join(WORK, "server%d.json.gz" % i)
    p = subprocess.Popen([SERVER, "--port", "0", "--profile", "--profile-out", out] + SMALL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(p)
    line = p.stdout.readline()
    if "listening on http://" not in line:
        fail("server %d: no 'listening on' line, got %r" % (i, line))
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    servers.append((p, port, out))

# Prometheus scraping them every second.
prom_port = free_port()
config = os.path.join(WORK, "prometheus.yml")
with open(config, "w") as f:
    f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: llm\n    static_configs:\n      - targets: [%s]\n"
            % ", ".join("'127.0.0.1:%d'" % port for _, port, _ in servers))
prom = subprocess.Popen([PROMETHEUS, "--config.file=" + config,
                         "--storage.tsdb.path=" + os.path.join(WORK, "tsdb"),
                         "--web.listen-address=127.0.0.1:%d" % prom_port],
                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "prom.log"), "w"))
procs.append(prom)
base = "http://127.0.0.1:%d" % prom_port
deadline = time.time() + 60
while True:
    try:
        targets = get_json(base + "/api/v1/targets")["data"]["activeTargets"]
        if len(targets) == 3 and all(t["health"] == "up" for t in targets):
            break
    except Exception:  # not listening yet
        pass
    if prom.poll() is not None:
        fail("prometheus exited with %d (see %s/prom.log)" % (prom.returncode, WORK))
    if time.time() > deadline:
        fail("prometheus targets not all up after 60 s")
    time.sleep(0.5)
print("prometheus on :%d scrapes %s" % (prom_port, [port for _, port, _ in servers]), flush=True)

# Load on all three at once.
loads = [subprocess.Popen([LOADGEN, "--url", "http://127.0.0.1:%d" % port, "--quiet", "--rate",
                           "50", "--concurrency", "4", "--duration", "4", "--seed", str(70 + i),
                           "--prompt-max", "32", "--output-max", "24"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
         for i, (_, port, _) in enumerate(servers)]
for i, l in enumerate(loads):
    out, err = l.communicate(timeout=300)
    if l.returncode != 0:
        fail("loadgen %d exited with %d: %s" % (i, l.returncode, err))
# Every server idle, then two scrapes after the last event.
for _, port, _ in servers:
    while get_json("http://127.0.0.1:%d/health" % port)["in_flight"] > 0:
        time.sleep(0.2)
time.sleep(3.5)

prom_sum = {r["metric"]["kernel"]: float(r["value"][1])
            for r in promql(base, "sum by (kernel) (huoyan_kernel_duration_seconds_sum)")}
prom_count = float(promql(base, "sum(huoyan_kernel_duration_seconds_count)")[0]["value"][1])
missed = float(promql(base, "sum(huoyan_kernel_events_missed_total)")[0]["value"][1])
requests = float(promql(base, "sum(huoyan_request_latency_seconds_count)")[0]["value"][1])
prom.send_signal(signal.SIGTERM)
prom.wait(60)

# The three profiles, through huoyan top.
top_total = {}
top_count = 0
for p, port, out in servers:
    p.send_signal(signal.SIGINT)
    if p.wait(120) != 0:
        fail("llm_server on :%d exited with %d" % (port, p.returncode))
    r = subprocess.run([HUOYAN, "top", out, "--kind", "work", "--limit", "0", "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("huoyan top %s: %s" % (out, r.stderr))
    for row in json.loads(r.stdout):
        top_total[row["name"]] = top_total.get(row["name"], 0) + row["total_ns"] / 1e9
        top_count += row["count"]

print("kernel            prometheus (s)   huoyan top (s)")
for name in sorted(top_total):
    print("%-16s %16.9f %16.9f" % (name, prom_sum.get(name, -1), top_total[name]))
print("other            %16.9f" % prom_sum.get("other", 0))
print("kernels: %d (prometheus) vs %d (top); missed %d; requests %d" %
      (prom_count, top_count, missed, requests), flush=True)
if missed != 0:
    fail("events were evicted before /metrics saw them")
if set(prom_sum) - {"other"} != set(top_total) or prom_sum.get("other", 0) != 0:
    fail("kernel sets differ: %s vs %s" % (sorted(prom_sum), sorted(top_total)))
for name, total in top_total.items():
    if abs(prom_sum[name] - total) > 1e-6 * max(total, 1e-3):
        fail("%s: prometheus %.9f s, huoyan top %.9f s" % (name, prom_sum[name], total))
if prom_count != top_count:
    fail("kernel count: prometheus %d, huoyan top %d" % (prom_count, top_count))
if requests <= 0:
    fail("no finished request in huoyan_request_latency_seconds")
print("PASS")
