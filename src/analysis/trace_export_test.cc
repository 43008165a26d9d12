// Whole-trace exports name the requests of stepped kernels; reading them back keeps the
// attribution (a kernel tagged with its step's only member is not counted twice).
#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/analysis/attribution.h"
#include "src/analysis/trace_export.h"
#include "src/readers/chrome_json_reader.h"
#include "src/writers/chrome_json_writer.h"

namespace huoyan {
namespace {

void fill(TraceStore& store) {
  auto w = store.writer();
  const TrackId host = w.track(1, 1);
  const TrackId dev = w.device_track(DeviceType::kNpu, 0, 3);
  const StringId a = store.intern("req-a"), b = store.intern("req-b"), c = store.intern("req-c");
  auto kernel = [&](const char* name, int64_t ts, uint64_t step, StringId request) {
    Event e;
    e.kind = EventKind::kKernel;
    e.track = dev;
    e.name = store.intern(name);
    e.ts = ts;
    e.dur = 100;
    e.step = step;
    e.request = request;
    w.append(e);
  };
  kernel("Solo", 0, 1, 0);        // step 1: req-a alone
  kernel("Batched", 1000, 2, 0);  // step 2: req-a and req-b
  kernel("Tagged", 2000, 0, c);   // no step, owned by req-c
  w.add_step(Step{1, 0, 500, host, {{a, 4}}});
  w.add_step(Step{2, 1000, 1500, host, {{a, 1}, {b, 3}}});
}

TEST(TraceExport, WholeTraceNamesTheRequestsOfSteppedKernels) {
  TraceStore store;
  fill(store);
  StringSink sink;
  ASSERT_TRUE(write_filtered_chrome_trace(store, store.snapshot(), ExportFilter{}, sink).ok());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(sink.str()).get(doc), simdjson::SUCCESS);
  int seen = 0;
  for (simdjson::dom::element e : doc["traceEvents"].get_array()) {
    std::string_view name;
    if (e["name"].get(name) != simdjson::SUCCESS || e["ph"].get_string().value() != "X") continue;
    simdjson::dom::element args = e["args"];
    if (name == "Solo") {
      EXPECT_EQ(std::string_view(args["request_id"]), "req-a");
      EXPECT_EQ(uint64_t(args["batch_size"]), 1u);
      ++seen;
    } else if (name == "Batched") {
      EXPECT_EQ(args["request_id"].error(), simdjson::NO_SUCH_FIELD);
      simdjson::dom::array ids = args["request_ids"];
      ASSERT_EQ(ids.size(), 2u);
      EXPECT_EQ(std::string_view(ids.at(0)), "req-a");
      EXPECT_EQ(std::string_view(ids.at(1)), "req-b");
      EXPECT_EQ(uint64_t(args["batch_size"]), 2u);
      ++seen;
    } else if (name == "Tagged") {
      EXPECT_EQ(std::string_view(args["request_id"]), "req-c");
      EXPECT_EQ(args["batch_size"].error(), simdjson::NO_SUCH_FIELD);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 3);

  // Read back: each request's device time is what it was, counted once.
  TraceStore back;
  auto src = ByteSource::from_string(sink.str());
  ChromeJsonReader reader;
  ASSERT_TRUE(reader.read(*src, back, {}).ok());
  const Snapshot snap = back.snapshot();
  auto device_ns = [&](const char* id) {
    StringId sid = 0;
    EXPECT_TRUE(back.strings()->find(id, &sid)) << id;
    int64_t total = 0;
    for (const auto& a : request_device_events(back, snap, sid, AttributionMode::kShared)) {
      total += a.ns;
    }
    EXPECT_TRUE(request_host_events(back, snap, sid).empty()) << id;
    return total;
  };
  EXPECT_EQ(device_ns("req-a"), 200);  // Solo + Batched
  EXPECT_EQ(device_ns("req-b"), 100);  // Batched
  EXPECT_EQ(device_ns("req-c"), 100);  // Tagged, outside any step
}

}  // namespace
}  // namespace huoyan
