// Decoding of single Chrome Trace Event objects into a TraceStore.
//
// The top-level walker (chrome_json_reader.cc) cuts each event object out of the input with
// JsonStream; this decoder parses it with simdjson On-Demand and appends it through a
// TraceStore::Writer held for batches of events. Rules, in brief (the .cc has the details):
//  - "ph" X → duration event classified by "cat" (kernel/memcpy/memset, else span); B/E are
//    buffered per (pid, tid) and paired at finish(); i/I instants, C counters, s/t/f flows,
//    b/e/n async; M metadata updates processes and tracks; any other phase is counted as
//    skipped ("unsupported phase 'P'").
//  - "ts"/"dur" are microseconds, as numbers or numeric strings, converted to ns from their
//    digits. "pid"/"tid" may be strings: numeric ones become numbers, others a stable
//    synthetic id with the text kept as the process/track label.
//  - Duplicate keys: the last occurrence wins, in the event object and in "args" alike.
//  - Bad input never stops the import: each problem is counted in store.skips() under a short
//    reason; events that cannot be stored are counted as skipped.
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

// Device recognised from a process name or label: "GPU 0", "NPU 1", "CPU 0", "MTIA 17"
// (also "XPU n", "HPU n"; these and MTIA are DeviceType::kOther), or "Ascend Hardware" (NPU,
// index unknown: -1). Returns false for anything else, e.g. "python3.10" or a bare "CPU".
bool device_from_process_name(std::string_view name, DeviceType* type, int32_t* index);

// Event kind of a duration event ("X", or a B/E pair) from its "cat": kKernel when a
// comma-separated category is, ignoring case, "kernel" or ends in "_kernel" (gpu_kernel,
// npu_kernel); kMemcpy for "memcpy"/"*_memcpy" (gpu_memcpy, Memcpy); kMemset likewise;
// otherwise kSpan. Deliberately not a substring match: "cuda_runtime" launches, "kernel_launch"
// and the like are host activity.
EventKind duration_kind_from_cat(std::string_view cat);

}  // namespace huoyan
