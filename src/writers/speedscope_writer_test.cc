#include "src/writers/speedscope_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
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

  explicit Checked(const std::string& text) {
    const auto err = parser.parse(simdjson::padded_string(text)).get(doc);
    EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err);
    if (err) return;
    EXPECT_EQ(std::string_view(doc["$schema"].get_string()),
              "https://www.speedscope.app/file-format-schema.json");
    EXPECT_EQ(std::string_view(doc["exporter"].get_string()), "huoyan");
    EXPECT_TRUE(doc["name"].is_string());
    EXPECT_EQ(int64_t(doc["activeProfileIndex"].get_int64()), 0);
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
      uint64_t last = start;
      for (element e : p["events"].get_array()) {
        const std::string_view type = e["type"].get_string();
        const uint64_t frame = e["frame"].get_uint64();
        const uint64_t at = e["at"].get_uint64();
        EXPECT_LT(frame, frames.size());
        EXPECT_GE(at, last) << "not monotonic";
        EXPECT_LE(at, end);
        last = at;
        if (type == "O") {
          stack.push_back(frame);
        } else {
          EXPECT_EQ(type, "C");
          EXPECT_FALSE(stack.empty());
          if (stack.empty()) break;
          EXPECT_EQ(stack.back(), frame) << "closes a frame that is not on top";
          stack.pop_back();
        }
        list.push_back(OC{type[0], frame < frames.size() ? frames[frame] : "?", at});
      }
      EXPECT_TRUE(stack.empty());
      events.push_back(std::move(list));
    }
  }
};

TEST(SpeedscopeWriterTest, NestsAndClipsPerTrack) {
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
  EXPECT_EQ(r->clipped, 1u);  // "cross" starts inside "child" and ends after it
  EXPECT_EQ(r->events, 7u);
  EXPECT_EQ(r->profiles, 2u);

  Checked c(sink.str());
  EXPECT_EQ(std::string_view(c.doc["name"].get_string()), "trace \"x\".json");
  // One frame per distinct name, shared across profiles.
  EXPECT_EQ(c.frames,
            (std::vector<std::string>{"child", "root", "cross", "after", "same-start", "gemm"}));
  ASSERT_EQ(c.profile_names.size(), 2u);
  EXPECT_EQ(c.profile_names[0], "NPU 0 / Stream 3");
  EXPECT_EQ(c.profile_names[1], "pid 10 / Thread 11");
  // Times relative to the earliest duration event (1000).
  const std::vector<OC> host_events = {
      {'O', "root", 0},    {'O', "same-start", 0}, {'C', "same-start", 10}, {'O', "child", 10},
      {'O', "cross", 40},  {'C', "cross", 50},     {'C', "child", 50},      {'C', "root", 100},
      {'O', "after", 100}, {'C', "after", 130}};
  EXPECT_EQ(c.events[1], host_events);
  const std::vector<OC> npu_events = {
      {'O', "child", 500}, {'C', "child", 505}, {'O', "gemm", 600}, {'C', "gemm", 610}};
  EXPECT_EQ(c.events[0], npu_events);
  element npu_profile = c.doc["profiles"].at(0);
  EXPECT_EQ(uint64_t(npu_profile["startValue"].get_uint64()), 500u);
  EXPECT_EQ(uint64_t(npu_profile["endValue"].get_uint64()), 610u);
  element host_profile = c.doc["profiles"].at(1);
  EXPECT_EQ(uint64_t(host_profile["startValue"].get_uint64()), 0u);
  EXPECT_EQ(uint64_t(host_profile["endValue"].get_uint64()), 130u);
}

TEST(SpeedscopeWriterTest, DeepOverlapsStayNested) {
  TraceStore store;
  TrackId t;
  {
    auto w = store.writer();
    t = w.track(1, 1);
  }
  // A staircase of overlapping spans: each starts inside the previous and ends after it.
  std::vector<Span> spans;
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
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].size(), 100u);
  EXPECT_GT(r->clipped, 0u);
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
