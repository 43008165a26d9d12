#!/usr/bin/env python3
"""Abuse probes against `huoyan serve` and `llm_server --profile` on loopback (ctest abuse.*).

For each server: a header flood (one connection sending header lines without end; RSS must stay
within 50 MB of idle), 64 slowloris connections (one byte every half second), 1 000 idle
connections, a body-less POST, then SIGTERM with all of that still connected. Throughout, a
normal request on a fresh connection must be answered within 1 s and the process must stay up;
SIGTERM must end it within 2 s.

--wrk SECONDS instead measures load (bench/README.md): wrk on /api/requests (huoyan serve) and
/v1/completions (llm_server) alone, then while the abuse runs.
"""
import argparse
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SMALL = ["--d-model", "128", "--layers", "2", "--heads", "4", "--head-dim", "32",
         "--ffn-dim", "256", "--group-size", "32", "--kv-blocks", "256"]
ANSWER_S = 1.0  # a normal request must be answered within this


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def start(cmd, pattern):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for _ in range(20):
        line = proc.stdout.readline()
        m = re.search(pattern, line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
            return proc, int(m.group(1))
        if not line:
            break
    proc.kill()
    fail("%s did not print its port" % cmd[0])


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def request(port, head, timeout):
    """One request on a fresh connection: (status, seconds) or (None, seconds)."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
            s.sendall(head.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
        return status, time.monotonic() - t0
    except OSError:
        return None, time.monotonic() - t0


class Target:
    def __init__(self, name, proc, port, probe_path, token=None):
        self.name, self.proc, self.port, self.probe_path = name, proc, port, probe_path
        self.auth = "Authorization: Bearer %s\r\n" % token if token else ""

    def probe(self, what):
        """A normal GET must be answered (2xx) within ANSWER_S; one retry for a scheduling hiccup
        of the loaded test machine, never for a refused or missing answer."""
        head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n"
                % (self.probe_path, self.port, self.auth))
        for attempt in range(2):
            status, took = request(self.port, head, timeout=3.0)
            if status is None or status >= 300:
                fail("%s, %s: normal request got %s after %.2f s" % (self.name, what, status, took))
            if took <= ANSWER_S:
                break
            if attempt == 1:
                fail("%s, %s: normal request took %.2f s" % (self.name, what, took))
        if self.proc.poll() is not None:
            fail("%s, %s: the process died (exit %s)" % (self.name, what, self.proc.returncode))
        return took


class Abuse:
    """Background abusers; stop() ends them and closes their sockets."""

    def __init__(self, port):
        self.port = port
        self.stopping = threading.Event()
        self.threads = []
        self.socks = []
        self.lock = threading.Lock()
        self.flood_bytes = 0

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        with self.lock:
            self.socks.append(s)
        return s

    def header_flood(self):
        def run():
            line = b"X-Flood: " + b"a" * 1000 + b"\r\n"
            while not self.stopping.is_set():
                try:
                    s = self._connect()
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    while not self.stopping.is_set():
                        s.sendall(line)
                        self.flood_bytes += len(line)
                except OSError:
                    time.sleep(0.01)  # cut off by the server: start again
        self._spawn(run)

    def slowloris(self, n):
        def run():
            socks = []
            for _ in range(n):
                try:
                    s = self._connect()
                    s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    socks.append(s)
                except OSError:
                    pass
            while not self.stopping.wait(0.5):
                for i, s in enumerate(socks):
                    try:
                        s.sendall(b"X")
                    except OSError:  # dropped at its deadline: come back, as an attacker would
                        try:
                            socks[i] = self._connect()
                            socks[i].sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                        except OSError:
                            pass
        self._spawn(run)

    def idle(self, n):
        opened = 0
        for _ in range(n):
            try:
                self._connect()
                opened += 1
            except OSError:
                break
        return opened

    def _spawn(self, fn):
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self):
        self.stopping.set()
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass
            self.socks.clear()
        for t in self.threads:
            t.join(5)


def probe_for(target, seconds, what):
    end = time.monotonic() + seconds
    worst = 0.0
    while time.monotonic() < end:
        worst = max(worst, target.probe(what))
        time.sleep(0.25)
    return worst


def run_probes(target, post_path, post_ok):
    for _ in range(3):
        target.probe("warm-up")
    idle_rss = rss_mb(target.proc.pid)
    report = {}

    # 1. Header flood: memory stays bounded, others are served.
    a = Abuse(target.port)
    a.header_flood()
    report["flood"] = probe_for(target, 3.0, "header flood")
    peak = rss_mb(target.proc.pid)
    a.stop()
    if peak - idle_rss > 50:
        fail("%s: RSS grew from %.0f to %.0f MB under a header flood" % (target.name, idle_rss, peak))
    if a.flood_bytes < 100000:
        fail("%s: the flood did not run (%d bytes)" % (target.name, a.flood_bytes))
    report["rss"] = "%.0f → %.0f MB (%.0f MB flooded)" % (idle_rss, peak, a.flood_bytes / 1e6)

    # 2. 64 slowloris connections.
    a = Abuse(target.port)
    a.slowloris(64)
    time.sleep(0.5)
    report["slowloris"] = probe_for(target, 3.0, "64 slowloris connections")
    a.stop()

    # 3. 1 000 idle connections.
    a = Abuse(target.port)
    opened = a.idle(1000)
    if opened < 1000:
        fail("%s: only %d of 1000 idle connections opened" % (target.name, opened))
    report["idle"] = probe_for(target, 1.5, "1000 idle connections")
    a.stop()

    # 4. The documented body-less POST is answered at once.
    status, took = request(target.port,
                           "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n"
                           % (post_path, target.port, target.auth), timeout=3.0)
    if status not in post_ok or took > ANSWER_S:
        fail("%s: body-less POST %s got %s after %.2f s" % (target.name, post_path, status, took))
    report["post"] = took

    # 5. SIGTERM with everything connected.
    a = Abuse(target.port)
    a.header_flood()
    a.slowloris(64)
    a.idle(1000)
    time.sleep(1.0)
    target.probe("everything at once")
    t0 = time.monotonic()
    target.proc.send_signal(signal.SIGTERM)
    try:
        rc = target.proc.wait(10)
    except subprocess.TimeoutExpired:
        target.proc.kill()
        fail("%s: still running 10 s after SIGTERM" % target.name)
    took = time.monotonic() - t0
    a.stop()
    if took > 2.0:
        fail("%s: SIGTERM took %.2f s with abusive clients connected" % (target.name, took))
    if rc != 0:
        fail("%s: exit code %d after SIGTERM" % (target.name, rc))
    report["sigterm"] = took
    print("%s: worst answer %.3f s (flood), %.3f s (slowloris), %.3f s (idle); RSS %s; "
          "body-less POST %.3f s; SIGTERM %.2f s"
          % (target.name, report["flood"], report["slowloris"], report["idle"], report["rss"],
             report["post"], report["sigterm"]))


def start_target(kind, args):
    if kind == "serve":
        proc, port = start([args.huoyan, "serve", "--listen", "127.0.0.1:0", args.trace],
                           r"http://127\.0\.0\.1:(\d+)/")
        return Target("huoyan serve", proc, port, "/api/status"), "/api/capture?duration_ms=5000", {503}
    proc, port = start([args.llm_server, "--profile", "--port", "0", "--host", "127.0.0.1"] + SMALL,
                       r"listening on http://[^:]+:(\d+)/")
    return Target("llm_server", proc, port, "/health"), "/api/capture?duration_ms=200", {200, 409}


def wrk(port, path, seconds, lua=None):
    cmd = ["wrk", "-t2", "-c16", "-d%ds" % seconds, "--latency", "--timeout", "5s"]
    if lua:
        cmd += ["-s", lua]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                         text=True, timeout=seconds + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return (float(rps.group(1)) if rps else 0.0, p99.group(1) if p99 else "?",
            int(errors.group(1)) if errors else 0, int(timeouts.group(1)) if timeouts else 0)


def load_figures(args):
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
              'wrk.body = \'{"prompt": "hello huoyan", "max_tokens": 4}\'\n')
    lua.close()
    rows = []
    for kind, path in (("serve", "/api/requests"), ("llm", "/v1/completions")):
        target, _, _ = start_target(kind, args)
        script = lua.name if kind == "llm" else None
        for _ in range(3):
            target.probe("warm-up")
        base = wrk(target.port, path, args.wrk, script)
        a = Abuse(target.port)
        a.header_flood()
        a.slowloris(64)
        a.idle(1000)
        time.sleep(1.0)
        abused = wrk(target.port, path, args.wrk, script)
        a.stop()
        target.proc.send_signal(signal.SIGTERM)
        target.proc.wait(10)
        rows.append((target.name, path, base, abused))
    os.unlink(lua.name)
    print("| server | endpoint | alone: req/s | alone: p99 | under abuse: req/s | under abuse: p99 |")
    print("|---|---|---|---|---|---|")
    for name, path, b, u in rows:
        note = "" if not (u[2] or u[3]) else " (%d non-2xx, %d timeouts)" % (u[2], u[3])
        print("| %s | `%s` | %.0f | %s | %.0f | %s%s |" % (name, path, b[0], b[1], u[0], u[1], note))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--huoyan", required=True)
    p.add_argument("--llm-server", required=True)
    p.add_argument("--trace", required=True)
    p.add_argument("--wrk", type=int, default=0, help="measure load for this many seconds")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192) if hard > 0 else 8192, hard))
    if args.wrk:
        load_figures(args)
        return
    for kind in ("serve", "llm"):
        target, post_path, post_ok = start_target(kind, args)
        try:
            run_probes(target, post_path, post_ok)
        finally:
            if target.proc.poll() is None:
                target.proc.kill()
    print("PASS")


if __name__ == "__main__":
    main()
