// The state behind ChromeEventDecoder, shared by its source files (event decoding, and the
// "huoyan"/"metadata" sections). Internal to src/readers.
#pragma once

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src/core/time_format.h"
#include "src/readers/chrome_event_decoder.h"
#include "src/readers/chrome_json_values.h"
#include "src/readers/chrome_pending_slices.h"
#include "src/readers/intern_cache.h"

namespace huoyan {
namespace chrome_json {

// Events between two acquisitions of the store's writer lock.
constexpr uint32_t kBatchEvents = 4096;
// Parser buffers grown beyond this by one huge event are released afterwards.
constexpr size_t kParserKeepBytes = size_t{16} << 20;
// Synthetic ids of non-numeric pid/tid strings: far above real pids and device_pid().
constexpr int64_t kSyntheticIdBase = int64_t{1} << 52;
// Event::id of a launch link through Kineto's "External id" (a CPU op and the device work it
// launched), tagged so it never equals a CUPTI/ROCm correlation id (32-bit in practice).
constexpr uint64_t kExternalIdTag = uint64_t{1} << 62;

struct Fields {
  Scalar ph, name, cat, ts, dur, pid, tid, id, bp, scope;
  bool has_tdur = false;
  bool id_local = false;
};

struct PairHash {
  size_t operator()(const std::pair<int64_t, int64_t>& p) const noexcept {
    return std::hash<uint64_t>{}(static_cast<uint64_t>(p.first) * 0x9E3779B97F4A7C15ull ^
                                 static_cast<uint64_t>(p.second));
  }
};

}  // namespace chrome_json

using namespace chrome_json;  // NOLINT(build/namespaces): internal header of src/readers

struct ChromeEventDecoder::Impl {
  Impl(TraceStore& s, const ReadOptions& o) : store(s), options(o) {
    k_correlation = store.intern("correlation");
    k_step = store.intern("step");
    k_request_id = store.intern("request_id");
    k_name = store.intern("name");
    k_labels = store.intern("labels");
    k_sort_index = store.intern("sort_index");
    k_pid = store.intern("pid");
    k_tid = store.intern("tid");
    k_external_id = store.intern("External id");
    k_connection_id = store.intern("connection_id");
    k_task_type = store.intern("Task Type");
    k_task_id = store.intern("Task Id");
  }

  // --- writer batching ---
  TraceStore::Writer& w() {
    if (!writer) writer.emplace(store.writer());
    return *writer;
  }
  void tick() {
    if (++ops >= kBatchEvents) {
      writer.reset();
      ops = 0;
    }
  }

  // --- counters ---
  void count(std::string_view reason, uint64_t n = 1) {
    auto it = counters.find(reason);
    if (it == counters.end()) it = counters.emplace(std::string(reason), 0).first;
    it->second += n;
  }
  void skip(std::string_view reason) {
    ++skipped;
    count(reason);
  }

  // --- strings, processes, tracks ---
  StringId intern(std::string_view s) { return interned.get(s); }
  // Arg keys mostly repeat position by position from one event to the next (each producer
  // writes its args in a fixed order), so the key seen last at the same position is tried
  // first: one compare instead of a hash lookup.
  StringId intern_arg_key(size_t position, std::string_view key) {
    if (position >= kKeyMemo) return intern(key);
    KeyMemo& m = key_memo[position];
    if (m.len == key.size() && std::memcmp(m.text, key.data(), key.size()) == 0) return m.id;
    const StringId id = intern(key);
    m = KeyMemo{store.str(id).data(), key.size(), id};
    return id;
  }

  // pid/tid value: integers as they are, numeric strings as numbers, any other text as a
  // stable synthetic id (same text → same id in every file and run), its text as `label`.
  static int64_t resolve_id(const Scalar& s, std::string_view* label) {
    if (!s.present) return 0;
    int64_t v;
    if (!s.is_container && parse_i64(s.text, &v)) return v;
    if (!s.is_string && !s.is_container && parse_decimal_to_ns(s.text, 1, &v)) return v;
    *label = s.text;
    return kSyntheticIdBase + static_cast<int64_t>(fnv1a(s.text) & ((uint64_t{1} << 48) - 1));
  }

  int64_t pid_of(const Scalar& s, std::string_view* label) {
    return static_cast<int64_t>(static_cast<uint64_t>(resolve_id(s, label)) +
                                static_cast<uint64_t>(options.pid_offset));
  }

  uint32_t process_of(const Scalar& pid) {
    std::string_view label;
    const int64_t p = pid_of(pid, &label);
    const uint32_t index = w().process(p);
    if (!label.empty()) {
      Process& proc = w().process_at(index);
      if (proc.label == 0) proc.label = intern(label);
    }
    return index;
  }

  TrackId track_of(const Scalar& pid, const Scalar& tid) {
    std::string_view plabel, tlabel;
    const int64_t p = pid_of(pid, &plabel);
    const int64_t t = resolve_id(tid, &tlabel);
    if (have_last_track && p == last_pid && t == last_tid) return last_track;
    auto it = track_cache.find({p, t});
    TrackId id;
    if (it != track_cache.end()) {
      id = it->second;
    } else {
      id = w().track(p, t);
      Track& tr = w().track_at(id);
      if (!tlabel.empty() && tr.tid_label == 0) tr.tid_label = intern(tlabel);
      Process& proc = w().process_at(tr.process);
      if (!plabel.empty() && proc.label == 0) proc.label = intern(plabel);
      track_cache.emplace(std::make_pair(p, t), id);
    }
    have_last_track = true;
    last_pid = p;
    last_tid = t;
    last_track = id;
    return id;
  }

  // --- parsing (chrome_event_decoder.cc) ---
  // When the arg just appended repeats an earlier key, moves its value there (last wins) and
  // drops it; returns whether it did.
  bool merge_repeated_arg();
  error_code parse_args(od::value& v);
  error_code parse_id2(od::value& v);
  // Parses one event object into `f` and `args`. Nothing is applied to the store, so an error
  // anywhere leaves no trace of the event.
  error_code parse_event(const char* p, size_t n, size_t capacity);
  // parse_event() with one retry after repairing invalid UTF-8 and raw control characters.
  error_code parse_with_repair(const JsonStream::Value& v);

  void release_parser_if_huge(size_t n) {
    if (n > kParserKeepBytes) parser = od::parser();
  }

  // --- applying ---
  void event(const JsonStream::Value& v);
  void apply();
  void metadata_event();
  // Kineto/msprof specifics of a duration event, after its args were read (see
  // chrome_event_decoder.h): Ascend device task kinds, launch links, ProfilerStep markers.
  struct DurationExtras {
    uint64_t external_id = 0;
    uint64_t connection_id = 0;
    std::string_view task_type;
    bool has_external_id = false;
    bool has_task_id = false;
  };
  // `complete`: an "X" event (B/E pairs get their duration only when paired).
  void duration_extras(const DurationExtras& x, bool complete, Event& e);
  void add_profiler_steps();
  void set_id(const Scalar& s, bool local, Event& e);
  void emit(const Event& e, std::span<const Arg> a) {
    w().append(e, a);
    ++stored;
    tick();
  }

  TraceStore& store;
  const ReadOptions& options;
  od::parser parser;
  Fields f;
  std::vector<Arg> args;
  std::unordered_map<StringId, size_t> arg_index;
  uint64_t arg_filter[4] = {};
  static constexpr size_t kKeyMemo = 64;
  struct KeyMemo {
    const char* text = "";
    size_t len = SIZE_MAX;
    StringId id = 0;
  };
  KeyMemo key_memo[kKeyMemo];
  std::unique_ptr<char[]> scratch;
  size_t scratch_cap = 0;

  std::optional<TraceStore::Writer> writer;
  uint32_t ops = 0;
  InternCache interned{store};
  std::unordered_map<std::pair<int64_t, int64_t>, TrackId, PairHash> track_cache;
  bool have_last_track = false;
  int64_t last_pid = 0, last_tid = 0;
  TrackId last_track = 0;
  StringId k_correlation, k_step, k_request_id, k_name, k_labels, k_sort_index, k_pid, k_tid;
  StringId k_external_id, k_connection_id, k_task_type, k_task_id;
  std::map<uint64_t, Step> profiler_steps;  // "ProfilerStep#N" spans

  PendingSlices pending;
  int64_t max_end = std::numeric_limits<int64_t>::min();
  std::map<std::string, uint64_t, std::less<>> counters;
  uint64_t stored = 0, skipped = 0, metadata = 0, malformed = 0;
  uint64_t first_malformed = 0;
};

}  // namespace huoyan
