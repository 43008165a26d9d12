#include "src/readers/csv_reader.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace huoyan {
namespace {

struct Row {
  std::vector<std::string> fields;
  uint64_t line;
  bool terminated;
  bool unterminated_quote;
  bool nul;
  size_t repaired;
};

std::vector<Row> parse(const std::string& text, size_t block = 7) {
  auto src = ByteSource::from_string(text, "t.csv");
  CsvParser csv(*src, block);
  std::vector<Row> rows;
  while (true) {
    const CsvParser::Next n = csv.next();
    EXPECT_NE(n, CsvParser::Next::kError) << csv.status().message();
    if (n != CsvParser::Next::kRow) break;
    Row r;
    for (auto f : csv.fields()) r.fields.emplace_back(f);
    r.line = csv.line();
    r.terminated = csv.terminated();
    r.unterminated_quote = csv.unterminated_quote();
    r.nul = csv.has_nul();
    r.repaired = csv.repaired_bytes();
    rows.push_back(std::move(r));
  }
  return rows;
}

using V = std::vector<std::string>;

TEST(CsvParser, PlainRowsAnyBlockSize) {
  const std::string text = "a,b,c\n1,22,333\n,,\n";
  for (size_t block : {1, 2, 3, 5, 64, 4096}) {
    SCOPED_TRACE(block);
    auto rows = parse(text, block);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].fields, (V{"a", "b", "c"}));
    EXPECT_EQ(rows[1].fields, (V{"1", "22", "333"}));
    EXPECT_EQ(rows[2].fields, (V{"", "", ""}));
    EXPECT_EQ(rows[2].line, 3u);
    EXPECT_TRUE(rows[2].terminated);
  }
}

TEST(CsvParser, BomCrlfBlankLinesAndNoFinalNewline) {
  auto rows = parse("\xEF\xBB\xBFh1,h2\r\n\r\nx,y\r\n\nlast,row");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (V{"h1", "h2"}));
  EXPECT_EQ(rows[1].fields, (V{"x", "y"}));
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].fields, (V{"last", "row"}));
  EXPECT_EQ(rows[2].line, 5u);
  EXPECT_FALSE(rows[2].terminated);
}

TEST(CsvParser, QuotedFieldsEscapesAndLineBreaks) {
  // The msprof shape cell """8192,512""" is the text "8192,512" with its quotes.
  const std::string text =
      "name,shape,stack\n"
      "MatMul,\"\"\"8192,512\"\"\",\"a;\nb;\r\nc\"\n"
      "\"1699999999123.456\t\",\"\",x\n";
  for (size_t block : {1, 3, 4096}) {
    SCOPED_TRACE(block);
    auto rows = parse(text, block);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].fields, (V{"MatMul", "\"8192,512\"", "a;\nb;\r\nc"}));
    EXPECT_EQ(rows[1].line, 2u);
    EXPECT_EQ(rows[2].fields, (V{"1699999999123.456\t", "", "x"}));
    EXPECT_EQ(rows[2].line, 5u);  // the quoted field above spans lines 2-4
  }
}

TEST(CsvParser, UnterminatedQuoteAtEnd) {
  auto rows = parse("a,b\n1,\"never closed\n2,3\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[1].unterminated_quote);
  EXPECT_FALSE(rows[1].terminated);
  EXPECT_EQ(rows[1].fields, (V{"1", "never closed\n2,3\n"}));
}

TEST(CsvParser, NulAndInvalidUtf8AreReported) {
  static const char kText[] = "a,b\nx\0y,z\n\xff\xfe,ok\xc3\xa9\n";
  auto rows = parse(std::string(kText, sizeof kText - 1));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[1].nul);
  EXPECT_FALSE(rows[2].nul);
  EXPECT_EQ(rows[2].repaired, 2u);
  EXPECT_EQ(rows[2].fields, (V{"??", "ok\xc3\xa9"}));
}

TEST(CsvParser, TrailingCommaOpensAnEmptyField) {
  auto rows = parse("a,b,\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (V{"a", "b", ""}));
}

TEST(CsvParser, OverlongRowIsAnError) {
  std::string text(CsvParser::kMaxRowBytes + 10, 'x');
  auto src = ByteSource::from_string(text, "huge.csv");
  CsvParser csv(*src, 1 << 20);
  EXPECT_EQ(csv.next(), CsvParser::Next::kError);
  EXPECT_NE(csv.status().message().find("huge.csv: line 1: row longer than"), std::string::npos)
      << csv.status().message();
}

TEST(CsvParser, HeaderOfHead) {
  EXPECT_EQ(csv_header_of("\xEF\xBB\xBF"
                          "Step Id, Name ,\"Start Time(us)\"\r\n1,2,3"),
            (std::vector<std::string_view>{"Step Id", "Name", "Start Time(us)"}));
}

}  // namespace
}  // namespace huoyan
