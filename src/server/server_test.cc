// Every endpoint over HTTP, on a store built here: shapes, values and parameter errors.
#include <gtest/gtest.h>

#include <set>

#include "src/analysis/attribution.h"
#include "src/analysis/kernel_stats.h"
#include "src/server/server_test_harness.h"

namespace huoyan::server::testing {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SyntheticTrace trace;
    trace.steps = 200;
    trace.batch = 4;
    trace.kernels_per_step = 6;
    server_ = new TestServer({}, trace);
    server_->store().skips().add("missing ts", 3);
    server_->store().writer().set_metadata("clock.npu.offset_ns", "-1234");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer& s() { return *server_; }
  static std::string some_request() { return s().info().request_ids[5]; }
  static TestServer* server_;
  simdjson::dom::parser parser_;
};
TestServer* ServerTest::server_ = nullptr;

// Status and a JSON error body for each bad query.
void expect_error(const httplib::Result& r, int status, const std::string& needle = "") {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const std::string msg = error_of(r);
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
}

TEST_F(ServerTest, ProfileOfARequestIsAChromeTraceWithAttribution) {
  const std::string id = some_request();
  auto r = s().get("/api/profile?request_id=" + id);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Disposition"),
            "attachment; filename=\"huoyan-" + id + ".json\"");
  element doc = parse_json(parser_, r->body);
  StringId sid = 0;
  ASSERT_TRUE(s().store().strings()->find(id, &sid));
  const auto info = s().store().request(sid);
  ASSERT_TRUE(info);
  size_t kernels = 0, host = 0;
  std::set<uint64_t> steps;
  for (element e : array(doc["traceEvents"])) {
    std::string_view ph = e["ph"];
    if (ph != "X") continue;
    std::string_view req = e["args"]["request_id"];
    EXPECT_EQ(req, id);
    std::string_view cat;
    if (e["cat"].get(cat) == simdjson::SUCCESS && cat == "kernel") {
      ++kernels;
      steps.insert(uint64_t(e["args"]["step"]));
      EXPECT_EQ(uint64_t(e["args"]["batch_size"]), 4u);
      const double share = e["args"]["share"];
      EXPECT_GT(share, 0.0);
      EXPECT_LE(share, 1.0);
    } else {
      ++host;
    }
  }
  EXPECT_EQ(kernels, info->steps.size() * 6);
  EXPECT_EQ(steps.size(), info->steps.size());
  EXPECT_GE(host, 2u);  // its queue and tokenize spans, plus the host spans of its steps
}

TEST_F(ServerTest, ProfileWithoutFilterHasEveryEvent) {
  auto r = s().get("/api/profile");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"huoyan.json\"");
  EXPECT_EQ(r->get_header_value("Transfer-Encoding"), "chunked");
  element doc = parse_json(parser_, r->body);
  size_t x = 0;
  for (element e : array(doc["traceEvents"])) {
    if (std::string_view(e["ph"]) == "X") ++x;
  }
  EXPECT_EQ(x, s().info().events);
}

TEST_F(ServerTest, ProfileIsGzippedWhenTheClientAsks) {
  httplib::Client c = s().client();
  c.set_decompress(false);
  auto r = c.Get("/api/profile", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  ASSERT_GE(r->body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(r->body[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(r->body[1]), 0x8b);
  // And the client that decompresses gets the same document as without compression.
  httplib::Client d = s().client();
  auto z = d.Get("/api/profile", {{"Accept-Encoding", "gzip"}});
  auto plain = s().get("/api/profile");
  ASSERT_TRUE(z && plain);
  EXPECT_EQ(z->body, plain->body);
  EXPECT_LT(r->body.size(), plain->body.size() / 4);
}

TEST_F(ServerTest, BrowsersGetGzipNotBrotli) {
  // A browser offers br first; httplib's brotli (quality 11) would cost ~1 s per MB.
  httplib::Client c = s().client();
  c.set_decompress(false);
  auto r = c.Get("/api/timeline?width=1200", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  // A client that takes only brotli gets the plain body.
  auto br = c.Get("/api/timeline?width=1200", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(br);
  EXPECT_FALSE(br->has_header("Content-Encoding"));
  EXPECT_EQ(br->body, s().get("/api/timeline?width=1200")->body);
}

TEST(HttpUtil, ResponseEncodingKeepsOnlyGzip) {
  EXPECT_EQ(response_encoding("gzip, deflate, br, zstd"), "gzip");
  EXPECT_EQ(response_encoding("br;q=1.0, GZip;q=0.5"), "gzip");
  EXPECT_EQ(response_encoding(" x-gzip , gzip"), "gzip");
  EXPECT_EQ(response_encoding("br"), "");
  EXPECT_EQ(response_encoding("deflate, br"), "");
  EXPECT_EQ(response_encoding("gzip;q=0, br"), "");
  EXPECT_EQ(response_encoding("gzip;q=0.000"), "");
  EXPECT_EQ(response_encoding("gzipped"), "");
  EXPECT_EQ(response_encoding(""), "");
}

TEST_F(ServerTest, ProfileFormats) {
  auto folded = s().get("/api/profile?format=folded&request_id=" + some_request());
  ASSERT_TRUE(folded);
  ASSERT_EQ(folded->status, 200);
  EXPECT_EQ(folded->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_NE(folded->body.find("Int4Gemm "), std::string::npos);
  EXPECT_NE(folded->get_header_value("Content-Disposition").find(".folded.txt"), std::string::npos);
  auto speedscope = s().get("/api/profile?format=speedscope");
  ASSERT_TRUE(speedscope);
  ASSERT_EQ(speedscope->status, 200);
  element doc = parse_json(parser_, speedscope->body);
  EXPECT_GT(array(doc["profiles"]).size(), 0u);
  auto window = s().get("/api/profile?start_ns=1700000000000000000&end_ns=1700000000001000000");
  ASSERT_TRUE(window);
  ASSERT_EQ(window->status, 200);
  element w = parse_json(parser_, window->body);
  EXPECT_GT(array(w["traceEvents"]).size(), 6u);
}

TEST_F(ServerTest, ProfileParameterErrors) {
  expect_error(s().get("/api/profile?request_id=nope"), 404, "unknown request_id 'nope'");
  expect_error(s().get("/api/profile?format=xml"), 400, "format");
  expect_error(s().get("/api/profile?mode=half"), 400, "mode");
  expect_error(s().get("/api/profile?start_ns=abc"), 400, "start_ns");
  expect_error(s().get("/api/profile?start_ns=1e9"), 400, "start_ns");
  expect_error(s().get("/api/profile?end_ns=99999999999999999999999"), 400, "out of range");
  expect_error(s().get("/api/profile?start_ns=10&end_ns=10"), 400, "end_ns");
  expect_error(s().get("/api/profile?format=folded&start_ns=10"), 400, "format=chrome");
  expect_error(s().get("/api/profile?format=speedscope&request_id=" + some_request()), 400);
  expect_error(s().get("/api/profile?device=TPU%209"), 404, "unknown device 'TPU 9'");
}

// Sum of the values of the kernel frames ("device": true) of a flame graph.
int64_t device_value(element node) {
  bool device = false;
  if (node["device"].get(device) == simdjson::SUCCESS && device) return int64_t(node["value"]);
  int64_t sum = 0;
  array children;
  if (node["children"].get(children) == simdjson::SUCCESS) {
    for (element c : children) sum += device_value(c);
  }
  return sum;
}

TEST_F(ServerTest, FlamegraphOfEverythingAndOfARequest) {
  auto r = s().get("/api/flamegraph");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element all = parse_json(parser_, r->body);
  EXPECT_EQ(std::string_view(all["name"]), "all");
  const int64_t value = all["value"];
  EXPECT_GT(value, 0);
  EXPECT_GT(array(all["children"]).size(), 0u);

  const std::string id = some_request();
  auto shared = s().get("/api/flamegraph?mode=shared&request_id=" + id);
  auto apportioned = s().get("/api/flamegraph?mode=apportioned&request_id=" + id);
  ASSERT_TRUE(shared && apportioned);
  ASSERT_EQ(shared->status, 200);
  ASSERT_EQ(apportioned->status, 200);
  simdjson::dom::parser p2;
  element a = parse_json(parser_, shared->body);
  element b = parse_json(p2, apportioned->body);
  EXPECT_EQ(std::string_view(a["name"]), "all");
  // Kernel frames count the request's attributed time: less when apportioned.
  EXPECT_LT(device_value(b), device_value(a));
  EXPECT_GT(device_value(b), 0);

  auto small = s().get("/api/flamegraph?max_nodes=4");
  ASSERT_TRUE(small);
  EXPECT_NE(small->body.find("\"(other)\""), std::string::npos);
  auto device = s().get("/api/flamegraph?device=NPU%201");
  ASSERT_TRUE(device);
  EXPECT_EQ(device->status, 200);

  expect_error(s().get("/api/flamegraph?max_nodes=-1"), 400, "max_nodes");
  expect_error(s().get("/api/flamegraph?max_nodes=x"), 400, "max_nodes");
  expect_error(s().get("/api/flamegraph?mode=all"), 400, "mode");
  expect_error(s().get("/api/flamegraph?request_id=zz"), 404, "zz");
  expect_error(s().get("/api/flamegraph?device=NPU%207"), 404, "NPU 7");
}

TEST_F(ServerTest, RequestsListSearchAndSort) {
  const auto& ids = s().info().request_ids;
  auto r = s().get("/api/requests");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element doc = parse_json(parser_, r->body);
  EXPECT_EQ(uint64_t(doc["total"]), ids.size());
  array rows = doc["requests"];
  EXPECT_EQ(rows.size(), 50u);  // default limit
  element first = rows.at(0);
  EXPECT_EQ(std::string_view(first["id"]), "req-000000");
  for (const char* key : {"arrival_ns", "first_token_ns", "finish_ns", "tokens_in", "tokens_out",
                          "steps", "device_ns_shared", "device_ns_apportioned", "host_ns"}) {
    EXPECT_EQ(first[key].error(), simdjson::SUCCESS) << key;
  }
  // Values against the analysis functions.
  const Snapshot snap = s().store().snapshot();
  StringId sid = 0;
  ASSERT_TRUE(s().store().strings()->find("req-000000", &sid));
  int64_t shared = 0, apportioned = 0;
  for (const auto& a : request_device_events(s().store(), snap, sid, AttributionMode::kShared)) {
    shared += a.ns;
  }
  for (const auto& a :
       request_device_events(s().store(), snap, sid, AttributionMode::kApportioned)) {
    apportioned += a.ns;
  }
  EXPECT_EQ(int64_t(first["device_ns_shared"]), shared);
  EXPECT_EQ(int64_t(first["device_ns_apportioned"]), apportioned);
  EXPECT_EQ(int64_t(first["host_ns"]), 450'000);

  simdjson::dom::parser p2;
  element prefix = parse_json(p2, s().get("/api/requests?prefix=req-00001&limit=3")->body);
  EXPECT_EQ(uint64_t(prefix["total"]), 10u);  // req-000010 … req-000019
  EXPECT_EQ(array(prefix["requests"]).size(), 3u);
  EXPECT_EQ(std::string_view(array(prefix["requests"]).at(0)["id"]), "req-000010");

  simdjson::dom::parser p3;
  element sorted = parse_json(p3, s().get("/api/requests?sort=-device_ns&limit=10000")->body);
  int64_t last = INT64_MAX;
  for (element row : array(sorted["requests"])) {
    const int64_t v = row["device_ns_shared"];
    EXPECT_LE(v, last);
    last = v;
  }
  simdjson::dom::parser p4;
  element none = parse_json(p4, s().get("/api/requests?prefix=zzz")->body);
  EXPECT_EQ(uint64_t(none["total"]), 0u);
  EXPECT_EQ(array(none["requests"]).size(), 0u);

  // Pages: offset skips rows of the same order; past the end gives no rows, the same total.
  simdjson::dom::parser p5;
  element page2 = parse_json(p5, s().get("/api/requests?offset=50&limit=3")->body);
  EXPECT_EQ(uint64_t(page2["total"]), ids.size());
  EXPECT_EQ(uint64_t(page2["offset"]), 50u);
  ASSERT_EQ(array(page2["requests"]).size(), 3u);
  EXPECT_EQ(std::string_view(array(page2["requests"]).at(0)["id"]), "req-000050");
  simdjson::dom::parser p6;
  element sorted_page =
      parse_json(p6, s().get("/api/requests?sort=-device_ns&offset=5&limit=2")->body);
  EXPECT_EQ(std::string_view(array(sorted_page["requests"]).at(0)["id"]),
            std::string_view(array(sorted["requests"]).at(5)["id"]));
  simdjson::dom::parser p7;
  element past = parse_json(
      p7, s().get("/api/requests?offset=" + std::to_string(ids.size()) + "&limit=5")->body);
  EXPECT_EQ(uint64_t(past["total"]), ids.size());
  EXPECT_EQ(array(past["requests"]).size(), 0u);
  expect_error(s().get("/api/requests?offset=-1"), 400, "offset");
  expect_error(s().get("/api/requests?offset=abc"), 400, "offset");
  expect_error(s().get("/api/requests?offset=1.5"), 400, "offset");
  expect_error(s().get("/api/requests?offset=99999999999999999999"), 400, "offset");

  expect_error(s().get("/api/requests?limit=-1"), 400, "limit");
  expect_error(s().get("/api/requests?limit=10001"), 400, "limit");
  expect_error(s().get("/api/requests?limit=99999999999999999999"), 400, "limit");
  expect_error(s().get("/api/requests?sort=latency"), 400, "sort");
  expect_error(s().get("/api/requests?sort=--id"), 400, "sort");
}

TEST(ServerRequests, UnknownLifecycleTimesAreNull) {
  SyntheticTrace small;
  small.steps = 3;
  TestServer s({}, small);
  TraceStore& store = s.store();
  {
    auto w = store.writer();
    Step step;
    step.id = 1'000'000;
    step.members.push_back({store.intern("late-request"), 3});
    w.add_step(step);
  }
  simdjson::dom::parser parser;
  element doc = parse_json(parser, s.get("/api/requests?prefix=late-")->body);
  element row = array(doc["requests"]).at(0);
  EXPECT_TRUE(row["arrival_ns"].is_null());
  EXPECT_TRUE(row["first_token_ns"].is_null());
  EXPECT_TRUE(row["finish_ns"].is_null());
  EXPECT_EQ(uint64_t(row["steps"]), 1u);
}

TEST_F(ServerTest, KernelsTable) {
  auto r = s().get("/api/kernels");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element doc = parse_json(parser_, r->body);
  uint64_t count = 0;
  double share = 0;
  for (element row : array(doc)) {
    for (const char* key :
         {"name", "kind", "count", "total_ns", "mean_ns", "p50_ns", "p99_ns", "max_ns", "share"}) {
      EXPECT_EQ(row[key].error(), simdjson::SUCCESS) << key;
    }
    count += uint64_t(row["count"]);
    share += double(row["share"]);
  }
  EXPECT_EQ(count, 200u * 6);
  EXPECT_NEAR(share, 1.0, 1e-9);

  simdjson::dom::parser p2;
  element streams = parse_json(p2, s().get("/api/kernels?group=stream")->body);
  std::set<std::string> names;
  for (element row : array(streams)) names.insert(std::string(std::string_view(row["name"])));
  EXPECT_EQ(names, (std::set<std::string>{"NPU 0 / Stream 3", "NPU 0 / Stream 4",
                                          "NPU 1 / Stream 3", "NPU 1 / Stream 4"}));

  simdjson::dom::parser p3;
  const std::string id = some_request();
  element req = parse_json(p3, s().get("/api/kernels?mode=apportioned&request_id=" + id)->body);
  StringId sid = 0;
  ASSERT_TRUE(s().store().strings()->find(id, &sid));
  uint64_t n = 0;
  for (element row : array(req)) n += uint64_t(row["count"]);
  EXPECT_EQ(n, s().store().request(sid)->steps.size() * 6);

  simdjson::dom::parser p4;
  element dev = parse_json(p4, s().get("/api/kernels?group=device&device=NPU%200")->body);
  ASSERT_EQ(array(dev).size(), 1u);
  EXPECT_EQ(std::string_view(array(dev).at(0)["name"]), "NPU 0");

  // A kind filter keeps the shares over all device work: this trace has kernels only.
  simdjson::dom::parser p5;
  element only = parse_json(p5, s().get("/api/kernels?kind=kernel,collective")->body);
  double kernel_share = 0;
  for (element row : array(only)) kernel_share += double(row["share"]);
  EXPECT_NEAR(kernel_share, 1.0, 1e-9);
  simdjson::dom::parser p6;
  EXPECT_EQ(array(parse_json(p6, s().get("/api/kernels?kind=wait")->body)).size(), 0u);
  expect_error(s().get("/api/kernels?kind=kernels"), 400, "kind");
  expect_error(s().get("/api/kernels?group=thread"), 400, "group");
  expect_error(s().get("/api/kernels?mode=x"), 400, "mode");
  expect_error(s().get("/api/kernels?request_id=missing"), 404, "missing");
}

TEST_F(ServerTest, Devices) {
  auto r = s().get("/api/devices");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body,
            "[\n{\"id\":\"NPU 0\",\"kind\":\"npu\",\"streams\":[3,4]},\n"
            "{\"id\":\"NPU 1\",\"kind\":\"npu\",\"streams\":[3,4]}\n]\n");
}

TEST_F(ServerTest, TimelineOfEverything) {
  auto r = s().get("/api/timeline?width=800");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element doc = parse_json(parser_, r->body);
  std::string_view start = doc["start_ns"];
  std::string_view end = doc["end_ns"];
  // Times above 2^53 travel as exact decimal strings.
  EXPECT_EQ(start, std::to_string(SyntheticTrace{}.t0 - 400'000 - 50'000));
  EXPECT_EQ(std::stoll(std::string(end)) - std::stoll(std::string(start)), int64_t(doc["span_ns"]));
  array names = doc["names"];
  std::set<std::string> kinds;
  size_t tracks = 0;
  for (element t : array(doc["tracks"])) {
    ++tracks;
    kinds.insert(std::string(std::string_view(t["kind"])));
    EXPECT_EQ(t["merged"].error(), simdjson::SUCCESS);
    for (element ev : array(t["events"])) {
      array a = ev;
      ASSERT_EQ(a.size(), 5u);
      EXPECT_GE(int64_t(a.at(0)), -int64_t(1'000'000));
      EXPECT_LT(uint64_t(a.at(2)), names.size());
    }
  }
  EXPECT_EQ(tracks, 6u);  // 4 streams, scheduler, frontend
  EXPECT_EQ(kinds, (std::set<std::string>{"device", "host"}));
}

TEST_F(ServerTest, TimelineDepthsAndEventIds) {
  // One step, wide enough that nothing merges: step at depth 0, its two phases at depth 1.
  const int64_t t0 = SyntheticTrace{}.t0;
  auto r = s().get("/api/timeline?start_ns=" + std::to_string(t0) +
                   "&end_ns=" + std::to_string(t0 + 1'000'000) + "&width=20000");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element doc = parse_json(parser_, r->body);
  array names = doc["names"];
  bool saw_scheduler = false;
  for (element t : array(doc["tracks"])) {
    if (std::string_view(t["name"]) != "scheduler") continue;
    saw_scheduler = true;
    EXPECT_EQ(std::string_view(t["group"]), "llm_server");
    EXPECT_EQ(uint64_t(t["merged"]), 0u);
    std::map<std::string, uint64_t> depth;
    for (element ev : array(t["events"])) {
      array a = ev;
      const std::string name(std::string_view(names.at(uint64_t(a.at(2)))));
      depth[name] = a.at(3);
      if (name == "step") {
        EXPECT_EQ(int64_t(a.at(0)), 0);
        // The id is the event's sequence number: /api/event resolves it.
        simdjson::dom::parser p;
        element e =
            parse_json(p, s().get("/api/event?id=" + std::to_string(uint64_t(a.at(4))))->body);
        EXPECT_EQ(std::string_view(e["name"]), "step");
      }
    }
    EXPECT_EQ(depth["step"], 0u);
    EXPECT_EQ(depth["prepare_inputs"], 1u);
    EXPECT_EQ(depth["forward"], 1u);
  }
  EXPECT_TRUE(saw_scheduler);
}

TEST_F(ServerTest, TimelineOfARequest) {
  const std::string id = some_request();
  auto r = s().get("/api/timeline?request_id=" + id);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element doc = parse_json(parser_, r->body);
  StringId sid = 0;
  ASSERT_TRUE(s().store().strings()->find(id, &sid));
  const auto info = s().store().request(sid);
  // Window: from its tokenize span to the end of its last step's kernels.
  EXPECT_EQ(std::stoll(std::string(std::string_view(doc["start_ns"]))), info->arrival - 50'000);
  uint64_t events = 0;
  for (element t : array(doc["tracks"])) {
    for (element ev : array(t["events"])) {
      (void)ev;
      ++events;
    }
    events += uint64_t(t["merged"]);
  }
  EXPECT_EQ(events, info->steps.size() * (6 + 3) + 2);
}

TEST_F(ServerTest, TimelineParameterErrors) {
  expect_error(s().get("/api/timeline?start_ns=abc"), 400, "start_ns");
  expect_error(s().get("/api/timeline?start_ns=20&end_ns=10"), 400, "end_ns");
  expect_error(s().get("/api/timeline?width=0"), 400, "width");
  expect_error(s().get("/api/timeline?width=20001"), 400, "width");
  expect_error(s().get("/api/timeline?start_ns=-9223372036854775807&end_ns=9223372036854775807"),
               400, "too large");
  expect_error(s().get("/api/timeline?request_id=nobody"), 404, "nobody");
}

TEST_F(ServerTest, EventDetails) {
  // The first Int4Gemm kernel carries args.
  const Snapshot snap = s().store().snapshot();
  EventSeq gemm = 0;
  bool found = false;
  snap.for_each([&](const EventView& ev) {
    if (!found && ev->kind == EventKind::kKernel && snap.str(ev->name) == "Int4Gemm") {
      gemm = ev.seq;
      found = true;
    }
  });
  ASSERT_TRUE(found);
  auto r = s().get("/api/event?id=" + std::to_string(gemm));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  element e = parse_json(parser_, r->body);
  EXPECT_EQ(uint64_t(e["id"]), gemm);
  EXPECT_EQ(std::string_view(e["name"]), "Int4Gemm");
  EXPECT_EQ(std::string_view(e["cat"]), "kernel");
  EXPECT_EQ(std::string_view(e["track"]), "NPU 0 / Stream 3");
  EXPECT_EQ(std::string_view(e["ts_ns"]), std::to_string(snap.at(gemm)->ts));
  EXPECT_EQ(int64_t(e["dur_ns"]), snap.at(gemm)->dur);
  EXPECT_EQ(uint64_t(e["step"]), snap.at(gemm)->step);
  EXPECT_EQ(uint64_t(e["args"]["flops"]), uint64_t{1} << 33);
  EXPECT_EQ(int64_t(e["args"]["group_size"]), 32);
  double share = 0;
  int64_t ns = 0;
  size_t members = 0;
  for (element m : array(e["requests"])) {
    share += double(m["share"]);
    ns += int64_t(m["ns"]);
    ++members;
  }
  EXPECT_EQ(members, 4u);
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_EQ(ns, snap.at(gemm)->dur);  // apportioned parts add up to the kernel

  expect_error(s().get("/api/event?id=999999999"), 404, "unknown event id");
  expect_error(s().get("/api/event?id=abc"), 400, "id");
  expect_error(s().get("/api/event"), 400, "id: required");
  expect_error(s().get("/api/event?id=1&mode=x"), 400, "mode");
}

TEST_F(ServerTest, StatusAndMetrics) {
  auto r = s().get("/api/status");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  element st = parse_json(parser_, r->body);
  EXPECT_EQ(std::string_view(st["mode"]), "files");
  EXPECT_EQ(std::string_view(st["version"]).empty(), false);
  EXPECT_GE(double(st["uptime_s"]), 0.0);
  EXPECT_EQ(uint64_t(st["events"]["held"]), s().store().held());
  EXPECT_EQ(uint64_t(st["events"]["dropped"]), 0u);
  EXPECT_EQ(uint64_t(st["events"]["capacity"]), s().store().capacity());
  EXPECT_EQ(uint64_t(st["skipped"]["missing ts"]), 3u);
  EXPECT_EQ(std::string_view(array(st["clock"]).at(0)["domain"]), "npu");
  EXPECT_EQ(int64_t(array(st["clock"]).at(0)["offset_ns"]), -1234);
  EXPECT_TRUE(array(st["clock"]).at(0)["uncertainty_ns"].is_null());  // none recorded
  EXPECT_EQ(double(array(st["clock"]).at(0)["ns_per_tick"]), 1.0);
  EXPECT_EQ(uint64_t(st["requests"]), s().store().request_count());
  EXPECT_EQ(uint64_t(st["steps"]), s().store().step_count());
  EXPECT_EQ(bool(st["capture"]["running"]), false);
  EXPECT_EQ(array(st["collectors"]).size(), 0u);

  auto m = s().get("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = m->body;
  EXPECT_NE(t.find("# TYPE huoyan_events_held gauge\nhuoyan_events_held " +
                   std::to_string(s().store().held()) + "\n"),
            std::string::npos);
  EXPECT_NE(t.find("# HELP huoyan_events_dropped_total "), std::string::npos);
  EXPECT_NE(t.find("huoyan_events_dropped_total 0\n"), std::string::npos);
  EXPECT_NE(t.find("huoyan_skipped_events_total{reason=\"missing ts\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("huoyan_clock_offset_ns{domain=\"npu\"} -1234\n"), std::string::npos);
  EXPECT_NE(t.find("huoyan_info{version=\""), std::string::npos);
}

TEST_F(ServerTest, CaptureNeedsALiveProfiler) {
  httplib::Client c = s().client();
  auto r = c.Post("/api/capture?duration_ms=1000", "", "text/plain");
  expect_error(r, 503, "no live profiler");
  expect_error(c.Post("/api/capture/stop", "", "text/plain"), 503, "no live profiler");
}

// A live source with a capture window that the test drives.
class FakeLive : public LiveSource {
 public:
  std::vector<Collector> collectors() const override {
    return {{"host", "running", ""}, {"cupti", "unavailable", "no CUDA device"}};
  }
  std::vector<Clock> clocks() const override { return {{"tsc", 512, 20, 0.4}, {"fake", -42, 150}}; }
  std::vector<std::string> sources() const override { return {"pid 4242"}; }
  Capture capture() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return {running_, running_ ? 500 : 0};
  }
  CaptureResult start_capture(int64_t duration_ms, std::string*) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return CaptureResult::kBusy;
    running_ = true;
    last_duration = duration_ms;
    return CaptureResult::kOk;
  }
  CaptureResult stop_capture(std::string*) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return CaptureResult::kNotRunning;
    running_ = false;
    return CaptureResult::kOk;
  }
  void flush() override { ++flushes; }
  std::atomic<int64_t> last_duration{0};  // written by a server thread
  std::atomic<int> flushes{0};

 private:
  mutable std::mutex mu_;
  bool running_ = false;
};

TEST(ServerLive, StatusAndCaptureWindows) {
  FakeLive live;
  SyntheticTrace small;
  small.steps = 10;
  TestServer s({}, small, {}, &live);
  simdjson::dom::parser parser;
  element st = parse_json(parser, s.get("/api/status")->body);
  EXPECT_EQ(std::string_view(st["mode"]), "live");
  EXPECT_EQ(array(st["collectors"]).size(), 2u);
  EXPECT_EQ(std::string_view(array(st["collectors"]).at(1)["message"]), "no CUDA device");
  EXPECT_EQ(int64_t(array(st["clock"]).at(1)["offset_ns"]), -42);
  EXPECT_EQ(int64_t(array(st["clock"]).at(1)["uncertainty_ns"]), 150);
  EXPECT_EQ(double(array(st["clock"]).at(0)["ns_per_tick"]), 0.4);
  EXPECT_EQ(std::string_view(array(st["sources"]).at(0)), "pid 4242");

  httplib::Client c = s.client();
  auto started = c.Post("/api/capture?duration_ms=2500", "", "text/plain");
  ASSERT_TRUE(started);
  EXPECT_EQ(started->status, 200) << started->body;
  EXPECT_EQ(started->body, "{\"running\":true,\"ends_in_ms\":500}\n");
  EXPECT_EQ(live.last_duration.load(), 2500);
  expect_error(c.Post("/api/capture?duration_ms=10", "", "text/plain"), 409, "already running");
  expect_error(c.Post("/api/capture?duration_ms=0", "", "text/plain"), 400, "duration_ms");
  expect_error(c.Post("/api/capture?duration_ms=x", "", "text/plain"), 400, "duration_ms");
  simdjson::dom::parser p2;
  element st2 = parse_json(p2, s.get("/api/status")->body);
  EXPECT_EQ(bool(st2["capture"]["running"]), true);
  EXPECT_EQ(int64_t(st2["capture"]["ends_in_ms"]), 500);
  auto stopped = c.Post("/api/capture/stop", "", "text/plain");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->status, 200);
  EXPECT_EQ(stopped->body, "{\"running\":false,\"ends_in_ms\":null}\n");
  expect_error(c.Post("/api/capture/stop", "", "text/plain"), 409, "no capture");
  EXPECT_NE(
      s.get("/metrics")->body.find("huoyan_collector_up{collector=\"host\",state=\"running\"} 1"),
      std::string::npos);
  // /api/profile flushes the live source first.
  const int before = live.flushes;
  ASSERT_EQ(s.get("/api/profile")->status, 200);
  EXPECT_EQ(live.flushes.load(), before + 1);
}

}  // namespace
}  // namespace huoyan::server::testing
