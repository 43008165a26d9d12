#include "src/readers/json_stream.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/readers/json_repair.h"

namespace huoyan {
namespace {

// Reference: a plain byte loop with the same contract as scan_json_value on a whole value.
size_t reference_end(const std::string& s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth <= 0) return i + 1;
  }
  return SIZE_MAX;
}

// Feeds `s` to the scanner in pieces of `piece` bytes (padding after every piece).
size_t scan_in_pieces(const std::string& s, size_t piece, int* max_depth = nullptr,
                      bool portable = false) {
  JsonScanState st;
  for (size_t at = 0; at < s.size(); at += piece) {
    const size_t n = std::min(piece, s.size() - at);
    std::string chunk = s.substr(at, n) + std::string(32, '"');  // hostile padding
    const size_t r = portable ? scan_json_value_portable(chunk.data(), n, st)
                              : scan_json_value(chunk.data(), n, st);
    if (r != SIZE_MAX) {
      if (max_depth) *max_depth = st.max_depth;
      return at + r;
    }
  }
  return SIZE_MAX;
}

TEST(JsonScan, FindsTheEndOfValues) {
  const std::vector<std::pair<std::string, size_t>> cases = {
      {R"({"a":1},{)", 7},
      {R"({"a":"}"},)", 9},
      {R"({"a":"\"}"}x)", 11},
      {R"({"a":"\\"}x)", 10},
      {R"("abc" ,)", 5},
      {R"("a\"b")", 6},
      {R"([[1,[2]],{"x":[]}] ,)", 18},
      {R"({"k":"[[[{{{"} ])", 14},
      {R"({"a":"\\\"}"}...)", 13},
  };
  for (const auto& [text, end] : cases) {
    for (size_t piece = 1; piece <= text.size(); ++piece) {
      EXPECT_EQ(scan_in_pieces(text, piece), end) << text << " piece " << piece;
    }
  }
}

TEST(JsonScan, ReportsIncompleteValuesAndDepth) {
  EXPECT_EQ(scan_in_pieces(R"({"a":[1,2)", 3), SIZE_MAX);
  EXPECT_EQ(scan_in_pieces(R"({"a":"unterminated)", 4), SIZE_MAX);
  EXPECT_EQ(scan_in_pieces(R"("ends with backslash\)", 5), SIZE_MAX);
  int depth = 0;
  EXPECT_EQ(scan_in_pieces(R"({"a":[[{"b":[]}]]})", 2, &depth), 18u);
  EXPECT_EQ(depth, 5);
}

TEST(JsonScan, MatchesAByteLoopOnRandomInput) {
  std::mt19937 rng(42);
  const char alphabet[] = "{}[]\"\\ax,:";
  for (int round = 0; round < 3000; ++round) {
    std::string s = rng() % 2 ? "{" : "\"";
    const size_t len = rng() % 150;
    for (size_t i = 0; i < len; ++i) s += alphabet[rng() % (sizeof(alphabet) - 1)];
    const size_t expected = reference_end(s);
    for (size_t piece : {size_t{1}, size_t{5}, size_t{16}, size_t{17}, size_t{33}, s.size()}) {
      ASSERT_EQ(scan_in_pieces(s, piece), expected) << s << " piece " << piece;
      ASSERT_EQ(scan_in_pieces(s, piece, nullptr, true), expected) << s << " piece " << piece;
    }
  }
}

std::vector<std::string> values_of(const std::string& doc, size_t block, size_t max_value,
                                   std::vector<JsonStream::Scan>* results = nullptr) {
  auto src = ByteSource::from_string(doc, "doc.json");
  JsonStream in(*src, block, max_value);
  std::vector<std::string> out;
  while (true) {
    const int c = in.peek();
    if (c < 0) break;
    if (c == ',') {
      in.consume();
      continue;
    }
    JsonStream::Value v;
    const JsonStream::Scan r = in.scan(true, &v);
    if (results) results->push_back(r);
    if (r != JsonStream::Scan::kComplete) {
      out.push_back("<" + std::to_string(static_cast<int>(r)) + ">");
      continue;
    }
    EXPECT_GE(v.capacity, v.text.size() + JsonStream::kPadding);
    EXPECT_EQ(doc.substr(v.offset, v.text.size()), v.text);
    out.emplace_back(v.text);
  }
  return out;
}

TEST(JsonStream, CutsValuesAcrossBlocksOfAnySize) {
  const std::string doc = R"( {"a":"x,y"} , [1,{"b":[2]}],"s\"q" , 12.5e3 ,true,null,{"deep":)"
                          R"([[["}"]]]}  )";
  const std::vector<std::string> expected = {
      R"({"a":"x,y"})", R"([1,{"b":[2]}])",     R"("s\"q")", "12.5e3", "true",
      "null",           R"({"deep":[[["}"]]]})"};
  for (size_t block = 1; block <= doc.size() + 1; ++block) {
    EXPECT_EQ(values_of(doc, block, 1 << 20), expected) << "block " << block;
  }
}

TEST(JsonStream, TruncatedAndTooLargeValues) {
  std::vector<JsonStream::Scan> results;
  const auto values = values_of(R"({"big":"0123456789abcdef"},{"ok":1},{"cut":)", 4, 12, &results);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], JsonStream::Scan::kTooLarge);
  EXPECT_EQ(values[1], R"({"ok":1})");
  EXPECT_EQ(results[2], JsonStream::Scan::kTruncated);
}

TEST(JsonStream, SkipsByteOrderMarkAndTracksOffsets) {
  auto src = ByteSource::from_string("\xEF\xBB\xBF  [ {}]", "bom.json");
  JsonStream in(*src, 2, 100);
  in.skip_bom();
  EXPECT_EQ(in.peek(), '[');
  EXPECT_EQ(in.offset(), 5u);
  in.consume();
  JsonStream::Value v;
  EXPECT_EQ(in.peek(), '{');
  EXPECT_EQ(in.scan(true, &v), JsonStream::Scan::kComplete);
  EXPECT_EQ(v.offset, 7u);
  EXPECT_EQ(in.peek(), ']');
  in.consume();
  EXPECT_EQ(in.peek(), -1);
  EXPECT_TRUE(in.status().ok());
  EXPECT_EQ(in.bytes_read(), 10u);
}

TEST(JsonRepair, Utf8) {
  std::string ok = "plain, é, 中文, \xF0\x9F\x98\x80";
  EXPECT_EQ(repair_utf8(ok.data(), ok.size()), 0u);
  std::string bad =
      "a\xFF"
      "b\xC0\xAF"
      "c\xED\xA0\x80"
      "d\xE4\xB8"
      "e\xF4\x90\x80\x80";
  const size_t n = repair_utf8(bad.data(), bad.size());
  EXPECT_EQ(n, 12u);
  EXPECT_EQ(bad, "a?b??c???d??e????");
  std::string cut = "x\xE4\xB8";  // a sequence cut by the end of the text
  EXPECT_EQ(repair_utf8(cut.data(), cut.size()), 2u);
}

TEST(JsonRepair, ControlCharactersOnlyInsideStrings) {
  std::string s = std::string("{\"a\":\"x") + '\0' + "y\tz\",\n\"b\":\"q\\\"" + '\x01' + "\"}";
  const size_t n = repair_string_controls(s.data(), s.size());
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(s, "{\"a\":\"x?y z\",\n\"b\":\"q\\\"?\"}");
}

}  // namespace
}  // namespace huoyan
