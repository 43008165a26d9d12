#include "src/writers/chrome_json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "src/io/input.h"
#include "src/readers/chrome_json_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr uint64_t kBigId = (uint64_t{1} << 60) + 1;  // not representable as a double

// A store with one event of every kind and flag, tracks with numeric and string pid/tid, an
// unused track, steps, requests, metadata and skip counters.
struct Fixture {
  TraceStore store;
  TrackId gpu = 0, host = 0, labelled = 0, unused = 0;

  Fixture() {
    auto w = store.writer();
    gpu = w.device_track(DeviceType::kGpu, 0, 7);
    host = w.track(1234, 5678);
    w.process_at(w.track_at(host).process).name = store.intern("python");
    w.track_at(host).name = store.intern("MainThread");
    labelled = w.track(99, 1);
    w.process_at(w.track_at(labelled).process).label = store.intern("Spans");
    w.process_at(w.track_at(labelled).process)
        .labels.emplace_back(store.intern("process_labels"), store.intern("rank 0"));
    w.track_at(labelled).tid_label = store.intern("worker-1");
    unused = w.track(4321, 1);
    w.process_at(w.track_at(unused).process).name = store.intern("never used");
    w.track_at(unused).name = store.intern("idle thread");

    auto ev = [&](EventKind kind, std::string_view name, TrackId track, int64_t ts,
                  int64_t dur = 0) {
      Event e;
      e.kind = kind;
      e.name = store.intern(name);
      e.track = track;
      e.ts = ts;
      e.dur = dur;
      return e;
    };
    const StringId k_device = store.intern("device");
    const StringId k_grid = store.intern("grid");
    const StringId k_note = store.intern("note");
    {
      Event e = ev(EventKind::kKernel, "gemm \"fp16\"", gpu, 1000, 1);
      e.cat = store.intern("kernel");
      e.id = 42;
      e.step = 7;
      const Arg args[] = {{k_device, ArgValue::Int(0)},
                          {k_grid, ArgValue::Json("[128, 1, 1]")},
                          {k_note, ArgValue::String("tab\there")},
                          {store.intern("ratio"), ArgValue::Double(0.25)},
                          {store.intern("flag"), ArgValue::Bool(true)},
                          {store.intern("none"), ArgValue()},
                          {store.intern("big"), ArgValue::Uint(kBigId)}};
      w.append(e, args);
    }
    {
      Event e = ev(EventKind::kSpan, "unclosed", host, -1500, 100);
      e.flags = event_flags::kUnclosed;
      w.append(e);
    }
    w.append(ev(EventKind::kSpan, "late", host, (int64_t{1} << 53) + 1, 1));
    {
      Event e = ev(EventKind::kInstant, "global", host, 10);
      e.flags = event_flags::kScopeGlobal;
      w.append(e);
      e = ev(EventKind::kInstant, "process", host, 11);
      e.flags = event_flags::kScopeProcess;
      w.append(e);
      w.append(ev(EventKind::kInstant, "thread", host, 12));
    }
    {
      Event e = ev(EventKind::kCounter, "memory", host, 20);
      e.step = 9;  // not written: every counter arg is a series
      const Arg args[] = {{store.intern("used"), ArgValue::Double(3.5)}};
      w.append(e, args);
    }
    {
      Event e = ev(EventKind::kFlowStart, "flow-num", host, 30);
      e.id = kBigId;
      w.append(e);
      e = ev(EventKind::kFlowStep, "flow-hex", host, 31);
      e.id = 0xdeadbeef;
      e.flags = event_flags::kIdHex;
      w.append(e);
      e = ev(EventKind::kFlowEnd, "flow-str", host, 32);
      e.id = store.intern("abc");
      e.flags = event_flags::kIdString | event_flags::kBindEnclosing;
      w.append(e);
      e = ev(EventKind::kFlowStart, "flow-local", host, 33);
      e.id = 0x10;
      e.flags = event_flags::kIdLocal | event_flags::kIdHex;
      w.append(e);
    }
    {
      Event e = ev(EventKind::kAsyncBegin, "async-b", labelled, 40);
      e.id = 5;
      w.append(e);
      e = ev(EventKind::kAsyncInstant, "async-n", labelled, 41);
      e.id = 5;
      w.append(e);
      e = ev(EventKind::kAsyncEnd, "async-e", labelled, 42);
      e.id = 5;
      w.append(e);
    }
    {
      // Stored args that clash with field-derived ones and with each other.
      Event e = ev(EventKind::kSpan, "dups", host, 50, 5);
      e.step = 3;
      e.request = store.intern("req-1");
      e.id = 77;
      const Arg args[] = {{store.intern("step"), ArgValue::Int(-1)},
                          {store.intern("x"), ArgValue::Int(1)},
                          {store.intern("correlation"), ArgValue::Int(-2)},
                          {store.intern("x"), ArgValue::Int(2)}};
      w.append(e, args);
    }
    {
      Event e = ev(EventKind::kMemcpy, "memcpy HtoD", gpu, 2000, 500);
      w.append(e);
      e = ev(EventKind::kMemset, "memset", gpu, 3000, 10);
      w.append(e);
    }
    const StringId r1 = store.intern("req-1"), r2 = store.intern("req-2");
    w.add_step(Step{7, 900, 2600, host, {{r1, 12}, {r2, 1}}});
    w.add_step(Step{8, kNoTime, kNoTime, host, {}});
    // Tokens first: add_request_tokens() currently resets the arrival time.
    w.add_request_tokens(r1, 512, 64);
    w.mark_request(r1, RequestMark::kArrival, 100);
    w.mark_request(r1, RequestMark::kFirstToken, 2500);
    w.mark_request(r1, RequestMark::kFinish, (int64_t{1} << 60) + 3);
    w.mark_request(r2, RequestMark::kFirstToken, 2600);
    w.set_metadata("source", "unit \"test\"");
    w.set_metadata("device_count", "1");
    store.skips().add("missing ts", 3);
    store.skips().add("bad \"ph\"", 1);
  }
};

struct Parsed {
  simdjson::dom::parser parser;
  element doc;
  std::map<std::string, object> by_name;  // events by name (non-metadata)
  std::vector<object> meta;

  explicit Parsed(const std::string& text) {
    const auto err = parser.parse(simdjson::padded_string(text)).get(doc);
    EXPECT_EQ(err, simdjson::SUCCESS) << simdjson::error_message(err);
    if (err) return;
    for (element e : doc["traceEvents"].get_array()) {
      object o = e.get_object();
      std::string_view ph = o["ph"].get_string();
      std::string_view name = o["name"].get_string();
      if (ph == "M") {
        meta.push_back(o);
      } else {
        by_name.emplace(std::string(name), o);
      }
    }
  }
};

// Raw text of the event line containing `needle`.
std::string line_of(const std::string& text, std::string_view needle) {
  const size_t at = text.find(needle);
  if (at == std::string::npos) return {};
  const size_t b = text.rfind('\n', at) + 1;
  return text.substr(b, text.find('\n', at) - b);
}

std::vector<std::string> keys_of(object o) {
  std::vector<std::string> keys;
  for (auto field : o) keys.emplace_back(field.key);
  return keys;
}

std::string write_all(const TraceStore& store) {
  StringSink sink;
  EXPECT_TRUE(write_chrome_trace(store, sink).ok());
  return sink.str();
}

TEST(ChromeJsonWriterTest, WritesEveryKindAsStrictJson) {
  Fixture f;
  const std::string text = write_all(f.store);
  Parsed p(text);
  ASSERT_EQ(p.by_name.size(), 17u);

  object k = p.by_name.at("gemm \"fp16\"");
  EXPECT_EQ(std::string_view(k["ph"].get_string()), "X");
  EXPECT_EQ(std::string_view(k["cat"].get_string()), "kernel");
  EXPECT_EQ(int64_t(k["pid"].get_int64()), device_pid(DeviceType::kGpu, 0));
  EXPECT_EQ(int64_t(k["tid"].get_int64()), 7);
  object args = k["args"].get_object();
  EXPECT_EQ(int64_t(args["device"].get_int64()), 0);
  EXPECT_EQ(array(args["grid"].get_array()).size(), 3u);
  EXPECT_EQ(std::string_view(args["note"].get_string()), "tab\there");
  EXPECT_EQ(double(args["ratio"].get_double()), 0.25);
  EXPECT_TRUE(bool(args["flag"].get_bool()));
  EXPECT_TRUE(args["none"].is_null());
  EXPECT_EQ(uint64_t(args["big"].get_uint64()), kBigId);
  EXPECT_EQ(uint64_t(args["step"].get_uint64()), 7u);
  EXPECT_EQ(uint64_t(args["correlation"].get_uint64()), 42u);
  // kJson args are written verbatim, times with three decimals.
  const std::string kline = line_of(text, "gemm \\\"fp16\\\"");
  EXPECT_NE(kline.find("\"grid\":[128, 1, 1]"), std::string::npos) << kline;
  EXPECT_NE(kline.find("\"ts\":1.000,\"dur\":0.001"), std::string::npos) << kline;

  object b = p.by_name.at("unclosed");
  EXPECT_EQ(std::string_view(b["ph"].get_string()), "B");
  EXPECT_TRUE(b["dur"].error() == simdjson::NO_SUCH_FIELD);
  EXPECT_NE(line_of(text, "\"unclosed\"").find("\"ts\":-1.500"), std::string::npos);
  EXPECT_NE(line_of(text, "\"late\"").find("\"ts\":9007199254740.993,\"dur\":0.001"),
            std::string::npos);

  EXPECT_EQ(std::string_view(p.by_name.at("global")["s"].get_string()), "g");
  EXPECT_EQ(std::string_view(p.by_name.at("process")["s"].get_string()), "p");
  EXPECT_TRUE(p.by_name.at("thread")["s"].error() == simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(std::string_view(p.by_name.at("thread")["ph"].get_string()), "i");

  object c = p.by_name.at("memory");
  EXPECT_EQ(std::string_view(c["ph"].get_string()), "C");
  EXPECT_EQ(keys_of(c["args"].get_object()), std::vector<std::string>{"used"});

  EXPECT_EQ(std::string_view(p.by_name.at("flow-num")["ph"].get_string()), "s");
  EXPECT_EQ(uint64_t(p.by_name.at("flow-num")["id"].get_uint64()), kBigId);
  EXPECT_EQ(std::string_view(p.by_name.at("flow-hex")["ph"].get_string()), "t");
  EXPECT_EQ(std::string_view(p.by_name.at("flow-hex")["id"].get_string()), "0xdeadbeef");
  object fs_ = p.by_name.at("flow-str");
  EXPECT_EQ(std::string_view(fs_["ph"].get_string()), "f");
  EXPECT_EQ(std::string_view(fs_["id"].get_string()), "abc");
  EXPECT_EQ(std::string_view(fs_["bp"].get_string()), "e");
  object fl = p.by_name.at("flow-local");
  EXPECT_TRUE(fl["id"].error() == simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(std::string_view(fl["id2"]["local"].get_string()), "0x10");
  EXPECT_TRUE(fl["args"].error() == simdjson::NO_SUCH_FIELD);  // flow ids are not correlations

  object ab = p.by_name.at("async-b");
  EXPECT_EQ(std::string_view(ab["ph"].get_string()), "b");
  EXPECT_EQ(uint64_t(ab["id"].get_uint64()), 5u);
  EXPECT_EQ(std::string_view(ab["pid"].get_string()), "Spans");
  EXPECT_EQ(std::string_view(ab["tid"].get_string()), "worker-1");
  EXPECT_EQ(std::string_view(p.by_name.at("async-n")["ph"].get_string()), "n");
  EXPECT_EQ(std::string_view(p.by_name.at("async-e")["ph"].get_string()), "e");
  EXPECT_EQ(std::string_view(p.by_name.at("memcpy HtoD")["ph"].get_string()), "X");
  EXPECT_NE(line_of(text, "\"memset\"").find("\"dur\":0.010"), std::string::npos);
  // A device kind without a category is written with its kind as the category, so that it
  // reads back as the same kind.
  EXPECT_EQ(std::string_view(p.by_name.at("memset")["cat"].get_string()), "memset");
}

TEST(ChromeJsonWriterTest, FieldArgsOverrideStoredOnesAndKeysAreUnique) {
  Fixture f;
  const std::string text = write_all(f.store);
  Parsed p(text);
  object args = p.by_name.at("dups")["args"].get_object();
  EXPECT_EQ(keys_of(args), (std::vector<std::string>{"x", "step", "request_id", "correlation"}));
  EXPECT_EQ(int64_t(args["x"].get_int64()), 2);  // the later duplicate
  EXPECT_EQ(uint64_t(args["step"].get_uint64()), 3u);
  EXPECT_EQ(std::string_view(args["request_id"].get_string()), "req-1");
  EXPECT_EQ(uint64_t(args["correlation"].get_uint64()), 77u);
}

TEST(ChromeJsonWriterTest, ExtraArgsOverrideFieldsAndStoredArgs) {
  Fixture f;
  const Snapshot snap = f.store.snapshot();
  StringSink sink;
  ChromeJsonWriter w(sink, snap);
  const StringId k_step = f.store.intern("step"), k_req = f.store.intern("request_id");
  const StringId k_batch = f.store.intern("batch_size"), k_share = f.store.intern("share");
  const StringId k_x = f.store.intern("x");
  snap.for_each([&](const EventView& ev) {
    if (snap.str(ev->name) != "dups") return;
    const Arg extra[] = {{k_req, ArgValue::String("req-2")},
                         {k_step, ArgValue::Uint(11)},
                         {k_batch, ArgValue::Uint(4)},
                         {k_share, ArgValue::Double(0.5)},
                         {k_x, ArgValue::Int(9)},
                         {k_batch, ArgValue::Uint(5)}};
    w.event(ev, extra);
  });
  ASSERT_TRUE(w.finish().ok());
  Parsed p(sink.str());
  object args = p.by_name.at("dups")["args"].get_object();
  EXPECT_EQ(keys_of(args), (std::vector<std::string>{"correlation", "request_id", "step", "share",
                                                     "x", "batch_size"}));
  EXPECT_EQ(std::string_view(args["request_id"].get_string()), "req-2");
  EXPECT_EQ(uint64_t(args["step"].get_uint64()), 11u);
  EXPECT_EQ(int64_t(args["x"].get_int64()), 9);
  EXPECT_EQ(uint64_t(args["batch_size"].get_uint64()), 5u);
  EXPECT_EQ(double(args["share"].get_double()), 0.5);
}

TEST(ChromeJsonWriterTest, MetadataEventsForUsedTracksOnly) {
  Fixture f;
  Parsed p(write_all(f.store));
  std::multimap<std::string, std::string> seen;  // name → arg value text
  for (object m : p.meta) {
    EXPECT_TRUE(m["ts"].is_number());
    std::string_view name = m["name"].get_string();
    object args = m["args"].get_object();
    std::string value;
    for (auto field : args) {
      value = field.value.is_string() ? std::string(std::string_view(field.value.get_string()))
                                      : simdjson::to_string(field.value);
    }
    seen.emplace(std::string(name), value);
  }
  const auto has = [&](const std::string& name, const std::string& value) {
    auto [b, e] = seen.equal_range(name);
    for (auto it = b; it != e; ++it) {
      if (it->second == value) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("process_name", "GPU 0"));
  EXPECT_TRUE(has("process_name", "python"));
  EXPECT_TRUE(has("process_sort_index", std::to_string(static_cast<int>(DeviceType::kGpu) * 1000)));
  EXPECT_TRUE(has("thread_name", "Stream 7"));
  EXPECT_TRUE(has("thread_sort_index", "7"));
  EXPECT_TRUE(has("thread_name", "MainThread"));
  EXPECT_TRUE(has("process_labels", "rank 0"));
  EXPECT_FALSE(has("process_name", "never used"));
  EXPECT_FALSE(has("thread_name", "idle thread"));
  EXPECT_EQ(seen.size(), 7u);

  ChromeWriteOptions no_meta;
  no_meta.write_metadata_events = false;
  StringSink sink;
  ASSERT_TRUE(write_chrome_trace(f.store, sink, no_meta).ok());
  EXPECT_TRUE(Parsed(sink.str()).meta.empty());
}

TEST(ChromeJsonWriterTest, HuoyanSectionAndMetadataShape) {
  Fixture f;
  const std::string text = write_all(f.store);
  Parsed p(text);
  object top = p.doc.get_object();
  EXPECT_EQ(keys_of(top),
            (std::vector<std::string>{"traceEvents", "displayTimeUnit", "metadata", "huoyan"}));
  EXPECT_EQ(std::string_view(top["displayTimeUnit"].get_string()), "ns");
  object meta = top["metadata"].get_object();
  EXPECT_EQ(std::string_view(meta["source"].get_string()), "unit \"test\"");
  EXPECT_EQ(std::string_view(meta["device_count"].get_string()), "1");
  EXPECT_EQ(uint64_t(meta["huoyan_skipped"]["missing ts"].get_uint64()), 3u);
  EXPECT_EQ(uint64_t(meta["huoyan_skipped"]["bad \"ph\""].get_uint64()), 1u);

  object h = top["huoyan"].get_object();
  EXPECT_EQ(keys_of(h), (std::vector<std::string>{"version", "steps", "requests"}));
  EXPECT_EQ(int64_t(h["version"].get_int64()), 1);
  array steps = h["steps"].get_array();
  ASSERT_EQ(steps.size(), 2u);
  object s7 = steps.at(0).get_object();
  EXPECT_EQ(keys_of(s7), (std::vector<std::string>{"id", "start", "end", "track", "members"}));
  EXPECT_EQ(simdjson::minify(s7["track"]), "[1234,5678]");
  EXPECT_EQ(uint64_t(s7["id"].get_uint64()), 7u);
  EXPECT_EQ(int64_t(s7["start"].get_int64()), 900);
  EXPECT_EQ(int64_t(s7["end"].get_int64()), 2600);
  EXPECT_EQ(simdjson::minify(s7["members"]), R"([["req-1",12],["req-2",1]])");
  object s8 = steps.at(1).get_object();
  EXPECT_TRUE(s8["start"].is_null());
  EXPECT_TRUE(s8["end"].is_null());
  EXPECT_EQ(array(s8["members"].get_array()).size(), 0u);

  array requests = h["requests"].get_array();
  ASSERT_EQ(requests.size(), 2u);
  object r1 = requests.at(0).get_object();
  EXPECT_EQ(keys_of(r1), (std::vector<std::string>{"id", "arrival", "first_token", "finish",
                                                   "tokens_in", "tokens_out"}));
  EXPECT_EQ(std::string_view(r1["id"].get_string()), "req-1");
  EXPECT_EQ(int64_t(r1["arrival"].get_int64()), 100);
  EXPECT_EQ(int64_t(r1["first_token"].get_int64()), 2500);
  EXPECT_EQ(int64_t(r1["finish"].get_int64()), (int64_t{1} << 60) + 3);
  EXPECT_EQ(uint64_t(r1["tokens_in"].get_uint64()), 512u);
  EXPECT_EQ(uint64_t(r1["tokens_out"].get_uint64()), 64u);
  object r2 = requests.at(1).get_object();
  EXPECT_TRUE(r2["arrival"].is_null());
  EXPECT_TRUE(r2["finish"].is_null());
  EXPECT_EQ(int64_t(r2["first_token"].get_int64()), 2600);
}

TEST(ChromeJsonWriterTest, EmptyStoreIsAValidDocument) {
  TraceStore store;
  Parsed p(write_all(store));
  EXPECT_EQ(array(p.doc["traceEvents"].get_array()).size(), 0u);
  EXPECT_EQ(array(p.doc["huoyan"]["steps"].get_array()).size(), 0u);
  EXPECT_EQ(array(p.doc["huoyan"]["requests"].get_array()).size(), 0u);
}

TEST(ChromeJsonWriterTest, InvalidUtf8NamesAreRepairedNotDropped) {
  TraceStore store;
  {
    auto w = store.writer();
    Event e;
    e.kind = EventKind::kSpan;
    e.track = w.track(1, 1);
    e.name = store.intern("bad\xC0\xAF name\x01");
    const Arg args[] = {{store.intern("k\xFF"), ArgValue::String("v\xED\xA0\x80")}};
    w.append(e, args);
  }
  Parsed p(write_all(store));  // strict parse validates UTF-8
  ASSERT_EQ(p.by_name.size(), 1u);
  EXPECT_EQ(p.by_name.begin()->first, "bad\xEF\xBF\xBD\xEF\xBF\xBD name\x01");
}

TEST(ChromeJsonWriterTest, RejectsCallsOutOfOrder) {
  Fixture f;
  const Snapshot snap = f.store.snapshot();
  StringSink sink;
  ChromeJsonWriter w(sink, snap);
  w.event(snap.at(snap.begin_seq()));
  w.step(Step{1, 0, 1, 0, {}});
  w.event(snap.at(snap.begin_seq()));  // too late: not written
  w.metadata("k", "v");                // too late
  const Status st = w.finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("event() after"), std::string::npos) << st.message();
  Parsed p(sink.str());  // still a complete document
  EXPECT_EQ(w.events_written(), 1u);
  EXPECT_EQ(w.bytes_written(), sink.str().size());
}

TEST(ChromeJsonWriterTest, SinkErrorsAreReported) {
  Fixture f;
  CallbackSink sink([](std::string_view) { return false; });
  const Status st = write_chrome_trace(f.store, sink);
  EXPECT_FALSE(st.ok());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/huoyan-writer-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  size_t entries() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gunzip_file(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  EXPECT_NE(gz, nullptr);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(gz, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(gz);
  return out;
}

TEST(ChromeJsonWriterTest, FileAppearsOnlyOnFinish) {
  Fixture f;
  TempDir dir;
  const std::string path = dir.path() + "/trace.json";
  {
    auto sink = open_file_sink(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE(write_chrome_trace(f.store, **sink).ok());
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(dir.entries(), 1u);  // the temporary file only
    ASSERT_TRUE((*sink)->finish().ok());
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(dir.entries(), 1u);  // renamed, no temporary left
  EXPECT_EQ(read_file(path), write_all(f.store));

  const std::string abandoned = dir.path() + "/abandoned.json";
  {
    auto sink = open_file_sink(abandoned);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE(write_chrome_trace(f.store, **sink).ok());
  }  // destroyed without finish()
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_EQ(dir.entries(), 1u);
}

TEST(ChromeJsonWriterTest, GzipOutputDecompressesToTheSameJson) {
  Fixture f;
  TempDir dir;
  const std::string path = dir.path() + "/trace.json.gz";
  {
    auto sink = open_file_sink(path);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE(write_chrome_trace(f.store, **sink).ok());
    ASSERT_TRUE((*sink)->finish().ok());
  }
  const std::string raw = read_file(path);
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
  EXPECT_EQ(gunzip_file(path), write_all(f.store));
}

// What the writer writes, the reader reads back into the same store content: writing the
// re-read store gives the same lines (events, metadata events, steps with their track, requests).
// Allowed differences: the reader appends unclosed "B" events when the input ends (and counts
// them), and keeps the top-level displayTimeUnit as trace metadata.
TEST(ChromeJsonWriterTest, ReadBackAndWriteAgainGivesTheSameLines) {
  Fixture f;
  const std::string first = write_all(f.store);
  TraceStore again;
  auto src = ByteSource::from_string(first, "first.json");
  ChromeJsonReader reader;
  auto stats = reader.read(*src, again, {});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->events, 17u);
  for (const auto& [reason, n] : again.skips().all()) {
    if (reason == "unclosed B") continue;
    EXPECT_EQ(f.store.skips().get(reason), n) << reason;  // nothing new was skipped
  }
  const std::string second = write_all(again);
  const auto lines = [](const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("\"metadata\":", 0) != 0) v.push_back(line);
    }
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(lines(second), lines(first));
  Parsed p(second);
  object meta = p.doc["metadata"].get_object();
  EXPECT_EQ(std::string_view(meta["source"].get_string()), "unit \"test\"");
  EXPECT_EQ(uint64_t(meta["huoyan_skipped"]["missing ts"].get_uint64()), 3u);
}

// Perfetto takes pid as an unsigned 32-bit number: larger or negative pids (merged inputs sit
// 2^32 apart) are written as free 31-bit pids, and the reader restores the real ones.
TEST(ChromeJsonWriterTest, PidsOutsidePerfettosRangeAreSubstitutedAndRestored) {
  TraceStore store;
  const int64_t big = (int64_t{1} << 32) + 7;
  {
    auto w = store.writer();
    for (int64_t pid : {int64_t{7}, big, int64_t{-3}}) {
      Event e;
      e.kind = EventKind::kSpan;
      e.track = w.track(pid, 1);
      e.name = store.intern("span");
      e.ts = 1000;
      e.dur = 10;
      w.append(e);
    }
  }
  StringSink sink;
  ASSERT_TRUE(write_chrome_trace(store, sink).ok());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(sink.str()).get(doc), simdjson::SUCCESS) << sink.str();
  std::set<int64_t> written;
  int substitutes = 0;
  for (simdjson::dom::element e : doc["traceEvents"].get_array()) {
    const int64_t pid = e["pid"].get_int64();
    EXPECT_GE(pid, 0);
    EXPECT_LE(pid, INT32_MAX);
    written.insert(pid);
    if (std::string_view(e["name"]) == "huoyan_pid") ++substitutes;
  }
  EXPECT_EQ(written.size(), 3u);  // still three processes
  EXPECT_TRUE(written.count(7));  // pids in range are kept
  EXPECT_EQ(substitutes, 2);

  TraceStore back;
  auto src = ByteSource::from_string(sink.str());
  ASSERT_TRUE(ChromeJsonReader().read(*src, back, {}).ok());
  std::set<int64_t> pids;
  const Snapshot snap = back.snapshot();
  for (const Process& p : snap.processes()) pids.insert(p.pid);
  EXPECT_EQ(pids, (std::set<int64_t>{-3, 7, big}));
  EXPECT_TRUE(back.skips().all().empty());
}

TEST(ChromeJsonWriterTest, OverlapsThatDoNotNestGoToLanesAndComeBack) {
  // On one thread: a step with a child, and a request's queue wait that began before the step
  // and ends inside it (it neither contains the step nor nests in it); on a stream, two kernels
  // that overlap.
  TraceStore store;
  TrackId host = 0, stream = 0;
  {
    auto w = store.writer();
    host = w.track(10, 11);
    w.track_at(host).name = store.intern("scheduler");
    stream = w.device_track(DeviceType::kGpu, 0, 7);
    auto span = [&](TrackId t, const char* name, int64_t ts, int64_t dur, EventKind kind,
                    StringId request = 0) {
      Event e;
      e.kind = kind;
      e.request = request;
      e.track = t;
      e.name = store.intern(name);
      e.ts = ts;
      e.dur = dur;
      w.append(e, {});
    };
    span(host, "child", 1200, 100, EventKind::kSpan);
    span(host, "step", 1000, 1000, EventKind::kSpan);
    span(host, "queue_wait", 500, 1000, EventKind::kSpan, store.intern("req-1"));
    span(stream, "gemm_a", 0, 600, EventKind::kKernel);
    span(stream, "gemm_b", 400, 600, EventKind::kKernel);
  }
  const std::string text = write_all(store);
  Parsed p(text);
  // Per (pid, tid), every pair of slices nests or is disjoint, as Perfetto needs.
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<double, double>>> slices;
  std::map<std::string, int64_t> tid_of;
  for (element e : p.doc["traceEvents"].get_array()) {
    object o = e.get_object();
    if (std::string_view(o["ph"].get_string()) != "X") continue;
    const double ts = o["ts"].get_double();
    const double end = ts + double(o["dur"].get_double());
    const auto key = std::make_pair(int64_t(o["pid"].get_int64()), int64_t(o["tid"].get_int64()));
    for (const auto& [a, b] : slices[key]) {
      const bool nested = (a <= ts && end <= b) || (ts <= a && b <= end);
      EXPECT_TRUE(nested || end <= a || b <= ts) << std::string_view(o["name"].get_string());
    }
    slices[key].emplace_back(ts, end);
    tid_of[std::string(std::string_view(o["name"].get_string()))] = key.second;
  }
  EXPECT_EQ(tid_of["step"], 11);
  EXPECT_EQ(tid_of["child"], 11);
  EXPECT_NE(tid_of["queue_wait"], 11);
  EXPECT_EQ(tid_of["gemm_a"], 7);
  EXPECT_NE(tid_of["gemm_b"], 7);
  EXPECT_NE(text.find("\"name\":\"scheduler (overlapping, lane 1)\""), std::string::npos);
  // huoyan reads the lanes back onto their threads.
  TraceStore back;
  auto src = ByteSource::from_string(text, "lanes.json");
  ASSERT_TRUE(ChromeJsonReader().read(*src, back, {}).ok());
  const Snapshot snap = back.snapshot();
  std::map<std::string, int64_t> back_tid;
  snap.for_each([&](const EventView& ev) {
    back_tid[std::string(snap.str(ev->name))] = snap.track(ev->track).tid;
  });
  EXPECT_EQ(back_tid["queue_wait"], 11);
  EXPECT_EQ(back_tid["gemm_b"], 7);
  EXPECT_EQ(snap.tracks().size(), 2u);
  // Without lanes, the file keeps the threads (for tools that want them as they were).
  StringSink plain;
  ChromeWriteOptions no_lanes;
  no_lanes.lanes = false;
  ASSERT_TRUE(write_chrome_trace(store, plain, no_lanes).ok());
  EXPECT_EQ(plain.str().find("overlapping"), std::string::npos);
}

}  // namespace
}  // namespace huoyan
