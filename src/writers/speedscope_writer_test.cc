#include "src/writers/speedscope_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace huoyan {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

struct Span {
  const char* name;
  int64_t ts;
  int64_t dur;
};

void add(TraceStore& store, TrackId track, std::initializer_list<Span> spans,
         EventKind kind = EventKind::kSpan) {
  auto w = store.writer();
  for (const Span& s : spans) {
    Event e;
    e.kind = kind;
    e.track = track;
    e.name = store.intern(s.name);
    e.ts = s.ts;
    e.dur = s.dur;
    w.append(e);
  }
}

struct OC {
  char type;
  std::string frame;
  uint64_t at;
  bool operator==(const OC&) const = default;
};

std::ostream& operator<<(std::ostream& os, const OC& e) {
  return os << e.type << ':' << e.frame << '@' << e.at;
}

// Strictly parses the output, checks the fields speedscope requires, and checks that every
// profile is monotonic and properly nested (what speedscope's importer enforces).
struct Checked {
  simdjson::dom::parser parser;
  element doc;
  std::vector<std::string> frames;
  std::vector<std::string> profile_names;
  std::vector<std::vector<OC>> events;
  // Per frame name, the time speedscope counts for it: the time it is open in some profile,
  // once however deeply it is open there.
  std::map<std::string, uint64_t> totals;

  explicit Checked(const std::string& text) {
    const auto err = parser.parse(simdjson::padded_string(text)).get(doc);
    EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err);
    if (err) return;
    EXPECT_EQ(std::string_view(doc["$schema"].get_string()),
              "https://www.speedscope.app/file-format-schema.json");
    EXPECT_EQ(std::string_view(doc["exporter"].get_string()), "huoyan");
    EXPECT_TRUE(doc["name"].is_string());
    const int64_t active = doc["activeProfileIndex"].get_int64();
    EXPECT_GE(active, 0);
    EXPECT_TRUE(active == 0 || active < int64_t(doc["profiles"].get_array().size()));
    for (element f : doc["shared"]["frames"].get_array()) {
      frames.emplace_back(std::string_view(f["name"].get_string()));
    }
    for (element p : doc["profiles"].get_array()) {
      EXPECT_EQ(std::string_view(p["type"].get_string()), "evented");
      EXPECT_EQ(std::string_view(p["unit"].get_string()), "nanoseconds");
      profile_names.emplace_back(std::string_view(p["name"].get_string()));
      const uint64_t start = p["startValue"].get_uint64();
      const uint64_t end = p["endValue"].get_uint64();
      EXPECT_LE(start, end);
      std::vector<OC> list;
      std::vector<uint64_t> stack;
      std::map<uint64_t, int> open;  // frame → times on the stack
      uint64_t last = start;
      for (element e : p["events"].get_array()) {
        const std::string_view type = e["type"].get_string();
        const uint64_t frame = e["frame"].get_uint64();
        const uint64_t at = e["at"].get_uint64();
        EXPECT_LT(frame, frames.size());
        EXPECT_GE(at, last) << "not monotonic";
        EXPECT_LE(at, end);
        for (const auto& [f, n] : open) {
          if (n > 0 && f < frames.size() && at > last) totals[frames[f]] += at - last;
        }
        last = at;
        if (type == "O") {
          stack.push_back(frame);
          ++open[frame];
        } else {
          EXPECT_EQ(type, "C");
          EXPECT_FALSE(stack.empty());
          if (stack.empty()) break;
          EXPECT_EQ(stack.back(), frame) << "closes a frame that is not on top";
          stack.pop_back();
          --open[frame];
        }
        list.push_back(OC{type[0], frame < frames.size() ? frames[frame] : "?", at});
      }
      EXPECT_TRUE(stack.empty());
      events.push_back(std::move(list));
    }
  }
};

// Per name, the sum of the durations of the snapshot's duration events: `huoyan top`'s totals.
std::map<std::string, uint64_t> duration_sums(const Snapshot& snap) {
  std::map<std::string, uint64_t> sums;
  snap.for_each([&](const EventView& ev) {
    if (has_duration(ev->kind))
      sums[std::string(snap.str(ev->name))] += std::max<int64_t>(ev->dur, 0);
  });
  return sums;
}

TEST(SpeedscopeWriterTest, NestsPerTrackAndPutsOverlapsInLanes) {
  TraceStore store;
  TrackId npu, host;
  {
    auto w = store.writer();
    npu = w.device_track(DeviceType::kNpu, 0, 3);
    host = w.track(10, 11);
  }
  // Inserted out of time order: the writer sorts by (ts, longest first).
  add(store, host,
      {{"child", 1010, 40},
       {"root", 1000, 100},
       {"cross", 1040, 80},
       {"after", 1100, 30},
       {"same-start", 1000, 10}});
  add(store, npu, {{"child", 1500, 5}, {"gemm", 1600, 10}}, EventKind::kKernel);
  add(store, host, {{"instant", 1005, 0}}, EventKind::kInstant);  // not written

  StringSink sink;
  auto r = write_speedscope(store.snapshot(), sink, "trace \"x\".json");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->lanes, 1u);  // "cross" starts inside "child" and ends after it: a lane of its own
  EXPECT_EQ(r->events, 7u);
  EXPECT_EQ(r->profiles, 3u);

  Checked c(sink.str());
  EXPECT_EQ(std::string_view(c.doc["name"].get_string()), "trace \"x\".json");
  // One frame per distinct name, shared across profiles.
  EXPECT_EQ(c.frames,
            (std::vector<std::string>{"child", "root", "cross", "after", "same-start", "gemm"}));
  ASSERT_EQ(c.profile_names.size(), 3u);
  EXPECT_EQ(c.profile_names[0], "NPU 0 / Stream 3");
  EXPECT_EQ(c.profile_names[1], "pid 10 / Thread 11");
  EXPECT_EQ(c.profile_names[2], "pid 10 / Thread 11 (overlapping, lane 2)");
  // Times relative to the earliest duration event (1000).
  const std::vector<OC> host_events = {
      {'O', "root", 0},   {'O', "same-start", 0}, {'C', "same-start", 10}, {'O', "child", 10},
      {'C', "child", 50}, {'C', "root", 100},     {'O', "after", 100},     {'C', "after", 130}};
  EXPECT_EQ(c.events[1], host_events);
  const std::vector<OC> lane_events = {{'O', "cross", 40}, {'C', "cross", 120}};
  EXPECT_EQ(c.events[2], lane_events);
  const std::vector<OC> npu_events = {
      {'O', "child", 500}, {'C', "child", 505}, {'O', "gemm", 600}, {'C', "gemm", 610}};
  EXPECT_EQ(c.events[0], npu_events);
  element npu_profile = c.doc["profiles"].at(0);
  EXPECT_EQ(uint64_t(npu_profile["startValue"].get_uint64()), 500u);
  EXPECT_EQ(uint64_t(npu_profile["endValue"].get_uint64()), 610u);
  element host_profile = c.doc["profiles"].at(1);
  EXPECT_EQ(uint64_t(host_profile["startValue"].get_uint64()), 0u);
  EXPECT_EQ(uint64_t(host_profile["endValue"].get_uint64()), 130u);
  element lane_profile = c.doc["profiles"].at(2);
  EXPECT_EQ(uint64_t(lane_profile["startValue"].get_uint64()), 40u);
  EXPECT_EQ(uint64_t(lane_profile["endValue"].get_uint64()), 120u);
  // Opens on the busiest profile: the host thread (130 ns busy) over its lane (80) and the
  // stream (15).
  EXPECT_EQ(int64_t(c.doc["activeProfileIndex"].get_int64()), 1);
  // Nothing lost: every name's total is the sum of its durations.
  EXPECT_EQ(c.totals, duration_sums(store.snapshot()));
}

TEST(SpeedscopeWriterTest, DeepOverlapsGoToLanesWithoutLosingTime) {
  TraceStore store;
  TrackId t;
  {
    auto w = store.writer();
    t = w.track(1, 1);
  }
  // A staircase of overlapping spans: each starts inside the previous and ends after it.
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("s" + std::to_string(i));
  {
    auto w = store.writer();
    for (int i = 0; i < 50; ++i) {
      Event e;
      e.kind = EventKind::kSpan;
      e.track = t;
      e.name = store.intern(names[i]);
      e.ts = -1000 + i * 10;  // negative times are fine too
      e.dur = 100;
      w.append(e);
    }
  }
  StringSink sink;
  auto r = write_speedscope(store.snapshot(), sink);
  ASSERT_TRUE(r.ok());
  Checked c(sink.str());  // checks nesting and monotonicity
  // A span ends where the tenth after it starts: ten lanes, each a chain of five.
  EXPECT_EQ(r->lanes, 9u);
  ASSERT_EQ(c.events.size(), 10u);
  for (const auto& lane : c.events) EXPECT_EQ(lane.size(), 10u);
  EXPECT_EQ(c.totals, duration_sums(store.snapshot()));
}

TEST(SpeedscopeWriterTest, ANameOpenTwiceOnAThreadCountsTwice) {
  TraceStore store;
  TrackId main_thread, http;
  {
    auto w = store.writer();
    main_thread = w.track(7, 7);
    http = w.track(7, 4242);
    w.track_at(main_thread).name = store.intern("main");
    w.track_at(http).name = store.intern("http 3");
  }
  add(store, main_thread, {{"init", 0, 81}});
  // Request-owned spans of one thread: a queue wait inside another one, and one that crosses.
  {
    auto w = store.writer();
    int n = 0;
    for (auto [ts, dur] : {std::pair<int64_t, int64_t>{1000, 500}, {1100, 200}, {1400, 300}}) {
      Event e;
      e.kind = EventKind::kSpan;
      e.track = http;
      e.name = store.intern("queue_wait");
      e.request = store.intern("req-" + std::to_string(n++));
      e.ts = ts;
      e.dur = dur;
      w.append(e);
    }
  }
  {
    auto w = store.writer();
    Event e;
    e.kind = EventKind::kSpan;
    e.track = http;
    e.name = store.intern("tokenize");
    e.request = store.intern("req-3");
    e.ts = 1100;
    e.dur = 50;
    w.append(e);
  }
  // The thread's own work never nests in a request's span: a lane of its own.
  add(store, http, {{"parse_body", 1120, 10}});
  StringSink sink;
  auto r = write_speedscope(store.snapshot(), sink);
  ASSERT_TRUE(r.ok());
  Checked c(sink.str());
  EXPECT_EQ(c.totals, duration_sums(store.snapshot()));
  EXPECT_EQ(c.totals["queue_wait"], 1000u);
  ASSERT_EQ(c.profile_names.size(), 4u);
  EXPECT_EQ(c.profile_names[0], "pid 7 / main (tid 7)");
  EXPECT_EQ(c.profile_names[1], "pid 7 / http 3 (tid 4242)");
  EXPECT_EQ(c.profile_names[2], "pid 7 / http 3 (tid 4242) (overlapping, lane 2)");
  EXPECT_EQ(c.profile_names[3], "pid 7 / http 3 (tid 4242) (overlapping, lane 3)");
  const std::vector<OC> lane3 = {{'O', "parse_body", 1120}, {'C', "parse_body", 1130}};
  EXPECT_EQ(c.events[3], lane3);
  EXPECT_EQ(int64_t(c.doc["activeProfileIndex"].get_int64()), 1);  // not the 81 ns "main"
}

TEST(SpeedscopeWriterTest, RecursiveHostSpansNestAndCountOnce) {
  TraceStore store;
  TrackId t;
  {
    auto w = store.writer();
    t = w.track(1, 1);
  }
  // A recursive function: parse → eval → parse, as a CPU profile (or folded stacks) records it.
  add(store, t, {{"parse", 0, 100}, {"eval", 10, 80}, {"parse", 20, 50}});
  StringSink sink;
  auto r = write_speedscope(store.snapshot(), sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lanes, 0u);
  Checked c(sink.str());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.totals["parse"], 100u);  // the time parse is on the stack
  EXPECT_EQ(c.totals["eval"], 80u);
}

TEST(SpeedscopeWriterTest, EmptySnapshotIsValid) {
  TraceStore store;
  StringSink sink;
  auto r = write_speedscope(store.snapshot(), sink);
  ASSERT_TRUE(r.ok());
  Checked c(sink.str());
  EXPECT_TRUE(c.profile_names.empty());
  EXPECT_TRUE(c.frames.empty());
}

}  // namespace
}  // namespace huoyan
