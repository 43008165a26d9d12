#!/usr/bin/env python3
"""Throughput cost of llm_server --profile: the same fixed work (32 start-up requests, seed 3)
run 8 times, profiling off and on alternating (off on on off off on on off), wall time to
completion and CPU time of the server process. Usage: bench/llm_profile_overhead.py [BUILD_DIR]
"""
import json, subprocess, sys, time, urllib.request, signal, os, statistics
SERVER = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "build", "llm_server")
def run(profile):
    args = [SERVER, "--port", "0", "--test-requests", "32", "--seed", "3"] + (["--profile"] if profile else [])
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    t0 = time.time()
    while True:
        h = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/health" % port).read())
        if h["steps"] > 0 and h["in_flight"] == 0 and h["queued"] == 0: break
        time.sleep(0.02)
    wall = time.time() - t0
    p.send_signal(signal.SIGINT)
    _, status, ru = os.wait4(p.pid, 0)
    return wall, ru.ru_utime + ru.ru_stime, h["steps"]
res = {False: [], True: []}
for profile in [False, True, True, False, False, True, True, False]:
    w, c, st = run(profile)
    res[profile].append((w, c))
    print("profile=%d wall=%.2fs cpu=%.2fs steps=%d" % (profile, w, c, st), flush=True)
for k in (False, True):
    print(k, "median wall %.3f cpu %.3f" % (statistics.median(x[0] for x in res[k]), statistics.median(x[1] for x in res[k])))
mw = statistics.median(x[0] for x in res[True]) / statistics.median(x[0] for x in res[False])
mc = statistics.median(x[1] for x in res[True]) / statistics.median(x[1] for x in res[False])
print("on/off wall %.3f cpu %.3f" % (mw, mc))
