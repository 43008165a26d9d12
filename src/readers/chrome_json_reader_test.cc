#include "src/readers/chrome_json_reader.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "src/core/time_format.h"
#include "src/readers/chrome_event_decoder.h"
#include "src/readers/chrome_json_values.h"
#include "src/writers/chrome_json_writer.h"

namespace huoyan {
namespace {

// Reads `json` (named "t.json") with the given block size.
Result<ReadStats> load(TraceStore& store, const std::string& json,
                       size_t block = ChromeJsonReader::kDefaultBlockBytes,
                       const ReadOptions& options = {}) {
  auto src = ByteSource::from_string(json, "t.json");
  ChromeJsonReader reader(block);
  return reader.read(*src, store, options);
}

std::vector<Event> events(const TraceStore& store) {
  std::vector<Event> out;
  store.snapshot().for_each([&](const EventView& ev) { out.push_back(*ev); });
  return out;
}

// The value of arg `key` of the event at `seq`, or a kNull ArgValue with an empty key marker.
std::optional<ArgValue> arg(const TraceStore& store, EventSeq seq, std::string_view key) {
  const Snapshot snap = store.snapshot();
  for (const StoredArg& a : snap.at(seq).args()) {
    if (snap.str(a.key) == key) return a.value();
  }
  return std::nullopt;
}

std::string x_event(std::string_view extra) {
  return std::string(R"({"ph":"X","name":"k","cat":"c","pid":1,"tid":2,"ts":10,"dur":5)") +
         std::string(extra) + "}";
}

TEST(ChromeJsonReader, StringTimestampsAreExactNanoseconds) {
  TraceStore store;
  auto r = load(store, R"([{"ph":"X","name":"a","ts":"1704161511420306.491","dur":"12.5",)"
                       R"("pid":1,"tid":1}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto ev = events(store);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ts, 1704161511420306491);
  EXPECT_EQ(ev[0].dur, 12500);
}

TEST(ChromeJsonReader, FastMicrosecondParserAgreesWithTheGeneralOne) {
  std::mt19937_64 rng(7);
  const char* fixed[] = {"0",
                         "-0",
                         "1.",
                         ".5",
                         "1.5e3",
                         "1e-3",
                         "+1",
                         "00012",
                         "1.2345",
                         "-1.0005",
                         "x",
                         "",
                         "-",
                         "1.-2",
                         "9223372036854775.807",
                         "9223372036854775.808",
                         "-9223372036854775.808",
                         "9999999999999999.999",
                         "12345678901234567",
                         "1704161511420306.491"};
  std::vector<std::string> inputs(std::begin(fixed), std::end(fixed));
  for (int i = 0; i < 20000; ++i) {
    std::string s = rng() % 4 == 0 ? "-" : "";
    const int int_digits = static_cast<int>(rng() % 19);
    for (int k = 0; k < int_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 3) {
      s += '.';
      const int frac = static_cast<int>(rng() % 6);
      for (int k = 0; k < frac; ++k) s += static_cast<char>('0' + rng() % 10);
    }
    inputs.push_back(s);
  }
  for (const std::string& s : inputs) {
    int64_t fast = 0, general = 0;
    const bool a = chrome_json::parse_us_to_ns(s, &fast);
    const bool b = parse_decimal_to_ns(s, 1000, &general);
    ASSERT_EQ(a, b) << s;
    if (a) {
      ASSERT_EQ(fast, general) << s;
    }
  }
}

TEST(ChromeJsonReader, TimesBeyondDoublePrecisionAndNegative) {
  TraceStore store;
  auto r = load(store, R"([{"ph":"X","name":"a","ts":9007199254740993.001,"dur":0.001,)"
                       R"("pid":1,"tid":1},{"ph":"i","name":"b","ts":-1.5,"pid":1,"tid":1},)"
                       R"({"ph":"i","name":"c","ts":1.5e3,"pid":1,"tid":1}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto ev = events(store);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].ts, 9007199254740993001);
  EXPECT_EQ(ev[0].dur, 1);
  EXPECT_EQ(ev[1].ts, -1500);
  EXPECT_EQ(ev[2].ts, 1500000);
}

TEST(ChromeJsonReader, IdsAboveTwoToThe53AreExact) {
  TraceStore store;
  auto r = load(store, "[" + x_event(R"(,"args":{"correlation":9007199254740993})") +
                           R"(,{"ph":"s","id":18446744073709551615,"ts":1,"pid":1,"tid":1},)"
                           R"({"ph":"t","id":"0x1f","ts":2,"pid":1,"tid":1},)"
                           R"({"ph":"f","id":"req-abc","bp":"e","ts":3,"pid":1,"tid":1},)"
                           R"({"ph":"b","id2":{"local":"0x10"},"cat":"a","ts":4,"pid":1,"tid":1},)"
                           R"({"ph":"e","id":"123","cat":"a","ts":5,"pid":1,"tid":1}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto ev = events(store);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].id, 9007199254740993u);
  EXPECT_FALSE(arg(store, 0, "correlation").has_value()) << "moved into Event::id";
  EXPECT_EQ(ev[1].id, 18446744073709551615u);
  EXPECT_EQ(ev[1].flags, 0);
  EXPECT_EQ(ev[2].id, 31u);
  EXPECT_EQ(ev[2].flags, event_flags::kIdHex);
  EXPECT_EQ(ev[3].flags, event_flags::kIdString | event_flags::kBindEnclosing);
  EXPECT_EQ(store.str(static_cast<StringId>(ev[3].id)), "req-abc");
  EXPECT_EQ(ev[4].id, 16u);
  EXPECT_EQ(ev[4].flags, event_flags::kIdHex | event_flags::kIdLocal);
  EXPECT_EQ(ev[5].id, 123u);
  EXPECT_EQ(ev[5].kind, EventKind::kAsyncEnd);
}

TEST(ChromeJsonReader, UnterminatedFormsAreComplete) {
  const std::string e1 = x_event("");
  const std::string e2 = R"({"ph":"i","name":"j","ts":20,"pid":1,"tid":2})";
  for (const std::string& doc :
       {"[" + e1 + "," + e2, "[" + e1 + "," + e2 + ",", "[" + e1 + "," + e2 + ",\n  \n",
        "[" + e1 + "," + e2 + "]", "[" + e1 + "," + e2 + "] trailing junk",
        R"({"traceEvents":[)" + e1 + "," + e2, R"({"traceEvents":[)" + e1 + "," + e2 + "],",
        R"({"traceEvents":[)" + e1 + "," + e2 + "],\"displayTimeUnit\":\"ns\"",
        R"({"traceEvents":[)" + e1 + "," + e2 + ", "}) {
    for (size_t block : {size_t{1}, size_t{3}, size_t{64}, ChromeJsonReader::kDefaultBlockBytes}) {
      TraceStore store;
      auto r = load(store, doc, block);
      ASSERT_TRUE(r.ok()) << doc << ": " << r.status().message();
      EXPECT_EQ(r->events, 2u) << doc;
      EXPECT_EQ(r->skipped, 0u) << doc;
      EXPECT_EQ(store.skips().total(), 0u) << doc;
    }
  }
}

TEST(ChromeJsonReader, TruncationInsideAnEventKeepsTheEventsBefore) {
  for (const char* tail : {R"({"ph":"X","name":"cut here)", R"({"ph":"X","na)", "{",
                           R"({"ph":"X","args":{"a":[1,2)"}) {
    TraceStore store;
    auto r = load(store, "[" + x_event("") + "," + x_event("") + "," + tail, 5);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->events, 2u);
    EXPECT_EQ(r->skipped, 1u);
    EXPECT_EQ(store.skips().get("truncated event at end of input"), 1u);
  }
  // Even when nothing precedes it: the file is a (crashed) trace, only empty.
  TraceStore store;
  auto r = load(store, R"([{"ph":"X","name":"a)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events, 0u);
  EXPECT_EQ(store.skips().get("truncated event at end of input"), 1u);
}

TEST(ChromeJsonReader, InputsThatAreNotTracesAreErrorsWithOffsets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "t.json: not a Chrome trace: empty input, expected '[' or '{' at byte 0"},
      {"  \n ", "t.json: not a Chrome trace: only whitespace, expected '[' or '{' at byte 4"},
      {std::string("\x89PNG\r\n\x1a\n\0\0", 10),
       "t.json: not a Chrome trace: expected '[' or '{', found byte 0x89 at byte 0"},
      {"Step Id,Model ID\n1,2\n",
       "t.json: not a Chrome trace: expected '[' or '{', found 'S' at byte 0"},
      {"  \"just a string\"",
       "t.json: not a Chrome trace: expected '[' or '{', found '\"' at "
       "byte 2"},
      {"[INFO] server started",
       "t.json: not a Chrome trace: expected an event object, found 'I' at byte 1"},
      {R"({"foo":1,"bar":[1,2]})",
       "t.json: not a Chrome trace: no \"traceEvents\" array in the object ending at byte 21"},
      {"{not json}", "t.json: not a Chrome trace: expected a key, found 'n' at byte 1"},
      {R"([{garbage}, {"x" 1}])",
       "t.json: not a Chrome trace: no event could be parsed; the first malformed one starts at "
       "byte 1"},
  };
  for (const auto& [doc, message] : cases) {
    TraceStore store;
    auto r = load(store, doc);
    ASSERT_FALSE(r.ok()) << doc;
    EXPECT_EQ(r.status().message(), message);
  }
  // Random binary never crashes or hangs, whatever it starts with.
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 1103515245 + 12345;
    noise += static_cast<char>(x >> 16);
  }
  for (const char* prefix : {"", "[", "{\"traceEvents\":[", "[{"}) {
    TraceStore store;
    auto r = load(store, prefix + noise, 4096);
    if (r.ok()) {
      EXPECT_EQ(r->events, 0u);
    }
  }
}

// gzip-compresses `data` (one member).
std::string gzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(ChromeJsonReader, TruncatedGzipKeepsWhatWasRead) {
  std::string doc = "[";
  for (int i = 0; i < 20000; ++i)
    doc += x_event(R"(,"args":{"i":)" + std::to_string(i) + "}") + ",";
  const std::string gz = gzip(doc + "]");
  const std::string path = ::testing::TempDir() + "/huoyan_truncated.json.gz";
  for (const size_t keep : {gz.size(), gz.size() / 2, size_t{10}}) {
    {
      std::ofstream out(path, std::ios::binary);
      out.write(gz.data(), static_cast<std::streamsize>(keep));
    }
    TraceStore store;
    auto r = read_chrome_json_file(path, store);
    if (keep == gz.size()) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->events, 20000u);
      EXPECT_EQ(store.skips().total(), 0u);
    } else if (keep == 10) {
      ASSERT_FALSE(r.ok());  // nothing could be read at all
      EXPECT_NE(r.status().message().find("huoyan_truncated.json.gz"), std::string::npos);
    } else {
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_GT(r->events, 1000u);
      EXPECT_LT(r->events, 20000u);
      const auto all = store.skips().all();
      ASSERT_EQ(all.size(), 1u);
      EXPECT_EQ(all[0].first.rfind("input cut short by a read error (", 0), 0u) << all[0].first;
      EXPECT_NE(all[0].first.find("gzip stream truncated"), std::string::npos) << all[0].first;
    }
  }
  std::remove(path.c_str());
}

TEST(ChromeJsonReader, MissingFileNamesThePath) {
  TraceStore store;
  auto r = read_chrome_json_file("/nonexistent/trace.json", store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/trace.json"), std::string::npos);
}

TEST(ChromeJsonReader, BadFieldsAreCountedSkips) {
  TraceStore store;
  const std::string doc =
      "[" + x_event("") + R"(,{"ph":"X","name":"n","ts":1,"dur":-2,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":1,"dur":NaN,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":1,"dur":"abc","pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":1,"dur":1e400,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":9223372036854775,"dur":9223372036854775,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":"x","dur":1,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","dur":1,"pid":1,"tid":1})" +
      R"(,{"ph":"X","name":"n","ts":4,"tdur":3,"pid":1,"tid":1})" +
      R"(,{"name":"no phase","ts":1},{"ph":"P","ts":1},{"ph":"O","ts":1},{"ph":"P","ts":2})" +
      R"(,{"ph":"XX","ts":2},{"ph":"X","ts":1,"dur":1,"pid":1,"tid":1 "oops"},[1,2],7)" + "]";
  auto r = load(store, doc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 2u);  // the good one, and the X without dur (stored with dur 0)
  const SkipCounters& s = store.skips();
  EXPECT_EQ(s.get("negative dur"), 1u);
  EXPECT_EQ(s.get("bad dur"), 4u);  // NaN, "abc", 1e400 (beyond int64 ns), ts+dur overflow
  EXPECT_EQ(s.get("bad ts"), 1u);
  EXPECT_EQ(s.get("missing ts"), 1u);
  EXPECT_EQ(s.get("X without dur (tdur ignored, stored with dur 0)"), 1u);
  EXPECT_EQ(s.get("missing ph"), 1u);
  EXPECT_EQ(s.get("unsupported phase 'P'"), 2u);
  EXPECT_EQ(s.get("unsupported phase 'O'"), 1u);
  EXPECT_EQ(s.get("unsupported phase (invalid \"ph\")"), 1u);
  EXPECT_EQ(s.get("malformed event JSON"), 1u);
  EXPECT_EQ(s.get("non-object element in traceEvents"), 2u);
  EXPECT_EQ(r->skipped, 15u);
  EXPECT_EQ(events(store)[1].dur, 0);
}

TEST(ChromeJsonReader, HugeNameDeepArgsNulsAndInvalidUtf8) {
  const std::string big(1 << 20, 'n');
  std::string deep = R"({"ph":"X","name":"deep","ts":1,"dur":1,"pid":1,"tid":1,"args":{"a":)";
  deep += std::string(10000, '[') + std::string(10000, ']') + "}}";
  const std::string nul =
      std::string(R"({"ph":"X","name":"nul)") + '\0' + R"(here","ts":1,"dur":1,"pid":1,"tid":1})";
  const std::string utf8 =
      "{\"ph\":\"X\",\"name\":\"bad\xff\xfe utf8 \xe4\xb8\xad\",\"ts\":1,"
      "\"dur\":1,\"pid\":1,\"tid\":1,\"args\":{\"k\xc0\":\"v\xed\xa0\x80\"}}";
  for (size_t block : {size_t{4096}, ChromeJsonReader::kDefaultBlockBytes}) {
    TraceStore store;
    auto r =
        load(store,
             "[" + x_event(R"(,"name":")" + big + "\"") + "," + deep + "," + nul + "," + utf8 + "]",
             block);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->events, 3u);
    EXPECT_EQ(store.skips().get("args nested too deep"), 1u);
    EXPECT_EQ(store.skips().get("control characters in strings repaired"), 1u);
    EXPECT_EQ(store.skips().get("invalid UTF-8 repaired"), 1u);
    const auto ev = events(store);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(store.str(ev[0].name), big);
    EXPECT_EQ(store.str(ev[1].name), "nul?here");
    EXPECT_EQ(store.str(ev[2].name), "bad?? utf8 \xe4\xb8\xad");
    EXPECT_EQ(arg(store, 2, "k?")->s, "v???");
  }
}

TEST(ChromeJsonReader, DuplicateKeysLastWins) {
  TraceStore store;
  auto r = load(store, R"([{"ph":"X","name":"first","name":"second","ts":1,"ts":2,"dur":1,)"
                       R"("pid":1,"tid":1,"args":{"a":1,"b":2,"a":3},"args":{"a":4,"a":5}}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto ev = events(store);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(store.str(ev[0].name), "second");
  EXPECT_EQ(ev[0].ts, 2000);
  EXPECT_EQ(ev[0].args_count, 1);
  EXPECT_EQ(arg(store, 0, "a")->i, 5);
}

TEST(ChromeJsonReader, ArgsKeepTheirTypes) {
  TraceStore store;
  auto r = load(store, "[" +
                           x_event(R"(,"args":{"i":-3,"u":18446744073709551615,"d":0.5,)"
                                   R"("s":"t\"x\u00e9","t":true,"n":null,"o":{"x":[1, 2]},)"
                                   R"("a":[1,"2"],"big":123456789012345678901234567890,)"
                                   R"("inf":1e999,"step":42,"request_id":"req-7",)"
                                   R"("correlation":"not a number","External id":17})") +
                           "]");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(arg(store, 0, "i")->i, -3);
  EXPECT_EQ(arg(store, 0, "u")->u, 18446744073709551615u);
  EXPECT_EQ(arg(store, 0, "d")->d, 0.5);
  EXPECT_EQ(arg(store, 0, "s")->s, "t\"x\xc3\xa9");
  EXPECT_TRUE(arg(store, 0, "t")->b);
  EXPECT_EQ(arg(store, 0, "n")->type, ArgType::kNull);
  EXPECT_EQ(arg(store, 0, "o")->type, ArgType::kJson);
  EXPECT_EQ(arg(store, 0, "o")->s, R"({"x":[1, 2]})");
  EXPECT_EQ(arg(store, 0, "a")->s, R"([1,"2"])");
  EXPECT_EQ(arg(store, 0, "big")->type, ArgType::kJson);
  EXPECT_EQ(arg(store, 0, "big")->s, "123456789012345678901234567890");
  EXPECT_EQ(arg(store, 0, "inf")->s, "1e999");
  EXPECT_EQ(arg(store, 0, "External id")->i, 17);
  // Recognised keys become Event fields; a correlation that is not a number stays an arg.
  const Event e = events(store)[0];
  EXPECT_EQ(e.step, 42u);
  EXPECT_EQ(store.str(e.request), "req-7");
  EXPECT_FALSE(arg(store, 0, "step").has_value());
  EXPECT_FALSE(arg(store, 0, "request_id").has_value());
  EXPECT_EQ(arg(store, 0, "correlation")->s, "not a number");
  // Without a numeric correlation, Kineto's "External id" is the launch link (tagged).
  EXPECT_EQ(e.id, (uint64_t{1} << 62) | 17);
}

TEST(ChromeJsonReader, BeginEndPairsPerThreadInTimeOrder) {
  TraceStore store;
  // Out of order input; thread 2 has an extra E and thread 3 an unclosed B.
  auto r = load(store, R"([
    {"ph":"E","ts":30,"pid":1,"tid":1,"args":{"e":1}},
    {"ph":"B","name":"inner","ts":15,"pid":1,"tid":1},
    {"ph":"B","name":"outer","cat":"gpu_kernel","ts":10,"pid":1,"tid":1,"args":{"b":1}},
    {"ph":"E","ts":20,"pid":1,"tid":1},
    {"ph":"E","ts":5,"pid":1,"tid":2},
    {"ph":"B","name":"t2","ts":6,"pid":1,"tid":2},
    {"ph":"E","ts":8,"pid":1,"tid":2,"args":{"correlation":77}},
    {"ph":"B","name":"open","ts":40,"pid":1,"tid":3,"args":{"s":"kept text"}},
    {"ph":"X","name":"last","ts":90,"dur":10,"pid":1,"tid":4}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 5u);
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_EQ(store.skips().get("unmatched E"), 1u);
  EXPECT_EQ(store.skips().get("unclosed B"), 1u);
  const Snapshot snap = store.snapshot();
  std::map<std::string, Event> by_name;
  std::map<std::string, EventSeq> seq_of;
  snap.for_each([&](const EventView& ev) {
    by_name[std::string(snap.str(ev->name))] = *ev;
    seq_of[std::string(snap.str(ev->name))] = ev.seq;
  });
  EXPECT_EQ(by_name["outer"].ts, 10000);
  EXPECT_EQ(by_name["outer"].dur, 20000);
  EXPECT_EQ(by_name["outer"].kind, EventKind::kKernel);
  EXPECT_EQ(arg(store, seq_of["outer"], "b")->i, 1);
  EXPECT_EQ(arg(store, seq_of["outer"], "e")->i, 1);  // E args merge into the slice
  EXPECT_EQ(by_name["inner"].ts, 15000);
  EXPECT_EQ(by_name["inner"].dur, 5000);
  EXPECT_EQ(by_name["t2"].dur, 2000);
  EXPECT_EQ(by_name["t2"].id, 77u);
  EXPECT_EQ(by_name["open"].dur, 60000);  // runs to the end of the trace (ts 100)
  EXPECT_EQ(by_name["open"].flags, event_flags::kUnclosed);
  EXPECT_EQ(arg(store, seq_of["open"], "s")->s, "kept text");
}

TEST(ChromeJsonReader, KindsFromCategories) {
  EXPECT_EQ(kind_from_category("kernel", "gemm"), EventKind::kKernel);
  EXPECT_EQ(kind_from_category("Kernel", "gemm"), EventKind::kKernel);
  EXPECT_EQ(kind_from_category("gpu_kernel", "gemm"), EventKind::kKernel);
  EXPECT_EQ(kind_from_category("npu_kernel", "gemm"), EventKind::kKernel);
  EXPECT_EQ(kind_from_category("foo, kernel", "gemm"), EventKind::kKernel);
  EXPECT_EQ(kind_from_category("kernel", "ncclDevKernel_AllReduce_Sum_f32_RING_LL"),
            EventKind::kCollective);
  EXPECT_EQ(kind_from_category("gpu_memcpy", "Memcpy HtoD"), EventKind::kMemcpy);
  EXPECT_EQ(kind_from_category("Memcpy", ""), EventKind::kMemcpy);
  EXPECT_EQ(kind_from_category("gpu_memset", ""), EventKind::kMemset);
  EXPECT_EQ(kind_from_category("Memset", ""), EventKind::kMemset);
  EXPECT_EQ(kind_from_category("cuda_sync", "Stream Sync"), EventKind::kWait);
  EXPECT_EQ(kind_from_category("gpu_user_annotation", "## Call CompiledFxGraph ##"),
            EventKind::kDeviceRange);
  EXPECT_EQ(kind_from_category("mtia_ccp_events", "event_wait"), EventKind::kWait);
  EXPECT_EQ(kind_from_category("mtia_ccp_events", "dma_request"), EventKind::kMemcpy);
  EXPECT_EQ(kind_from_category("mtia_ccp_events", "pe_exe"), EventKind::kKernel);
  for (const char* host : {"cuda_runtime", "cuda_driver", "Runtime", "cpu_op", "python_function",
                           "user_annotation", "Operator", "mlu_runtime"}) {
    EXPECT_EQ(kind_from_category(host, "x"), EventKind::kHost) << host;
  }
  for (const char* unknown : {"", "kernel_launch", "kernels", "_kernel", "memcpyish", "blink"}) {
    EXPECT_EQ(kind_from_category(unknown, "x"), EventKind::kSpan) << unknown;
  }
}

TEST(ChromeJsonReader, DevicesFromProcessNames) {
  DeviceType t;
  int32_t i;
  ASSERT_TRUE(device_from_process_name("GPU 3", &t, &i));
  EXPECT_EQ(t, DeviceType::kGpu);
  EXPECT_EQ(i, 3);
  ASSERT_TRUE(device_from_process_name("NPU 12", &t, &i));
  EXPECT_EQ(t, DeviceType::kNpu);
  ASSERT_TRUE(device_from_process_name("CPU 0", &t, &i));
  EXPECT_EQ(t, DeviceType::kCpu);
  ASSERT_TRUE(device_from_process_name("MTIA 17", &t, &i));
  EXPECT_EQ(t, DeviceType::kOther);
  EXPECT_EQ(i, 17);
  ASSERT_TRUE(device_from_process_name("Ascend Hardware", &t, &i));
  EXPECT_EQ(t, DeviceType::kNpu);
  EXPECT_EQ(i, -1);
  for (const char* host : {"CPU", "python3.10", "GPU", "GPU x", "GPU 1 (copy)", "gpu 0", ""}) {
    EXPECT_FALSE(device_from_process_name(host, &t, &i)) << host;
  }
}

TEST(ChromeJsonReader, MetadataEventsNameProcessesAndTracks) {
  TraceStore store;
  ReadOptions options;
  options.pid_offset = 1000;
  auto r = load(store,
                R"({"traceEvents":[
    {"name":"process_name","ph":"M","pid":0,"tid":0,"args":{"name":"python3.10"}},
    {"name":"process_labels","ph":"M","pid":0,"tid":0,"args":{"labels":"GPU 0"}},
    {"name":"process_sort_index","ph":"M","pid":0,"args":{"sort_index":16777216}},
    {"name":"thread_name","ph":"M","pid":0,"tid":7,"args":{"name":"stream 7 "}},
    {"name":"thread_sort_index","ph":"M","pid":0,"tid":7,"args":{"sort_index":7}},
    {"name":"process_name","ph":"M","pid":"Spans","tid":0,"args":{"name":"MTIA 17"}},
    {"name":"num_cpus","ph":"M","pid":5,"args":{"number":64}},
    {"ph":"X","cat":"kernel","name":"k","pid":0,"tid":7,"ts":1,"dur":1},
    {"ph":"X","name":"span","pid":"Spans","tid":"PyTorch Profiler","ts":1,"dur":1},
    {"ph":"X","name":"numeric strings","pid":"12","tid":"-3","ts":1,"dur":1}]})",
                ChromeJsonReader::kDefaultBlockBytes, options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 3u);
  const Snapshot snap = store.snapshot();
  const auto ev = events(store);
  const Track& gpu_track = snap.track(ev[0].track);
  const Process& gpu = snap.process_of(ev[0].track);
  EXPECT_EQ(gpu.pid, 1000);
  EXPECT_EQ(snap.str(gpu.name), "python3.10");
  EXPECT_EQ(gpu.device_type, DeviceType::kGpu);
  EXPECT_EQ(gpu.device, 0);
  EXPECT_EQ(gpu.sort_index, 16777216);
  ASSERT_EQ(gpu.labels.size(), 1u);
  EXPECT_EQ(snap.str(gpu.labels[0].first), "process_labels");
  EXPECT_EQ(snap.str(gpu.labels[0].second), "GPU 0");
  EXPECT_EQ(gpu_track.tid, 7);
  EXPECT_EQ(snap.str(gpu_track.name), "stream 7 ");
  EXPECT_TRUE(gpu_track.has_sort_index);
  // String pids/tids: stable synthetic ids far from real pids, the text kept as labels.
  const Process& spans = snap.process_of(ev[1].track);
  EXPECT_EQ(snap.str(spans.label), "Spans");
  EXPECT_EQ(snap.str(spans.name), "MTIA 17");
  EXPECT_EQ(spans.device_type, DeviceType::kOther);
  EXPECT_GE(spans.pid, (int64_t{1} << 52) + 1000);
  EXPECT_EQ(snap.str(snap.track(ev[1].track).tid_label), "PyTorch Profiler");
  EXPECT_EQ(snap.process_of(ev[2].track).pid, 1012);
  EXPECT_EQ(snap.track(ev[2].track).tid, -3);
  EXPECT_EQ(snap.track(ev[2].track).tid_label, 0u);
  for (const Process& p : snap.processes()) {
    if (p.pid != 1005) continue;
    ASSERT_EQ(p.labels.size(), 1u);
    EXPECT_EQ(snap.str(p.labels[0].second), "64");
  }
  // Same text, same id, in another store: merges of several files line up.
  TraceStore other;
  ASSERT_TRUE(load(other, R"([{"ph":"i","pid":"Spans","tid":1,"ts":1}])", 64, options).ok());
  EXPECT_EQ(other.snapshot().process_of(events(other)[0].track).pid, spans.pid);
}

TEST(ChromeJsonReader, TopLevelKeysInAnyOrder) {
  TraceStore store;
  auto r = load(store,
                R"({"metadata":{"source":"DevTools","nested":{"traceEvents":[1]},)"
                R"("hostDPR":2},"schemaVersion":1,"deviceProperties":[{"id":0,"name":"H100"}],)"
                R"("distributedInfo": {"rank": 3} ,"traceEvents":[)" +
                    x_event("") +
                    R"(],"samples":[{"x":"]}"}],"stackFrames":{"1":{}},)"
                    R"("displayTimeUnit":"ms","traceEvents2":[]})",
                7);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : store.metadata()) meta[k] = v;
  EXPECT_EQ(meta["displayTimeUnit"], "ms");
  EXPECT_EQ(meta["deviceProperties"], R"([{"id":0,"name":"H100"}])");
  EXPECT_EQ(meta["distributedInfo"], R"({"rank": 3})");
  EXPECT_EQ(meta["source"], "DevTools");
  EXPECT_EQ(meta.count("hostDPR"), 0u);
  EXPECT_EQ(events(store)[0].ts, 10000) << "ts stays in us whatever displayTimeUnit says";
}

TEST(ChromeJsonReader, HuoyanSectionRestoresStepsAndRequests) {
  TraceStore store;
  auto r = load(store,
                R"({"traceEvents":[)" + x_event(R"(,"args":{"step":7})") +
                    R"(],"huoyan":{"version":1,"steps":[
      {"id":7,"start":100,"end":250,"track":[1,2],"members":[["req-1",12],["req-2",3]]},
      {"id":8,"start":null,"end":null,"members":[]}],
    "requests":[
      {"id":"req-1","arrival":50,"first_token":260,"finish":null,"tokens_in":12,"tokens_out":1},
      {"id":"req-2","arrival":null,"first_token":null,"finish":900,"tokens_in":3,
       "tokens_out":0}],"future":{"x":1}}})",
                5);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(store.step_count(), 2u);
  const Step s = *store.step(7);
  EXPECT_EQ(s.start, 100);
  EXPECT_EQ(s.end, 250);
  EXPECT_EQ(s.total_tokens(), 15u);
  EXPECT_EQ(store.snapshot().track(s.track).tid, 2);
  EXPECT_EQ(store.step(8)->start, kNoTime);
  StringId req1 = 0;
  ASSERT_TRUE(store.strings()->find("req-1", &req1));
  const RequestInfo info = *store.request(req1);
  EXPECT_EQ(info.arrival, 50);
  EXPECT_EQ(info.first_token, 260);
  EXPECT_EQ(info.finish, kNoTime);
  EXPECT_EQ(info.tokens_in, 12u);
  EXPECT_EQ(info.steps, std::vector<uint64_t>{7});
  EXPECT_EQ(store.events_of_step(7).size(), 1u);
}

TEST(ChromeJsonReader, BlockSizeDoesNotChangeTheResult) {
  std::string doc = R"({"otherData":{"a":"]]]"},"traceEvents":[)";
  for (int i = 0; i < 300; ++i) {
    if (i > 0) doc += ",";
    doc += R"({"ph":"X","cat":"kernel","name":"k\"{)" + std::to_string(i % 7) +
           R"(","pid":0,"tid":7,"ts":)" + std::to_string(1000 + i) +
           R"(.125,"dur":1.5,"args":{"correlation":)" + std::to_string(i) +
           R"(,"grid":[1,2,3],"s":"x\\"}})";
  }
  doc += "]}";
  auto fingerprint = [](const TraceStore& store) {
    std::string out;
    const Snapshot snap = store.snapshot();
    snap.for_each([&](const EventView& ev) {
      out += std::to_string(ev->ts) + "/" + std::to_string(ev->dur) + "/" +
             std::string(snap.str(ev->name)) + "/" + std::to_string(ev->id) + "/";
      for (const StoredArg& a : ev.args())
        out += std::string(snap.str(a.key)) + "=" + std::string(a.value().s) + ";";
      out += "\n";
    });
    return out;
  };
  TraceStore reference;
  ASSERT_TRUE(load(reference, doc).ok());
  EXPECT_EQ(reference.appended(), 300u);
  for (size_t block : {size_t{1}, size_t{2}, size_t{13}, size_t{100}, size_t{4096}}) {
    TraceStore store;
    ASSERT_TRUE(load(store, doc, block).ok());
    EXPECT_EQ(fingerprint(store), fingerprint(reference)) << "block " << block;
  }
}

TEST(ChromeJsonReader, ReportsProgress) {
  std::string doc = "[";
  for (int i = 0; i < 100000; ++i) doc += x_event("") + ",";
  doc += "]";
  TraceStore store;
  ReadOptions options;
  uint64_t calls = 0, last = 0;
  options.progress = [&](uint64_t pos, uint64_t size) {
    ++calls;
    EXPECT_GE(pos, last);
    EXPECT_EQ(size, doc.size());
    last = pos;
  };
  auto r = load(store, doc, 64 * 1024, options);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(calls, 2u);
  EXPECT_EQ(last, doc.size());
  EXPECT_EQ(r->bytes, doc.size());
}

// Everything the reader stores survives ChromeJsonWriter and a second read, field by field.
TEST(ChromeJsonReader, RoundTripsThroughTheWriter) {
  const std::string kineto = std::string(HUOYAN_TESTDATA_REAL) +
                             "/kineto/hta/tests/data/critical_path/simple_add/"
                             "benchmark_result_493459_1694039959_trace.json.gz";
  TraceStore a;
  auto ra = read_chrome_json_file(kineto, a);
  ASSERT_TRUE(ra.ok()) << ra.status().message();
  // Plus the things Kineto lacks: steps, requests, flows with string/hex/local ids, instants.
  ASSERT_TRUE(load(a, R"({"traceEvents":[
      {"ph":"X","name":"decode","pid":"Spans","tid":"sched","ts":5.5,"dur":2,
       "args":{"step":3,"request_id":"r1","batch":[1,2]}},
      {"ph":"i","name":"tick","s":"g","pid":1,"tid":1,"ts":-1,"args":{"correlation":12}},
      {"ph":"s","id":"0x1f","cat":"c","pid":1,"tid":1,"ts":1},
      {"ph":"f","id2":{"local":"abc"},"bp":"e","cat":"c","pid":1,"tid":1,"ts":2},
      {"ph":"C","name":"mem","pid":1,"tid":1,"ts":3,"args":{"used":12.5,"step":4}}],
    "huoyan":{"steps":[{"id":3,"start":5500,"end":7500,"members":[["r1",9]]}],
              "requests":[{"id":"r1","arrival":1000,"first_token":6000,"finish":null,
                           "tokens_in":9,"tokens_out":1}]}})")
                  .ok());
  StringSink sink;
  ASSERT_TRUE(write_chrome_trace(a, sink).ok());
  TraceStore b;
  auto rb = load(b, sink.str());
  ASSERT_TRUE(rb.ok()) << rb.status().message();
  ASSERT_EQ(b.appended(), a.appended());

  const Snapshot sa = a.snapshot(), sb = b.snapshot();
  auto describe = [](const Snapshot& s, const EventView& ev) {
    const Event& e = *ev;
    const Track& t = s.track(e.track);
    const Process& p = s.process_of(e.track);
    std::string d = fmt::format(
        "{} {} {} k{} f{} id{} step{} req={} name={} cat={} pid={}/{} tid={}/{} dev={}", e.ts,
        e.dur, (e.flags & event_flags::kIdString) ? 0 : e.id, static_cast<int>(e.kind), e.flags,
        (e.flags & event_flags::kIdString) ? std::string(s.str(static_cast<StringId>(e.id))) : "",
        e.step, s.str(e.request), s.str(e.name), s.str(e.cat), p.pid, s.str(p.label), t.tid,
        s.str(t.tid_label), static_cast<int>(p.device_type));
    for (const StoredArg& arg : ev.args()) {
      const ArgValue v = arg.value();
      d += fmt::format(" {}:{}:{}:{}:{}", s.str(arg.key), static_cast<int>(v.type), v.s, v.u,
                       v.type == ArgType::kDouble ? v.d : 0.0);
    }
    return d;
  };
  std::vector<std::string> da, db;
  sa.for_each([&](const EventView& ev) { da.push_back(describe(sa, ev)); });
  sb.for_each([&](const EventView& ev) { db.push_back(describe(sb, ev)); });
  ASSERT_EQ(da.size(), db.size());
  for (size_t i = 0; i < da.size(); ++i) ASSERT_EQ(da[i], db[i]) << "event " << i;

  EXPECT_EQ(b.step(3)->members.size(), 1u);
  StringId r1 = 0;
  ASSERT_TRUE(b.strings()->find("r1", &r1));
  EXPECT_EQ(b.request(r1)->first_token, 6000);
  EXPECT_EQ(b.request(r1)->tokens_in, 9u);
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : b.metadata()) meta[k] = v;
  EXPECT_EQ(meta["distributedInfo"], R"({"rank": 0})");
  for (const auto& [k, v] : a.metadata()) EXPECT_EQ(meta[k], v) << k;
}

}  // namespace
}  // namespace huoyan
