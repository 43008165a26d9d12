#include "src/server/timeline.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <array>
#include <random>

#include "src/io/sink.h"

namespace huoyan::server {
namespace {

std::string render(const TimelineIndex& index, int64_t start, int64_t end, uint32_t width) {
  StringSink sink;
  {
    BufferedOut out(&sink);
    index.write_json({start, end, width}, out);
    out.flush();
  }
  return sink.str();
}

struct Counts {
  uint64_t items = 0;
  uint64_t merged = 0;
  uint64_t max_depth = 0;
};

Counts count(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);
  Counts c;
  for (simdjson::dom::element t : simdjson::dom::array(doc["tracks"])) {
    c.merged += uint64_t(t["merged"]);
    for (simdjson::dom::element ev : simdjson::dom::array(t["events"])) {
      ++c.items;
      c.max_depth = std::max<uint64_t>(c.max_depth, uint64_t(simdjson::dom::array(ev).at(3)));
    }
  }
  return c;
}

TEST(Timeline, LevelOfDetailBoundsAMillionEvents) {
  TraceStore store;
  const StringId k = store.intern("k"), big = store.intern("big");
  {
    auto w = store.writer();
    const TrackId t = w.device_track(DeviceType::kNpu, 0, 1);
    // 1 M back-to-back 10 ns kernels, with a wide one every 100 k.
    for (int64_t i = 0; i < 1'000'000; ++i) {
      Event e;
      e.kind = EventKind::kKernel;
      e.track = t;
      e.ts = i * 10;
      e.dur = 10;
      e.name = i % 100'000 == 0 ? big : k;
      if (i % 100'000 == 0) e.dur = 9;  // still narrow: merged, and the block is named after it
      w.append(e);
    }
  }
  const auto index = TimelineIndex::build(store.snapshot());
  ASSERT_EQ(index->events(), 1'000'000u);
  const std::string json = render(*index, 0, 10'000'000, 1600);
  const Counts c = count(json);
  EXPECT_LE(c.items, 2u * 1600);
  EXPECT_GE(c.items, 1u);
  EXPECT_EQ(c.items + c.merged, 1'000'000u);  // every event is in exactly one item
  EXPECT_LT(json.size(), 100'000u);
  // Zoomed in to 1600 ns: every event is wider than a pixel and stands alone.
  const Counts zoom = count(render(*index, 5'000, 6'600, 1600));
  EXPECT_EQ(zoom.merged, 0u);
  EXPECT_EQ(zoom.items, 161u);  // [5000, 6600) plus the one ending exactly at 5000
}

TEST(Timeline, HostNestingGivesDepthsAndUnsortedInputIsSorted) {
  TraceStore store;
  const StringId a = store.intern("outer"), b = store.intern("inner"), c = store.intern("leaf");
  {
    auto w = store.writer();
    const TrackId t = w.track(1, 1);
    // Appended out of time order on purpose.
    Event leaf;
    leaf.track = t;
    leaf.name = c;
    leaf.ts = 300;
    leaf.dur = 100;
    w.append(leaf);
    Event outer = leaf;
    outer.name = a;
    outer.ts = 0;
    outer.dur = 1000;
    w.append(outer);
    Event inner = leaf;
    inner.name = b;
    inner.ts = 200;
    inner.dur = 500;
    w.append(inner);
    Event next = outer;  // after outer ends: depth 0 again
    next.ts = 1000;
    next.dur = 10;
    w.append(next);
  }
  const auto index = TimelineIndex::build(store.snapshot());
  const std::string json = render(*index, 0, 2000, 2000);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);
  simdjson::dom::array names = doc["names"];
  std::map<std::string, std::vector<uint64_t>> depth;
  for (simdjson::dom::element ev :
       simdjson::dom::array(simdjson::dom::array(doc["tracks"]).at(0)["events"])) {
    simdjson::dom::array e = ev;
    depth[std::string(std::string_view(names.at(uint64_t(e.at(2)))))].push_back(uint64_t(e.at(3)));
  }
  EXPECT_EQ(depth["outer"], (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(depth["inner"], (std::vector<uint64_t>{1}));
  EXPECT_EQ(depth["leaf"], (std::vector<uint64_t>{2}));
  EXPECT_EQ(std::string_view(simdjson::dom::array(doc["tracks"]).at(0)["kind"]), "host");
}

TEST(Timeline, WindowKeepsEventsOverlappingItsStart) {
  TraceStore store;
  const StringId n = store.intern("long");
  {
    auto w = store.writer();
    const TrackId t = w.track(1, 1);
    Event e;
    e.track = t;
    e.name = n;
    e.ts = 0;
    e.dur = 1'000'000;
    w.append(e);
    for (int i = 0; i < 100; ++i) {
      e.ts = 2'000'000 + i * 100;
      e.dur = 50;
      w.append(e);
    }
  }
  const auto index = TimelineIndex::build(store.snapshot());
  const std::string json = render(*index, 500'000, 600'000, 100);
  EXPECT_NE(json.find("[-500000,1000000,0,0,0]"), std::string::npos) << json;
  EXPECT_EQ(count(json).items, 1u);
  // An empty window renders no tracks.
  EXPECT_EQ(count(render(*index, 10'000'000, 20'000'000, 100)).items, 0u);
}

// The run summaries are only a shortcut: the answer must equal merging event by event.
TEST(Timeline, RunSkippingMatchesMergingEventByEvent) {
  TraceStore store;
  std::mt19937_64 rng(42);
  struct Ev {
    int64_t ts, dur;
    EventSeq seq;
  };
  std::vector<Ev> evs;
  const StringId k = store.intern("k");
  {
    auto w = store.writer();
    const TrackId t = w.device_track(DeviceType::kNpu, 0, 1);
    int64_t ts = 0;
    for (int i = 0; i < 200'000; ++i) {
      // Mostly tiny kernels with tiny gaps; now and then a long one or a long pause.
      const int64_t dur = rng() % 50 == 0 ? 5'000 + static_cast<int64_t>(rng() % 50'000)
                                          : 1 + static_cast<int64_t>(rng() % 40);
      ts += rng() % 100 == 0 ? 20'000 + static_cast<int64_t>(rng() % 100'000)
                             : static_cast<int64_t>(rng() % 30);
      Event e;
      e.kind = EventKind::kKernel;
      e.track = t;
      e.name = k;
      e.ts = ts;
      e.dur = dur;
      evs.push_back({ts, dur, w.append(e)});
      ts += dur;
    }
  }
  const auto index = TimelineIndex::build(store.snapshot());
  const int64_t total = evs.back().ts + evs.back().dur;
  for (int round = 0; round < 60; ++round) {
    const int64_t a = static_cast<int64_t>(rng() % static_cast<uint64_t>(total));
    const int64_t b = a + 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(total - a));
    const uint32_t width = 1 + static_cast<uint32_t>(rng() % 3000);
    const double px = static_cast<double>(b - a) / width;
    // Reference: one event at a time.
    std::vector<std::array<int64_t, 3>> want;  // rel ts, dur, seq
    uint64_t want_merged = 0;
    bool open = false;
    int64_t bts = 0, bend = 0;
    uint64_t bn = 0;
    const Ev* best = nullptr;
    auto flush = [&] {
      if (!open) return;
      want.push_back({bts - a, bend - bts, static_cast<int64_t>(best->seq)});
      want_merged += bn - 1;
      open = false;
    };
    for (const Ev& e : evs) {
      if (e.ts >= b) break;
      if (e.ts + e.dur < a) continue;
      if (static_cast<double>(e.dur) >= px) {
        flush();
        want.push_back({e.ts - a, e.dur, static_cast<int64_t>(e.seq)});
      } else if (open && static_cast<double>(e.ts - bend) <= px) {
        bend = std::max(bend, e.ts + e.dur);
        ++bn;
        if (e.dur > best->dur) best = &e;
      } else {
        flush();
        open = true;
        bts = e.ts;
        bend = e.ts + e.dur;
        bn = 1;
        best = &e;
      }
    }
    flush();
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(render(*index, a, b, width)).get(doc), simdjson::SUCCESS);
    std::vector<std::array<int64_t, 3>> got;
    uint64_t got_merged = 0;
    for (simdjson::dom::element t : simdjson::dom::array(doc["tracks"])) {
      got_merged += uint64_t(t["merged"]);
      for (simdjson::dom::element ev : simdjson::dom::array(t["events"])) {
        simdjson::dom::array x = ev;
        got.push_back({int64_t(x.at(0)), int64_t(x.at(1)), int64_t(x.at(4))});
      }
    }
    ASSERT_EQ(got, want) << "window " << a << ".." << b << " width " << width;
    EXPECT_EQ(got_merged, want_merged);
  }
}

TEST(Timeline, SubsetIndex) {
  TraceStore store;
  const StringId n = store.intern("e");
  std::vector<EventSeq> even;
  {
    auto w = store.writer();
    const TrackId t = w.device_track(DeviceType::kGpu, 0, 7);
    for (int i = 0; i < 10; ++i) {
      Event e;
      e.kind = EventKind::kKernel;
      e.track = t;
      e.name = n;
      e.ts = i * 100;
      e.dur = 50;
      const EventSeq s = w.append(e);
      if (i % 2 == 0) even.push_back(s);
    }
  }
  even.push_back(12345);  // not in the store: ignored
  const auto index = TimelineIndex::build(store.snapshot(), even);
  EXPECT_EQ(index->events(), 5u);
  EXPECT_EQ(index->start(), 0);
  EXPECT_EQ(index->end(), 850);
}

}  // namespace
}  // namespace huoyan::server
