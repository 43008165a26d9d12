#!/usr/bin/env python3
"""Compare `huoyan top --kind all` with the expectations written by expect.py.

Usage:
    python3 check.py --huoyan PATH/TO/huoyan --expected DIR
                     [--shared ROOT] [--corpus ROOT] [-j N] [ENTRY_ID...]

For every expectation file in DIR (or only the given entry ids, e.g.
`corpus/hta/tests/data/trace_compare/test/test.json.gz`, or expectation file
names), the input is looked up under its root: `corpus` entries under
--corpus (default: $HUOYAN_CORPUS, else a `corpus` folder beside the shared
collection, i.e. `shared/testdata/corpus`), `shared` entries under --shared
(default: $HUOYAN_SHARED_REAL, else /work/shared/testdata/real). An entry
whose root is not available is skipped.

For each input it runs
    huoyan top <input> --json --kind all --limit 0
(timeout 120 s) and checks that
  * every expected (kind, name) row is there with the exact count and
    |total_ns - expected| <= count ns,
  * there is no other row,
  * every kind is kernel, memcpy, memset, collective or wait,
  * each row's share is total_ns / device_total_ns of the expectation
    within 0.001 (0 when the expected device total is 0).
It prints `ok ENTRY`, `FAIL ENTRY: reason` or `skipped ENTRY: reason` per
entry, then `N passed, N failed` (`, N skipped` when some were skipped), and
exits 1 if anything failed.
"""

import argparse
import concurrent.futures
import json
import math
import os
import subprocess
import sys

KINDS = ("kernel", "memcpy", "memset", "collective", "wait")
TIMEOUT_S = 120
SHOW = 4


def load_expectations(d, wanted):
    out = []
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".json"):
            continue
        with open(os.path.join(d, fn), encoding="utf-8") as f:
            e = json.load(f)
        eid = "%s/%s" % (e["root"], e["input"])
        if wanted and eid not in wanted and fn not in wanted and fn[:-5] not in wanted:
            continue
        out.append((eid, e))
    if wanted:
        found = {eid for eid, _ in out} | {eid.replace("/", "__") for eid, _ in out}
        for w in wanted:
            w2 = w[:-5] if w.endswith(".json") else w
            if w not in found and w2 not in found and w2.replace("/", "__") not in found:
                out.append((w, None))
    return out


def short(s, n=90):
    return s if len(s) <= n else s[:n - 3] + "..."


def fmt_row(kind, name, count, total):
    return "(%s, %s) count=%s total_ns=%s" % (kind, short(repr(name)), count, total)


def run_one(huoyan, path, exp):
    cmd = [huoyan, "top", path, "--json", "--kind", "all", "--limit", "0"]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "timeout after %d s" % TIMEOUT_S
    except OSError as ex:
        return "cannot run huoyan: %s" % ex
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    if r.returncode != 0:
        return "huoyan exit %d: %s" % (r.returncode, short(" | ".join(err[-3:]), 300))
    try:
        got = json.loads(r.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as ex:
        return "output is not JSON (%s)" % ex
    if not isinstance(got, list):
        return "output is not a JSON array"

    problems = []
    rows = {}
    for x in got:
        if not isinstance(x, dict) or not {"name", "kind", "count", "total_ns"} <= set(x):
            return "row without name/kind/count/total_ns: %s" % short(json.dumps(x), 200)
        key = (x["kind"], x["name"])
        if x["kind"] not in KINDS:
            problems.append("bad kind %s" % fmt_row(x["kind"], x["name"], x["count"], x["total_ns"]))
        if key in rows:
            problems.append("duplicate row %s" % fmt_row(x["kind"], x["name"], x["count"], x["total_ns"]))
        rows[key] = x

    total = exp["device_total_ns"]
    want = {(r["kind"], r["name"]): r for r in exp["rows"]}
    missing, wrong, extra, share_bad = [], [], [], []
    for key, w in want.items():
        g = rows.get(key)
        if g is None:
            missing.append("missing %s" % fmt_row(key[0], key[1], w["count"], w["total_ns"]))
            continue
        if g["count"] != w["count"] or abs(g["total_ns"] - w["total_ns"]) > w["count"]:
            wrong.append("%s: got count=%s total_ns=%s" % (
                fmt_row(key[0], key[1], w["count"], w["total_ns"]), g["count"], g["total_ns"]))
    for key, g in rows.items():
        if key not in want:
            extra.append("extra %s" % fmt_row(key[0], key[1], g["count"], g["total_ns"]))
    for key, g in rows.items():
        s = g.get("share")
        if total:
            exp_share = g["total_ns"] / total
            if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s) \
                    or abs(s - exp_share) > 0.001:
                share_bad.append("share of (%s, %s) is %s, want %.6f" % (
                    key[0], short(repr(key[1]), 60), s, exp_share))
        elif s not in (None, 0, 0.0):
            share_bad.append("share of (%s, %s) is %s, want 0 (no device time)" % (
                key[0], short(repr(key[1]), 60), s))
    for lst in (missing, wrong, extra, share_bad):
        problems.extend(lst)
    if problems:
        head = "%d missing, %d differing, %d extra, %d bad share; " % (
            len(missing), len(wrong), len(extra), len(share_bad))
        return head + "; ".join(problems[:SHOW]) + ("; ..." if len(problems) > SHOW else "")
    return None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--huoyan", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--shared", default=os.environ.get("HUOYAN_SHARED_REAL",
                                                       "/work/shared/testdata/real"))
    ap.add_argument("--corpus", default=os.environ.get("HUOYAN_CORPUS"))
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument("entries", nargs="*")
    a = ap.parse_args(argv)

    corpus = a.corpus or os.path.join(os.path.dirname(os.path.normpath(a.shared)), "corpus")
    roots = {"shared": a.shared, "corpus": corpus}
    todo = load_expectations(a.expected, set(a.entries))
    results = {}
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        for eid, e in todo:
            if e is None:
                results[eid] = ("FAIL", "no expectation for this entry in %s" % a.expected)
                continue
            root = roots.get(e["root"])
            if not root or not os.path.isdir(root):
                results[eid] = ("skipped", "root %r not available (give --%s)" % (e["root"], e["root"]))
                continue
            path = os.path.join(root, e["input"])
            if not os.path.exists(path):
                results[eid] = ("skipped", "input not found under %s" % root)
                continue
            jobs[eid] = ex.submit(run_one, a.huoyan, path, e)
        for eid, fut in jobs.items():
            why = fut.result()
            results[eid] = ("ok", None) if why is None else ("FAIL", why)

    n = {"ok": 0, "FAIL": 0, "skipped": 0}
    for eid, _ in todo:
        st, why = results[eid]
        n[st] += 1
        print("ok %s" % eid if st == "ok" else "%s %s: %s" % (st, eid, why))
        sys.stdout.flush()
    line = "%d passed, %d failed" % (n["ok"], n["FAIL"])
    if n["skipped"]:
        line += ", %d skipped" % n["skipped"]
    print(line)
    return 1 if n["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
