// Chrome Trace Event JSON writer (opens in Perfetto and chrome://tracing).
//
// Streaming: events go to a Sink through a buffer as they are written; nothing is built in
// memory. Output is the object form:
//   {"traceEvents":[ …events…, …"M" metadata for every process/thread used… ],
//    "displayTimeUnit":"ns", "metadata":{…}, "huoyan":{"steps":[…],"requests":[…]}}
// "ts"/"dur" are µs with exactly three decimals, so nanoseconds survive. Event fields that are
// not Chrome fields are written as args: step → "step", request → "request_id", the
// correlation id of kernels/API calls → "correlation". The "huoyan" section carries step
// membership and request lifecycles so that reading the file back restores request attribution.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan {

struct ChromeWriteOptions {
  bool write_metadata_events = true;  // process/thread names and sort indexes of used tracks
};

class ChromeJsonWriter {
 public:
  ChromeJsonWriter(Sink& sink, const Snapshot& snapshot, ChromeWriteOptions options = {});
  ~ChromeJsonWriter();

  // Writes one event; `extra` args are appended after its stored ones (used for request
  // attribution: request_id, step, batch_size, share).
  void event(const EventView& ev, std::span<const Arg> extra = {});
  void step(const Step& step);
  void request(const RequestInfo& request);
  void metadata(std::string_view key, std::string_view value);
  // Closes the JSON document and flushes; does not call sink.finish().
  Status finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Everything in the store: all held events, steps, requests and trace metadata.
Status write_chrome_trace(const TraceStore& store, Sink& sink, ChromeWriteOptions options = {});

}  // namespace huoyan
