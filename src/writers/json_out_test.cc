#include "src/writers/json_out.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <string>

namespace huoyan {
namespace {

// Renders through a BufferedOut of `capacity` bytes, so small capacities exercise the flush and
// write-through paths.
template <typename F>
std::string render(F&& f, size_t capacity = 1 << 16) {
  StringSink sink;
  {
    BufferedOut out(&sink, capacity);
    f(out);
    EXPECT_TRUE(out.flush().ok());
  }
  return sink.str();
}

std::string escaped(std::string_view s, size_t capacity = 1 << 16) {
  return render([&](BufferedOut& out) { json_string(out, s); }, capacity);
}

// Parses `json` (a JSON string literal) strictly and returns its value.
std::string parse_string(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const auto err = parser.parse(simdjson::padded_string(json)).get(doc);
  EXPECT_EQ(err, simdjson::SUCCESS) << json;
  if (err) return {};
  std::string_view v;
  EXPECT_EQ(doc.get(v), simdjson::SUCCESS);
  return std::string(v);
}

TEST(JsonOutWriterTest, PlainStringsAreCopied) {
  EXPECT_EQ(escaped(""), "\"\"");
  EXPECT_EQ(escaped("gemm"), "\"gemm\"");
  const std::string longer = "void at::native::vectorized_elementwise_kernel<4, float>(int)";
  EXPECT_EQ(escaped(longer), "\"" + longer + "\"");
  EXPECT_EQ(escaped("DEL \x7f ok"), R"("DEL \u007f ok")");  // for Perfetto's tokenizer
}

TEST(JsonOutWriterTest, EscapesQuotesBackslashAndControlCharacters) {
  EXPECT_EQ(escaped("a\"b"), R"("a\"b")");
  EXPECT_EQ(escaped("a\\b"), R"("a\\b")");
  EXPECT_EQ(escaped("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(escaped(std::string("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  // Every control character, in positions before, inside and after a 16-byte block.
  for (int c = 0; c <= 0x7f; c = c == 0x1f ? 0x7f : c + 1) {
    for (size_t pos : {0, 5, 15, 16, 17, 40}) {
      std::string s(48, 'x');
      s[pos] = static_cast<char>(c);
      EXPECT_EQ(parse_string(escaped(s)), s) << c << " at " << pos;
    }
  }
  const std::string mixed = "path \"C:\\tmp\"\n\ttab";
  EXPECT_EQ(parse_string(escaped(mixed)), mixed);
}

TEST(JsonOutWriterTest, KeepsValidMultibyteUtf8) {
  const std::string s = "é 中文 \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF \xE2\x80\xA8";
  EXPECT_EQ(escaped(s), "\"" + s + "\"");
  EXPECT_TRUE(is_valid_utf8(s));
  EXPECT_EQ(parse_string(escaped(s)), s);
}

TEST(JsonOutWriterTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"a\x80z", "a" + fffd + "z"},                     // lone continuation byte
      {"a\xBF\xBFz", "a" + fffd + fffd + "z"},          // two of them
      {"\xC0\x80", fffd + fffd},                        // overlong NUL (C0 never valid)
      {"\xC1\xBF", fffd + fffd},                        // overlong (C1)
      {"\xE0\x80\xAF", fffd + fffd + fffd},             // overlong 3-byte
      {"\xF0\x80\x80\xAF", fffd + fffd + fffd + fffd},  // overlong 4-byte
      {"\xED\xA0\x80", fffd + fffd + fffd},             // surrogate U+D800
      {"\xED\xBF\xBF", fffd + fffd + fffd},             // surrogate U+DFFF
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"\xF5\x80", fffd + fffd},                        // F5..FF never valid
      {"\xFF", fffd},
      {"x\xE2\x82", "x" + fffd},  // truncated at the end: one U+FFFD
      {"\xE2\x82z", fffd + "z"},  // truncated before ASCII
      {"\xF0\x9F\x98", fffd},     // truncated 4-byte
      {"\xC3", fffd},             // truncated 2-byte at the end
      {"\xC3\"", fffd + "\""},    // truncated before a quote
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(is_valid_utf8(c.in)) << testing::PrintToString(c.in);
    const std::string json = escaped(c.in);
    EXPECT_TRUE(is_valid_utf8(json)) << testing::PrintToString(c.in);
    EXPECT_EQ(parse_string(json), c.out) << testing::PrintToString(c.in);
  }
}

TEST(JsonOutWriterTest, LongStringsThroughSmallBuffers) {
  std::string s;
  for (int i = 0; i < 2000; ++i) {
    s += "chunk ";
    s += static_cast<char>(i % 0x20);
    s += "\xE4\xB8\xAD\"\\";
    if (i % 7 == 0) s += "\xFF";
  }
  const std::string big = escaped(s);  // default buffer
  for (size_t capacity : {64, 100, 4096}) {
    EXPECT_EQ(escaped(s, capacity), big) << capacity;
  }
  const std::string parsed = parse_string(big);
  EXPECT_TRUE(is_valid_utf8(parsed));
  const std::string clean(100000, 'a');
  EXPECT_EQ(escaped(clean, 64), "\"" + clean + "\"");
}

TEST(JsonOutWriterTest, Numbers) {
  auto text = [](auto fn) { return render(fn); };
  EXPECT_EQ(text([](BufferedOut& o) { json_int(o, std::numeric_limits<int64_t>::min()); }),
            "-9223372036854775808");
  EXPECT_EQ(text([](BufferedOut& o) { json_uint(o, std::numeric_limits<uint64_t>::max()); }),
            "18446744073709551615");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, 0.1); }), "0.1");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, 1.5); }), "1.5");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, 3.0); }), "3");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, std::nan("")); }), "null");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, INFINITY); }), "null");
  EXPECT_EQ(text([](BufferedOut& o) { json_double(o, -INFINITY); }), "null");
  // Shortest round trip, and valid JSON for large and small exponents.
  for (double v : {1e20, 1e-7, 123456789.123456789, 5e-324, 1.7976931348623157e308, -0.0}) {
    const std::string s = text([&](BufferedOut& o) { json_double(o, v); });
    simdjson::dom::parser parser;
    double back = 0;
    ASSERT_EQ(parser.parse(simdjson::padded_string(s)).get(back), simdjson::SUCCESS) << s;
    EXPECT_EQ(back, v) << s;
  }
}

TEST(JsonOutWriterTest, MicrosecondsWithThreeDecimals) {
  auto us = [](int64_t ns) { return render([&](BufferedOut& o) { json_us(o, ns); }); };
  EXPECT_EQ(us(0), "0.000");
  EXPECT_EQ(us(1), "0.001");
  EXPECT_EQ(us(-1500), "-1.500");
  EXPECT_EQ(us((int64_t{1} << 53) + 1), "9007199254740.993");
  EXPECT_EQ(us(1704161511420306491), "1704161511420306.491");
}

}  // namespace
}  // namespace huoyan
