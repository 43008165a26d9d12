// /api/diagnosis and /api/flamegraph/diff over HTTP: shapes, values, languages and errors.
#include <gtest/gtest.h>

#include "src/analysis/diagnosis.h"
#include "src/server/server_test_harness.h"

namespace huoyan::server::testing {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;

void expect_error(const httplib::Result& r, int status, const std::string& needle) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const std::string msg = error_of(r);
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
}

// The node reached from the root by `path` of names; null when absent.
const char* find_path(element node, std::initializer_list<std::string_view> path, element* out) {
  for (std::string_view name : path) {
    array children;
    if (node["children"].get(children) != simdjson::SUCCESS) return "no children";
    bool found = false;
    for (element c : children) {
      if (std::string_view(c["name"]) == name) {
        node = c;
        found = true;
        break;
      }
    }
    if (!found) return "missing";
  }
  *out = node;
  return nullptr;
}

TEST(ServerDiagnosis, FindingsInBothLanguages) {
  SyntheticTrace trace;
  trace.steps = 100;
  TestServer s({}, trace);
  simdjson::dom::parser parser;
  auto en = s.get("/api/diagnosis");
  ASSERT_TRUE(en);
  ASSERT_EQ(en->status, 200) << en->body;
  element doc = parse_json(parser, en->body);
  array findings;
  ASSERT_EQ(doc["findings"].get(findings), simdjson::SUCCESS) << en->body;
  // A file-backed store is diagnosed whole.
  EXPECT_FALSE(bool(doc["window"]["live"]));
  EXPECT_EQ(uint64_t(doc["window"]["max_steps"]), 0u);
  EXPECT_EQ(uint64_t(doc["window"]["steps"]), 100u);
  array quiet;
  ASSERT_EQ(doc["quiet"].get(quiet), simdjson::SUCCESS);
  array peaks;
  ASSERT_EQ(doc["peaks"].get(peaks), simdjson::SUCCESS);
  // The same ranking diagnose() gives on the store, in English and in Chinese.
  const auto expected = diagnose(s.store(), s.store().snapshot(), DiagnosisConfig{});
  ASSERT_EQ(findings.size(), expected.size());
  size_t i = 0;
  for (element f : findings) {
    EXPECT_EQ(std::string_view(f["id"]), expected[i].id);
    EXPECT_EQ(std::string_view(f["title"]), expected[i].title.en);
    ++i;
  }
  auto zh = s.get("/api/diagnosis?lang=zh");
  ASSERT_TRUE(zh);
  ASSERT_EQ(zh->status, 200);
  if (!expected.empty()) {
    EXPECT_NE(zh->body.find(expected[0].title.zh), std::string::npos) << zh->body;
  }
  expect_error(s.get("/api/diagnosis?lang=fr"), 400, "lang");
  expect_error(s.get("/api/diagnosis?window_steps=-1"), 400, "window_steps");
  expect_error(s.get("/api/diagnosis?window_steps=x"), 400, "window_steps");
  // The last 10 steps only.
  auto last = s.get("/api/diagnosis?window_steps=10");
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 200) << last->body;
  element w = parse_json(parser, last->body);
  EXPECT_EQ(uint64_t(w["window"]["steps"]), 10u);
  EXPECT_EQ(uint64_t(w["window"]["steps_total"]), 100u);
  EXPECT_EQ(uint64_t(w["window"]["max_steps"]), 10u);
}

TEST(ServerDiagnosis, EmptyStoreHasNoFindings) {
  SyntheticTrace trace;
  trace.steps = 0;
  TestServer s({}, trace);
  auto r = s.get("/api/diagnosis");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"findings\":[]"), std::string::npos) << r->body;
}

TEST(ServerFlameDiff, TwoRequestsOfOneTrace) {
  SyntheticTrace trace;
  trace.steps = 60;
  TestServer s({}, trace);
  const std::string a = s.info().request_ids[4];
  const std::string b = s.info().request_ids[9];
  simdjson::dom::parser parser;
  auto r = s.get("/api/flamegraph/diff?request_id=" + a + "&baseline_request_id=" + b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  element diff = parse_json(parser, r->body);
  // Widths and bases equal the two requests' own flame graphs.
  simdjson::dom::parser pa, pb;
  auto fa = s.get("/api/flamegraph?request_id=" + a);
  auto fb = s.get("/api/flamegraph?request_id=" + b);
  ASSERT_TRUE(fa && fb);
  const int64_t va = parse_json(pa, fa->body)["value"];
  const int64_t vb = parse_json(pb, fb->body)["value"];
  EXPECT_EQ(std::string_view(diff["name"]), "all");
  EXPECT_EQ(int64_t(diff["value"]), va);
  EXPECT_EQ(int64_t(diff["base"]), vb);
  EXPECT_EQ(int64_t(diff["delta"]), va - vb);
  // A request against itself: no change anywhere.
  auto same = s.get("/api/flamegraph/diff?request_id=" + a + "&baseline_request_id=" + a);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->body.find("\"delta\":-"), std::string::npos);
  EXPECT_EQ(int64_t(parse_json(parser, same->body)["delta"]), 0);

  expect_error(s.get("/api/flamegraph/diff"), 404, "--baseline");
  expect_error(s.get("/api/flamegraph/diff?request_id=" + a), 404, "baseline_request_id");
  expect_error(s.get("/api/flamegraph/diff?request_id=" + a + "&baseline_request_id=nope"), 404,
               "nope");
  expect_error(s.get("/api/flamegraph/diff?request_id=nope&baseline_request_id=" + a), 404, "nope");
  expect_error(s.get("/api/flamegraph/diff?baseline_request_id=" + a + "&mode=x"), 400, "mode");
  expect_error(s.get("/api/flamegraph/diff?baseline_request_id=" + a + "&max_nodes=-2"), 400,
               "max_nodes");
  expect_error(s.get("/api/flamegraph/diff?baseline_request_id=" + a + "&device=GPU%209"), 404,
               "GPU 9");
}

TEST(ServerFlameDiff, AgainstABaselineStore) {
  // BASE: the same serving loop with half the steps, so every frame's NEW value is twice BASE.
  SyntheticTrace base_trace;
  base_trace.steps = 40;
  TraceStore base;
  fill_synthetic(base, base_trace);
  ServerOptions options;
  options.baseline = &base;
  options.baseline_sources = {"base.json"};
  SyntheticTrace trace;
  trace.steps = 80;
  TestServer s(options, trace);

  simdjson::dom::parser parser;
  auto r = s.get("/api/flamegraph/diff");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  element root = parse_json(parser, r->body);
  const int64_t value = root["value"];
  const int64_t base_value = root["base"];
  EXPECT_GT(value, base_value);
  EXPECT_EQ(int64_t(root["delta"]), value - base_value);
  element gemm;
  ASSERT_EQ(find_path(root, {"step", "forward", "Int4Gemm"}, &gemm), nullptr) << r->body;
  // Twice the steps: about twice the time (the first steps' staggered requests differ).
  const double ratio = double(int64_t(gemm["value"])) / double(int64_t(gemm["base"]));
  EXPECT_GT(ratio, 1.95);
  EXPECT_LT(ratio, 2.05);
  EXPECT_EQ(int64_t(gemm["delta"]), int64_t(gemm["value"]) - int64_t(gemm["base"]));
  EXPECT_TRUE(bool(gemm["device"]));

  // Folding keeps the totals.
  simdjson::dom::parser p2;
  auto small = s.get("/api/flamegraph/diff?max_nodes=4");
  ASSERT_TRUE(small);
  element folded = parse_json(p2, small->body);
  EXPECT_EQ(int64_t(folded["value"]), value);
  EXPECT_EQ(int64_t(folded["base"]), base_value);
  EXPECT_NE(small->body.find("\"(other)\""), std::string::npos);

  // Requests of NEW are looked up in NEW, baseline requests in BASE.
  auto one = s.get("/api/flamegraph/diff?request_id=" + s.info().request_ids.back() +
                   "&baseline_request_id=" + s.info().request_ids[3]);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;
  expect_error(s.get("/api/flamegraph/diff?baseline_request_id=" + s.info().request_ids.back()),
               404, "in the baseline");

  simdjson::dom::parser p3;
  auto status = s.get("/api/status");
  ASSERT_TRUE(status);
  element st = parse_json(p3, status->body);
  EXPECT_EQ(std::string_view(st["baseline"]["sources"].at(0)), "base.json");
  EXPECT_EQ(uint64_t(st["baseline"]["events"]), base.held());
}

TEST(ServerFlameDiff, NoBaselineInStatusWithoutOne) {
  TestServer s;
  simdjson::dom::parser parser;
  auto status = s.get("/api/status");
  ASSERT_TRUE(status);
  EXPECT_TRUE(parse_json(parser, status->body)["baseline"].is_null());
}

TEST(ServerStatus, ClockDomainsCarryTheirErrorBoundAndRate) {
  TestServer s;
  {
    auto w = s.store().writer();
    w.set_metadata("clock.mspti.offset_ns", "-1765000000123456789");
    w.set_metadata("clock.mspti.uncertainty_ns", "310");
    w.set_metadata("clock.tsc.offset_ns", "-266149000000000");
    w.set_metadata("clock.tsc.uncertainty_ns", "not a number");
    w.set_metadata("clock.tsc.ns_per_tick", "0.4089");
  }
  simdjson::dom::parser parser;
  auto status = s.get("/api/status");
  ASSERT_TRUE(status);
  element st = parse_json(parser, status->body);
  array clocks;
  ASSERT_EQ(st["clock"].get(clocks), simdjson::SUCCESS) << status->body;
  ASSERT_EQ(clocks.size(), 2u) << status->body;
  for (element c : clocks) {
    const std::string_view domain = c["domain"];
    if (domain == "mspti") {
      EXPECT_EQ(int64_t(c["offset_ns"]), -1765000000123456789);
      EXPECT_EQ(int64_t(c["uncertainty_ns"]), 310);
      EXPECT_EQ(double(c["ns_per_tick"]), 1.0);
    } else {
      EXPECT_EQ(domain, "tsc");
      EXPECT_TRUE(c["uncertainty_ns"].is_null());  // unreadable: not known
      EXPECT_DOUBLE_EQ(double(c["ns_per_tick"]), 0.4089);
    }
  }
}

TEST(ServerStatus, MergedInputsAndTheirClocks) {
  TestServer s;
  {
    auto w = s.store().writer();
    w.set_metadata("clock.input0.rank", "0");
    w.set_metadata("clock.input0.file", "rank0.sqlite");
    w.set_metadata("clock.input0.clock", "Nsight Systems session");
    w.set_metadata("clock.input0.offset_ns", "1696392839587175550");
    w.set_metadata("clock.input0.basis", "TARGET_INFO_SESSION_START_TIME.utcEpochNs");
    w.set_metadata("clock.input1.rank", "1");
    w.set_metadata("clock.input1.file", "rank1.json");
    w.set_metadata("clock.input1.unaligned", "no baseTimeNanoseconds");
    w.set_metadata("clock.inputX.rank", "ignored: not an index");
  }
  simdjson::dom::parser parser;
  auto status = s.get("/api/status");
  ASSERT_TRUE(status);
  element st = parse_json(parser, status->body);
  array inputs;
  ASSERT_EQ(st["inputs"].get(inputs), simdjson::SUCCESS) << status->body;
  ASSERT_EQ(inputs.size(), 2u);
  element a = inputs.at(0);
  EXPECT_EQ(uint64_t(a["index"]), 0u);
  EXPECT_EQ(std::string_view(a["file"]), "rank0.sqlite");
  EXPECT_EQ(int64_t(a["offset_ns"]), 1696392839587175550);
  EXPECT_EQ(std::string_view(a["basis"]), "TARGET_INFO_SESSION_START_TIME.utcEpochNs");
  EXPECT_TRUE(a["unaligned"].is_null());
  element b = inputs.at(1);
  EXPECT_EQ(std::string_view(b["rank"]), "1");
  EXPECT_TRUE(b["offset_ns"].is_null());
  EXPECT_EQ(std::string_view(b["unaligned"]), "no baseTimeNanoseconds");
  // Not every input aligned: no common timeline.
  EXPECT_TRUE(st["timeline"].is_null());
  // Input offsets are not clock domains of the store.
  EXPECT_EQ(array(st["clock"]).size(), 0u) << status->body;

  TestServer plain;
  simdjson::dom::parser p2;
  auto st2 = plain.get("/api/status");
  ASSERT_TRUE(st2);
  element doc = parse_json(p2, st2->body);
  EXPECT_EQ(array(doc["inputs"]).size(), 0u);
}

}  // namespace
}  // namespace huoyan::server::testing
