// Chrome Trace Event JSON writer (opens in Perfetto and chrome://tracing).
//
// Streaming: events go to a Sink through a buffer as they are written; nothing is built in
// memory. Output is the object form, one event per line:
//
//   {"traceEvents":[
//   {"name":"gemm","cat":"kernel","ph":"X","ts":1.000,"dur":0.001,"pid":1,"tid":7,
//    "args":{"device":0,"step":7,"correlation":42}},
//   …one line per event…,
//   {"name":"process_name","ph":"M","ts":1.000,"pid":1,"tid":0,"args":{"name":"GPU 0"}},
//   …"M" metadata of every process and thread used by the events above…
//   ],
//   "displayTimeUnit":"ns",
//   "metadata":{"key":"value",…,"huoyan_skipped":{"reason":n,…}},
//   "huoyan":{"version":1,
//   "steps":[
//   {"id":7,"start":ns|null,"end":ns|null,"track":[pid,tid],
//    "members":[["req-1",12],["req-2",1]]},
//   …],
//   "requests":[
//   {"id":"req-1","arrival":ns|null,"first_token":ns|null,"finish":ns|null,"tokens_in":n,
//    "tokens_out":n},
//   …]}}
//
// Events:
//  - "ts"/"dur" are µs with exactly three decimals, so integer nanoseconds survive (negative
//    values and values above 2^53 ns included). Times in the "huoyan" section are integer ns.
//  - kernel/memcpy/memset/span → "X" with "dur" ("B" without "dur" when kUnclosed); instant →
//    "i" ("s":"g"/"p" from the scope flags, omitted for thread scope); counter → "C"; flows →
//    "s"/"t"/"f" with "id" ("bp":"e" for kBindEnclosing); async → "b"/"e"/"n" with "id".
//  - Ids: "0x…" string for kIdHex, the interned string for kIdString, "id2":{"local":…} for
//    kIdLocal, else an exact unsigned integer (also above 2^53).
//  - "cat" is omitted when empty. "pid"/"tid" are the original strings when the input used
//    strings (Process::label, Track::tid_label), else integers. With lanes, an event that
//    overlaps its thread's slices without nesting is written on a free integer tid (counted
//    down from 2^31 − 1) named "<thread> (overlapping, lane N)".
//  - "args": the stored args, then Event fields that are not Chrome fields — step → "step",
//    request → "request_id", the id of duration and instant events → "correlation" (counters
//    get none: every counter arg is a series) — then the caller's extra args. A key is written
//    once; when it occurs several times the last source wins (extra > field > stored).
//  - "M" events carry "ts" (the earliest event time written) because some readers skip
//    events without one. Process_labels-style entries (Process::labels) are written as
//    {"name":<label name>,"args":{"labels"|"uptime"|"name":value}}.
// The "huoyan" section carries step membership and request lifecycles so that reading the file
// back restores request attribution; unknown keys must be ignored by readers. A step's "track"
// is the thread that ran it ([pid, tid], strings when the input used strings), omitted when
// the step names a track the snapshot does not know.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct ChromeWriteOptions {
  bool write_metadata_events = true;  // process/thread names and sort indexes of used tracks
  // Events that overlap a slice of their thread without nesting in it go to extra threads of
  // their process, "<thread> (overlapping, lane N)" (chrome_lanes.h): Perfetto drops them
  // otherwise. Costs a sort of each track's duration events before the first one is written.
  bool lanes = true;
};

// Call order: event()* and metadata()/skipped() in any mix, then step()*, then request()*,
// then finish(). Each section is streamed as it comes, so a call out of that order (an event
// after a step, a step after a request, metadata after a step) is rejected: it is not written
// and finish() reports it. `snapshot` provides strings, tracks and processes and must outlive
// the writer; events may come from it or from any other view of the same store.
class ChromeJsonWriter {
 public:
  ChromeJsonWriter(Sink& sink, const Snapshot& snapshot, ChromeWriteOptions options = {});
  ~ChromeJsonWriter();

  // Writes one event; `extra` args are appended after its stored ones (used for request
  // attribution: request_id, step, batch_size, share). Extra keys are interned strings of the
  // snapshot's string table.
  void event(const EventView& ev, std::span<const Arg> extra = {});
  void step(const Step& step);
  void request(const RequestInfo& request);
  // Trace-level key/value ("metadata" object); a repeated key keeps the last value.
  void metadata(std::string_view key, std::string_view value);
  // One skip counter (metadata "huoyan_skipped").
  void skipped(std::string_view reason, uint64_t count);
  // Closes the JSON document and flushes; does not call sink.finish(). Returns the first sink
  // error, or the first out-of-order call.
  Status finish();

  uint64_t bytes_written() const;
  uint64_t events_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Everything in the store: all held events, steps, requests, trace metadata and skip
// counters. Steps and requests are copied out first, so the store's lock is never held while
// writing to a slow sink. Does not call sink.finish(): on error the caller drops the sink, which
// leaves no partial file.
Status write_chrome_trace(const TraceStore& store, Sink& sink, ChromeWriteOptions options = {});

}  // namespace huoyan
