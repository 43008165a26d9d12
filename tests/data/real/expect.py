#!/usr/bin/env python3
"""Independent expectations for `huoyan top --kind all`.

Reads a trace (Chrome/Kineto JSON, optionally gzipped; a torch_npu
ASCEND_PROFILER_OUTPUT folder or its `*_ascend_pt` parent; an msprof PROF_*
folder; a kernel_details / op_summary / task_time CSV; an Nsight Systems
SQLite export; an msprof .db) and writes, per input, the per-(kind, name)
rows that the "Event kinds: what counts as device time" table of
docs/formats.md defines:

    {"root": "corpus"|"shared", "input": "<path relative to ROOT>",
     "device_total_ns": N,
     "rows": [{"kind": K, "name": NAME, "count": C, "total_ns": T}, ...]}

Only kinds kernel, memcpy, memset, collective and wait are listed;
device_total_ns is the sum over kernel+memcpy+memset+collective.

This script deliberately shares no code with huoyan: it is written from the
table in docs/formats.md only, with the Python 3 standard library.

Usage:
    python3 expect.py ROOT ENTRY... --out DIR [--id-prefix corpus|shared]
    python3 expect.py --manifest manifest.txt --corpus ROOT --shared ROOT --out DIR
    python3 expect.py --print ROOT ENTRY        (rows to stdout, nothing written)

In manifest mode every non-comment line of the manifest is an entry id
`corpus/<path>` or `shared/<path>`; the path is relative to the matching root
(`--corpus`, default $HUOYAN_CORPUS; `--shared`, default
/work/shared/testdata/real). Entries whose root is missing are skipped.
"""

import argparse
import csv
import decimal
import gzip
import io
import json
import os
import re
import sqlite3
import sys
from decimal import Decimal, ROUND_HALF_EVEN

DEVICE_KINDS = ("kernel", "memcpy", "memset", "collective")
LISTED_KINDS = DEVICE_KINDS + ("wait",)

# ---------------------------------------------------------------------------
# numbers


def to_decimal(v):
    """A ts/dur/CSV value as an exact Decimal, or None."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        try:
            d = Decimal(s)
        except decimal.InvalidOperation:
            return None
        if not d.is_finite():
            return None
        return d
    return None


def us_to_ns(d):
    """Exact µs Decimal -> integer ns, half-even."""
    return int((d * 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# ---------------------------------------------------------------------------
# classification tables (docs/formats.md, "Event kinds")

KINETO_EXACT = {
    "kernel": "kernel",
    "memcpy": "memcpy",
    "memset": "memset",
    "collective_comm": "collective",
    "cuda_sync": "wait",
    "xpu_sync": "wait",
    "gpu_user_annotation": "device-range",
    "cuda_profiler_range": "device-range",
    "cuda_event": "device-range",
}
for _h in ("cpu_op", "user_annotation", "python_function", "cuda_runtime",
           "cuda_driver", "xpu_runtime", "xpu_driver", "mtia_runtime",
           "privateuse1_runtime", "privateuse1_driver", "hpu_op",
           "glow_runtime", "cpu_instant_event", "overhead",
           "external_correlation", "runtime", "operator", "python", "trace",
           "enqueue", "dequeue"):
    KINETO_EXACT[_h] = "host"


def kineto_item_kind(item):
    """Kind of one comma-separated `cat` item, or None if unknown."""
    it = item.strip().lower()
    if not it:
        return None
    k = KINETO_EXACT.get(it)
    if k is not None:
        return k
    if "_" in it:
        vendor, rest = it.split("_", 1)
        if vendor and rest:
            # a vendor's device-side user annotation (gpu_/mlu_..._user_annotation)
            # is the device range, not the host annotation
            if rest == "user_annotation":
                return "device-range"
            k = KINETO_EXACT.get(rest)
            if k is not None:
                return k
    return None


def kineto_cat_kind(cat):
    if not isinstance(cat, str):
        return None
    for item in cat.split(","):
        k = kineto_item_kind(item)
        if k is not None:
            return k
    return None


NCCL_RE = re.compile(r"nccl|rccl", re.I)


def kernel_or_collective(name):
    return "collective" if NCCL_RE.search(name or "") else "kernel"


def task_type_kind(tt):
    """Ascend `Task Type` (Ascend Hardware task / CSV core) -> kind."""
    t = (tt or "").strip().upper()
    if "MEMCPY" in t:
        return "memcpy"
    if "WAIT" in t or "RECORD" in t or "RESET" in t:
        return "wait"
    if t in ("HCCL", "COMMUNICATION") or "REDUCE" in t:
        return "collective"
    return "kernel"


ASCEND_HOST_PROCS = {"cann", "python", "python gc", "pid name", "mstx"}
ASCEND_DERIVED_PROCS = {"overlap analysis", "step trace"}
DEVICE_PROC_RE = re.compile(
    r"^\s*(gpu|npu|mlu|xpu|mtia|hpu|tpu|ipu|dcu|cpu|device)\s*[:#]?\s*\d+\b"
    r"|/device:(gpu|tpu|xpu)\b", re.I)


def device_track_kind(name):
    """Kind of a slice of unknown category on a device-named process.

    The table says `kernel`; the device's own waits and copies that such
    producers write by name (MTIA `event_wait`, `event_record`,
    `dma_request`) are read as the table's intent for them (see report).
    """
    n = name.upper()
    if "WAIT" in n or "RECORD" in n or "RESET" in n:
        return "wait"
    if "MEMCPY" in n or "DMA" in n:
        return "memcpy"
    if "MEMSET" in n:
        return "memset"
    return "kernel"


def chrome_kind(ev, proc_name, thread_name):
    """Kind of a Chrome slice (X or matched B/E).

    Order: the Kineto `cat` (the table lists torch_npu among its producers);
    then the torch_npu / msprof processes; then the track rule for unknown
    producers.
    """
    name = ev.get("name")
    name = name if isinstance(name, str) else ("" if name is None else str(name))
    k = kineto_cat_kind(ev.get("cat"))
    if k is not None:
        if k == "kernel":
            return kernel_or_collective(name)
        return k
    p = (proc_name or "").strip().lower()
    if p == "ascend hardware":
        # msprof puts its Step Trace marks on a thread of this process;
        # the table makes Step Trace derived (see report)
        if (thread_name or "").strip().lower().startswith("step trace"):
            return "derived"
        args = ev.get("args") if isinstance(ev.get("args"), dict) else {}
        return task_type_kind(args.get("Task Type"))
    if p in ("hccl", "communication"):
        if "wait" in name.lower():
            return "comm-wait"
        return "comm-collective"
    if p in ASCEND_DERIVED_PROCS:
        return "derived"
    if p in ASCEND_HOST_PROCS:
        return "host"
    if DEVICE_PROC_RE.search(proc_name or ""):
        return device_track_kind(name)
    return "host"


# ---------------------------------------------------------------------------
# accumulation


class Acc:
    """Rows of one input (a file, or every file of a folder)."""

    def __init__(self):
        self.rows = {}
        # msprof writes communication twice: the HCCL/Communication process and the
        # same tasks on the Ascend Hardware streams. Its rows count only when the
        # input has no Ascend Hardware process (the table's "communication" rows).
        self.comm_rows = []
        self.has_hardware = False

    def add_comm(self, kind, name, ns):
        self.comm_rows.append((kind, name, ns))

    def add(self, kind, name, ns):
        if kind not in LISTED_KINDS:
            return
        key = (kind, name)
        r = self.rows.get(key)
        if r is None:
            self.rows[key] = [1, ns]
        else:
            r[0] += 1
            r[1] += ns

    def result(self):
        if not self.has_hardware:
            for k, n, ns in self.comm_rows:
                self.add(k, n, ns)
        self.comm_rows = []
        rows = [{"kind": k, "name": n, "count": c, "total_ns": t}
                for (k, n), (c, t) in self.rows.items()]
        rows.sort(key=lambda r: (-r["total_ns"], r["kind"], r["name"]))
        total = sum(r["total_ns"] for r in rows if r["kind"] in DEVICE_KINDS)
        return total, rows


# ---------------------------------------------------------------------------
# Chrome / Kineto JSON


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def parse_chrome_text(text):
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        pass
    # The Trace Event Format allows an unterminated array: drop trailing
    # whitespace and one trailing comma, then close it.
    t = text.rstrip()
    if t.endswith(","):
        t = t[:-1].rstrip()
    for tail in ("]", "]}", "}]", "}]}"):
        try:
            return json.loads(t + tail, parse_float=Decimal)
        except json.JSONDecodeError:
            continue
    raise ValueError("not parseable as JSON, even as an unterminated trace")


def chrome_events(doc):
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        ev = doc.get("traceEvents")
        if isinstance(ev, list):
            return ev
    raise ValueError("neither a JSON array nor an object with traceEvents")


def pid_key(v):
    return str(v)


def chrome_rows(events, acc):
    procs, threads = {}, {}
    for e in events:
        if not isinstance(e, dict) or e.get("ph") != "M":
            continue
        args = e.get("args") if isinstance(e.get("args"), dict) else {}
        if e.get("name") == "process_name" and "name" in args:
            procs[pid_key(e.get("pid"))] = str(args["name"])
        elif e.get("name") == "thread_name" and "name" in args:
            threads[(pid_key(e.get("pid")), pid_key(e.get("tid")))] = str(args["name"])

    if any(v.strip() == "Ascend Hardware" for v in procs.values()):
        acc.has_hardware = True

    def classify(e):
        p = pid_key(e.get("pid"))
        t = pid_key(e.get("tid"))
        return chrome_kind(e, procs.get(p), threads.get((p, t)))

    def add(k, name, ns):
        if k.startswith("comm-"):
            acc.add_comm(k[5:], name, ns)
        else:
            acc.add(k, name, ns)

    def ev_name(e):
        n = e.get("name")
        return n if isinstance(n, str) else ("" if n is None else str(n))

    be = {}
    for idx, e in enumerate(events):
        if not isinstance(e, dict):
            continue
        ph = e.get("ph")
        if ph == "X":
            k = classify(e)
            if k not in LISTED_KINDS and not k.startswith("comm-"):
                continue
            d = to_decimal(e.get("dur"))
            ns = us_to_ns(d) if d is not None else 0
            add(k, ev_name(e), ns)
        elif ph in ("B", "E"):
            ts = to_decimal(e.get("ts"))
            if ts is None:
                continue
            key = (pid_key(e.get("pid")), pid_key(e.get("tid")))
            be.setdefault(key, []).append((ts, idx, e))
    for key, lst in be.items():
        lst.sort(key=lambda x: (x[0], x[1]))   # stable by ts, then file order
        stack = []
        for ts, _, e in lst:
            if e.get("ph") == "B":
                stack.append((ts, e))
            elif stack:
                bts, b = stack.pop()
                k = classify(b)
                if k in LISTED_KINDS or k.startswith("comm-"):
                    add(k, ev_name(b), us_to_ns(ts - bts))


def chrome_file(path, acc):
    text = read_bytes(path).decode("utf-8-sig", errors="replace")
    chrome_rows(chrome_events(parse_chrome_text(text)), acc)


# ---------------------------------------------------------------------------
# Ascend CSVs


def open_csv(path):
    data = read_bytes(path).decode("utf-8-sig", errors="replace")
    return csv.DictReader(io.StringIO(data, newline=""))


def csv_kind_columns(fields):
    """(name column, duration column, kind column) for a known CSV, or None."""
    f = set(fields or [])
    if "Duration(us)" in f and "Name" in f:                     # kernel_details
        kc = "Accelerator Core" if "Accelerator Core" in f else "Task Type"
        return "Name", "Duration(us)", kc
    if "Task Duration(us)" in f and "Op Name" in f:             # op_summary
        return "Op Name", "Task Duration(us)", "Task Type"
    if "task_time(us)" in f and "kernel_name" in f:             # task_time
        return "kernel_name", "task_time(us)", "kernel_type"
    return None


def csv_file(path, acc):
    r = open_csv(path)
    cols = csv_kind_columns(r.fieldnames)
    if cols is None:
        raise ValueError("CSV without a known duration column: %s" % path)
    nc, dc, kc = cols
    for row in r:
        d = to_decimal(row.get(dc))
        if d is None:
            continue
        core = row.get(kc) if kc in row else None
        acc.add(task_type_kind(core), (row.get(nc) or "").strip(), us_to_ns(d))


def is_kernel_csv(path):
    try:
        return csv_kind_columns(open_csv(path).fieldnames) is not None
    except Exception:
        return False


# ---------------------------------------------------------------------------
# Ascend folders


def find_ascend_output(d):
    """The ASCEND_PROFILER_OUTPUT folder for a path given at either level."""
    if os.path.basename(os.path.normpath(d)) == "ASCEND_PROFILER_OUTPUT":
        return d
    sub = os.path.join(d, "ASCEND_PROFILER_OUTPUT")
    if os.path.isdir(sub):
        return sub
    return None


def ascend_output_folder(d, acc):
    kd = os.path.join(d, "kernel_details.csv")
    if os.path.isfile(kd):
        csv_file(kd, acc)
        return "kernel_details.csv"
    tv = os.path.join(d, "trace_view.json")
    if os.path.isfile(tv):
        chrome_file(tv, acc)
        return "trace_view.json"
    raise ValueError("ASCEND_PROFILER_OUTPUT without kernel_details.csv or trace_view.json")


def sorted_glob(d, rx):
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, n) for n in os.listdir(d) if re.fullmatch(rx, n))


def prof_folder(d, acc):
    """msprof PROF_* folder: msprof_*.json, else op_summary_*.csv, else task_time_*.csv."""
    out = os.path.join(d, "mindstudio_profiler_output")
    devs = sorted(os.path.join(d, n) for n in os.listdir(d)
                  if n.startswith("device_") and os.path.isdir(os.path.join(d, n)))
    # 1. the msprof timeline, all slices
    js = sorted_glob(out, r"msprof_.*\.json")
    if not js:
        js = sorted_glob(os.path.join(d, "timeline"), r"msprof.*\.json")
    if not js:
        for dv in devs:
            js += sorted_glob(os.path.join(dv, "timeline"), r"msprof_.*\.json")
    if js:
        for f in js:
            chrome_file(f, acc)
        return "msprof json: " + ", ".join(os.path.relpath(f, d) for f in js)
    for pat in (r"op_summary_.*\.csv", r"task_time_.*\.csv"):
        cs = sorted_glob(out, pat)
        if not cs:
            for dv in devs:
                cs += sorted_glob(os.path.join(dv, "summary"), pat)
        if cs:
            for f in cs:
                csv_file(f, acc)
            return ", ".join(os.path.relpath(f, d) for f in cs)
    raise ValueError("PROF folder without msprof_*.json, op_summary_*.csv or task_time_*.csv")


def is_prof_folder(d):
    if os.path.basename(os.path.normpath(d)).startswith("PROF_"):
        return True
    return os.path.isdir(os.path.join(d, "mindstudio_profiler_output"))


def folder(d, acc):
    ao = find_ascend_output(d)
    if ao is not None:
        return ascend_output_folder(ao, acc)
    if is_prof_folder(d):
        return prof_folder(d, acc)
    # a *_ascend_pt folder without ASCEND_PROFILER_OUTPUT: its PROF_* inside
    profs = sorted(n for n in os.listdir(d)
                   if n.startswith("PROF_") and os.path.isdir(os.path.join(d, n)))
    if profs:
        return "; ".join(prof_folder(os.path.join(d, p), acc) for p in profs)
    raise ValueError("folder is neither ASCEND_PROFILER_OUTPUT nor PROF_*: %s" % d)


# ---------------------------------------------------------------------------
# SQLite: Nsight Systems and msprof .db

MEMCPY_KINDS = {0: "Memcpy", 1: "Memcpy HtoD", 2: "Memcpy DtoH", 3: "Memcpy HtoA",
                4: "Memcpy AtoH", 5: "Memcpy AtoA", 6: "Memcpy AtoD",
                7: "Memcpy DtoA", 8: "Memcpy DtoD", 9: "Memcpy HtoH",
                10: "Memcpy PtoP"}
# named as Kineto names the same CUPTI synchronization records (cat cuda_sync),
# so a wait row means the same thing whichever file it came from
SYNC_KINDS = {0: "Sync", 1: "Event Sync", 2: "Stream Wait Event",
              3: "Stream Sync", 4: "Context Sync"}


def sqlite_tables(con):
    return {r[0] for r in con.execute("select name from sqlite_master where type='table'")}


def columns(con, t):
    return [r[1] for r in con.execute('pragma table_info("%s")' % t)]


def nsys_file(con, tables, acc):
    strings = {}
    if "StringIds" in tables:
        strings = dict(con.execute("select id, value from StringIds"))

    def valid(s, e):
        return s is not None and e is not None and e >= s

    if "CUPTI_ACTIVITY_KIND_KERNEL" in tables:
        cols = columns(con, "CUPTI_ACTIVITY_KIND_KERNEL")
        dn = "demangledName" if "demangledName" in cols else "NULL"
        sn = "shortName" if "shortName" in cols else "NULL"
        for s, e, d, sh in con.execute(
                'select start, "end", %s, %s from CUPTI_ACTIVITY_KIND_KERNEL' % (dn, sn)):
            if not valid(s, e):
                continue
            name = strings.get(d) if d is not None else None
            if name is None:
                name = strings.get(sh) if sh is not None else None
            if name is None:
                name = "[unknown]"
            acc.add(kernel_or_collective(name), name, e - s)
    if "CUPTI_ACTIVITY_KIND_MEMCPY" in tables:
        cols = columns(con, "CUPTI_ACTIVITY_KIND_MEMCPY")
        ck = "copyKind" if "copyKind" in cols else "NULL"
        for s, e, k in con.execute(
                'select start, "end", %s from CUPTI_ACTIVITY_KIND_MEMCPY' % ck):
            if valid(s, e):
                acc.add("memcpy", MEMCPY_KINDS.get(k, "Memcpy"), e - s)
    if "CUPTI_ACTIVITY_KIND_MEMSET" in tables:
        for s, e in con.execute('select start, "end" from CUPTI_ACTIVITY_KIND_MEMSET'):
            if valid(s, e):
                acc.add("memset", "Memset", e - s)
    if "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION" in tables:
        cols = columns(con, "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION")
        st = "syncType" if "syncType" in cols else "NULL"
        for s, e, k in con.execute(
                'select start, "end", %s from CUPTI_ACTIVITY_KIND_SYNCHRONIZATION' % st):
            if valid(s, e):
                acc.add("wait", SYNC_KINDS.get(k, "Sync"), e - s)


def msprof_db_file(con, tables, acc):
    strings = dict(con.execute("select id, value from STRING_IDS"))
    compute = {}
    if "COMPUTE_TASK_INFO" in tables:
        compute = dict(con.execute("select globalTaskId, name from COMPUTE_TASK_INFO"))
    comm = {}
    if "COMMUNICATION_TASK_INFO" in tables:
        comm = dict(con.execute("select globalTaskId, name from COMMUNICATION_TASK_INFO"))
    for s, e, tt, gid in con.execute(
            "select startNs, endNs, taskType, globalTaskId from TASK"):
        if s is None or e is None or e < s:
            continue
        if gid in compute:
            acc.add("kernel", strings.get(compute[gid], "[unknown]"), e - s)
        elif gid in comm:
            acc.add("collective", strings.get(comm[gid], "[unknown]"), e - s)
        else:
            tname = strings.get(tt, "[unknown]")
            acc.add(task_type_kind(tname), tname, e - s)


def sqlite_file(path, acc):
    # immutable: no -shm/-wal files next to a WAL database in a read-only collection
    con = sqlite3.connect("file:%s?immutable=1" % path, uri=True)
    try:
        tables = sqlite_tables(con)
        if "TASK" in tables and "STRING_IDS" in tables:
            msprof_db_file(con, tables, acc)
            return "msprof-db"
        if "StringIds" in tables or any(t.startswith("CUPTI_ACTIVITY_KIND_") for t in tables):
            nsys_file(con, tables, acc)
            return "nsys-sqlite"
        raise ValueError("SQLite file is neither an nsys export nor an msprof db")
    finally:
        con.close()


# ---------------------------------------------------------------------------
# dispatch


def expect(path):
    """(device_total_ns, rows, how) for one input."""
    acc = Acc()
    if os.path.isdir(path):
        how = folder(path, acc)
    else:
        with open(path, "rb") as f:
            head = f.read(16)
        if head.startswith(b"SQLite format 3\x00"):
            how = sqlite_file(path, acc)
        elif path.lower().endswith(".csv") or path.lower().endswith(".csv.gz"):
            csv_file(path, acc)
            how = "csv"
        else:
            chrome_file(path, acc)
            how = "chrome"
    total, rows = acc.result()
    return total, rows, how


def out_name(entry_id):
    return entry_id.strip("/").replace("/", "__") + ".json"


def write_one(root, rel, prefix, outdir):
    path = os.path.join(root, rel)
    total, rows, how = expect(path)
    entry_id = "%s/%s" % (prefix, rel.strip("/"))
    doc = {"root": prefix, "input": rel.strip("/"), "device_total_ns": total,
           "rows": rows}
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, out_name(entry_id)), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return entry_id, total, rows, how


def guess_prefix(root):
    r = os.path.realpath(root)
    sh = os.path.realpath("/work/shared/testdata/real")
    return "shared" if r == sh else "corpus"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", nargs="?")
    ap.add_argument("entries", nargs="*")
    ap.add_argument("--out")
    ap.add_argument("--id-prefix", choices=("corpus", "shared"))
    ap.add_argument("--manifest")
    ap.add_argument("--corpus", default=os.environ.get("HUOYAN_CORPUS"))
    ap.add_argument("--shared", default=os.environ.get(
        "HUOYAN_SHARED_REAL", "/work/shared/testdata/real"))
    ap.add_argument("--print", action="store_true", dest="show")
    a = ap.parse_args(argv)

    jobs = []
    if a.manifest:
        roots = {"corpus": a.corpus, "shared": a.shared}
        with open(a.manifest, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                pre, rel = line.split("/", 1)
                if pre not in roots:
                    raise SystemExit("bad manifest line: " + line)
                if not roots[pre] or not os.path.exists(os.path.join(roots[pre], rel)):
                    print("skipped %s: root not available" % line, file=sys.stderr)
                    continue
                jobs.append((roots[pre], rel, pre))
    else:
        if not a.root or not a.entries:
            ap.error("give ROOT and ENTRY..., or --manifest")
        pre = a.id_prefix or guess_prefix(a.root)
        jobs = [(a.root, e, pre) for e in a.entries]

    if a.show:
        for root, rel, pre in jobs:
            total, rows, how = expect(os.path.join(root, rel))
            print("%s/%s (%s): device_total_ns=%d" % (pre, rel, how, total))
            for r in rows:
                share = r["total_ns"] / total if total else 0.0
                print("  %-10s %8d %16d %7.3f  %s" % (r["kind"], r["count"], r["total_ns"],
                                                     share, r["name"][:100]))
        return 0
    if not a.out:
        ap.error("--out DIR is required")
    failed = 0
    for root, rel, pre in jobs:
        try:
            eid, total, rows, how = write_one(root, rel, pre, a.out)
            print("%s: %d rows, device_total_ns=%d (%s)" % (eid, len(rows), total, how))
        except Exception as ex:  # report and go on
            failed += 1
            print("ERROR %s/%s: %s" % (pre, rel, ex), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
