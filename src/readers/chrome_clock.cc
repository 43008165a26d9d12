// The sync information of a Chrome trace file: a pass over its top-level keys only.
#include <string>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/io/input.h"
#include "src/readers/chrome_json_reader.h"
#include "src/readers/json_stream.h"

namespace huoyan {
namespace {

using Scan = JsonStream::Scan;

constexpr std::string_view kKinetoClock = "Kineto, relative to baseTimeNanoseconds";
constexpr std::string_view kHuoyanClock = "huoyan store (CLOCK_MONOTONIC)";

// "baseTimeNanoseconds": 1719853884000000000 (a JSON integer; Kineto output_json.cpp).
InputClock kineto_base(std::string_view text) {
  int64_t ns = 0;
  std::string why;
  if (!text.empty() && text.front() == '"') {
    return InputClock::invalid(
        std::string(kKinetoClock),
        fmt::format("baseTimeNanoseconds is a string ({})", text.substr(0, 40)));
  }
  if (!parse_epoch_anchor(text, 1, &ns, &why)) {
    return InputClock::invalid(std::string(kKinetoClock), "baseTimeNanoseconds " + why);
  }
  return InputClock::anchored(std::string(kKinetoClock), ns,
                              fmt::format("baseTimeNanoseconds={}", ns));
}

// huoyan's "metadata" object: values are strings.
InputClock huoyan_metadata(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(std::string(text)).get(obj) != simdjson::SUCCESS) return {};
  std::string_view timeline, mspti;
  if (obj["clock.timeline"].get(timeline) == simdjson::SUCCESS && timeline == "Unix epoch ns") {
    return InputClock::epoch("Unix epoch", "metadata clock.timeline");
  }
  if (obj["clock.mspti.offset_ns"].get(mspti) != simdjson::SUCCESS) return {};
  // store = CLOCK_REALTIME + offset, so epoch = store − offset.
  std::string why;
  int64_t neg = 0;
  const bool negative = !mspti.empty() && mspti.front() == '-';
  if (!negative || !parse_epoch_anchor(mspti.substr(1), 1, &neg, &why)) {
    return InputClock::invalid(
        std::string(kHuoyanClock),
        fmt::format("clock.mspti.offset_ns {}",
                    negative ? why : fmt::format("not below zero ({})", mspti.substr(0, 40))));
  }
  return InputClock::anchored(std::string(kHuoyanClock), neg,
                              fmt::format("metadata clock.mspti.offset_ns={}", mspti));
}

}  // namespace

InputClock chrome_input_clock(const std::string& path) {
  auto src = ByteSource::open(path);
  if (!src.ok()) return InputClock::unknown(src.status().message());
  JsonStream in(**src, size_t{4} << 20, size_t{16} << 20);
  in.skip_bom();
  if (in.peek() != '{') return InputClock::unknown("no sync info (array-form trace)");
  in.consume();
  InputClock out = InputClock::unknown("no sync info (no baseTimeNanoseconds)");
  while (true) {
    int c = in.peek();
    if (c < 0 || c == '}') break;
    if (c == ',') {
      in.consume();
      continue;
    }
    if (c != '"') break;
    JsonStream::Value key;
    if (in.scan(true, &key) != Scan::kComplete || key.text.size() < 2) break;
    const std::string k(key.text.substr(1, key.text.size() - 2));
    if (in.peek() != ':') break;
    in.consume();
    if (in.peek() < 0) break;
    const bool keep = k == "baseTimeNanoseconds" || k == "metadata";
    JsonStream::Value v;
    const Scan r = in.scan(keep, &v);
    if (r == Scan::kTooLarge) continue;
    if (r != Scan::kComplete) break;
    if (k == "baseTimeNanoseconds") out = agree(out, kineto_base(v.text));
    if (k == "metadata") out = agree(out, huoyan_metadata(v.text));
  }
  return out;
}

}  // namespace huoyan
