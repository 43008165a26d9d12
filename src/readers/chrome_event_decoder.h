// Decoding of single Chrome Trace Event objects into a TraceStore.
//
// The top-level walker (chrome_json_reader.cc) cuts each event object out of the input with
// JsonStream; this decoder parses it with simdjson On-Demand and appends it through a
// TraceStore::Writer held for batches of a few thousand events (released before every
// blocking read, so readers of the store are never starved). The rules:
//  - Phases: "X" → a duration event, its kind from "cat" (kind_from_category()). "B"/"E"
//    are buffered per (pid, tid) and paired at finish() (PendingSlices: stable sort by ts, a
//    stack, names ignored); an unmatched E is skipped ("unmatched E"), an unclosed B is kept,
//    running to the last timestamp of the trace, with event_flags::kUnclosed ("unclosed B").
//    "i"/"I" → kInstant ("s":"g"/"p" → scope flags); "C" → kCounter, every arg a series; "s"/
//    "t"/"f" → flows and "b"/"e"/"n" → async, with "id" or "id2" {"local"|"global"} ("bp":"e"
//    → kBindEnclosing); "M" → process/track names, sort indexes and labels (other "M" names
//    are kept in Process::labels with their first arg's value). Any other phase (P, O, N, D,
//    R, legacy S/T/F…) is skipped and counted per letter ("unsupported phase 'P'").
//  - "ts"/"dur": microseconds, as numbers or numeric strings (Ascend), converted to ns from
//    their digits, never through a double. Missing or unreadable ts → skipped ("missing ts",
//    "bad ts"). An "X" without "dur" is kept with dur 0 and counted ("X without dur …"): its
//    "tdur", if any, is thread (CPU) time, not wall time, so it is not used. A negative dur is
//    skipped ("negative dur"), one that is not a number or overflows int64 ns (NaN, "abc",
//    1e400, ts+dur past 2^63) too ("bad dur").
//  - "pid"/"tid": integers, or strings — numeric strings become their number, any other text
//    a stable synthetic id (2^52 + a 48-bit hash of the text, so the same text maps to the
//    same id in every file and run) with the text kept as Process::label / Track::tid_label.
//    ReadOptions::pid_offset is added to every pid.
//  - Ids ("id", "id2", args.correlation): exact 64-bit integers (also beyond 2^53); "0x…"
//    strings → kIdHex; other non-numeric strings are interned → kIdString.
//  - "args": integers exact (kInt/kUint), other numbers kDouble (kJson text beyond double
//    range), strings, booleans, null, nested objects/arrays as their raw JSON (kJson). Numeric
//    "correlation" (duration events and instants) → Event::id, numeric "step" → Event::step,
//    string "request_id" → Event::request (not counters): these are not kept as args.
//  - Kineto / msprof specifics of duration events (their args are kept as they are):
//     * Launch links (Event::id, which flame graphs use to put device work under the host call
//       that launched it): "correlation" as above; else msprof's "connection_id" (a CANN API
//       call and its device task share it); else Kineto's "External id", tagged
//       (kExternalIdTag|External id, never equal to a correlation): a CPU op and the device
//       work that carries its External id but no correlation then link directly.
//     * Ascend device tasks (no "cat", args "Task Type" and "Task Id"): kind by task type
//       (ascend_task_kind(): copies, waits, collectives, kernels). Slices that no category
//       or task type explains stay kSpan: their process decides (Snapshot::kind_of()).
//     * "ProfilerStep#N" X spans on the host (not "gpu_*" categories) → Step N with the span's
//       times and thread, unless the store has step N already; #0 is not a step (0 = none).
//       Kernels are not re-stamped with the step: they link to it through their launch.
//     * A process already typed by its name ("Ascend Hardware", NPU index unknown) takes the
//       index from a later "process_labels" such as "NPU 2".
//  - Duplicate keys: the last occurrence wins, in the event object and in "args" alike (a
//    second "args" object replaces the first).
//  - Bad bytes: an event with invalid UTF-8 or raw control characters in strings is parsed
//    again after replacing the offending bytes with '?' (' ' for tab/CR/LF) and counted
//    ("invalid UTF-8 repaired", "control characters in strings repaired"); an event nested
//    deeper than kMaxDepth, or that simdjson rejects, is skipped ("args nested too deep",
//    "malformed event JSON").
// Counters go to store.skips() (flushed at the end); ReadStats::skipped counts only the events
// that were not stored.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "src/core/trace_store.h"
#include "src/readers/json_stream.h"
#include "src/readers/reader.h"

namespace huoyan {

class ChromeEventDecoder {
 public:
  // Deeper bracket nesting inside one event is not parsed ("args nested too deep").
  static constexpr int kMaxDepth = 1000;

  ChromeEventDecoder(TraceStore& store, const ReadOptions& options);
  ~ChromeEventDecoder();
  ChromeEventDecoder(const ChromeEventDecoder&) = delete;
  ChromeEventDecoder& operator=(const ChromeEventDecoder&) = delete;

  // One element of "traceEvents" that starts with '{' (as cut out by JsonStream::scan).
  void event(const JsonStream::Value& v);
  // Elements of the "huoyan" section written by ChromeJsonWriter.
  void huoyan_step(const JsonStream::Value& v);
  void huoyan_request(const JsonStream::Value& v);
  // The top-level "metadata" object: string values become store metadata; "huoyan_skipped"
  // (written by ChromeJsonWriter) restores the skip counters of the original import.
  void trace_metadata(const JsonStream::Value& v);
  void set_metadata(std::string_view key, std::string_view value);

  // An event that could not be stored (counted in ReadStats::skipped and store.skips()).
  void skip_event(std::string_view reason);
  // A repair or oddity that did not lose the event (store.skips() only).
  void note(std::string_view reason, uint64_t n = 1);

  // Releases the store's writer lock; called before blocking reads so readers can run.
  void release_writer();
  // Pairs the buffered B/E events, appends them, and publishes the counters.
  void finish();
  // Publishes the counters only (when the import stops on an error).
  void flush_counters();

  uint64_t events_stored() const;
  uint64_t pending_slices() const;  // B/E events buffered until finish()
  uint64_t events_skipped() const;
  uint64_t metadata_events() const;
  // Objects that simdjson rejected, and the offset of the first one (for error messages when
  // nothing at all could be read).
  uint64_t malformed_events() const;
  uint64_t first_malformed_offset() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huoyan
