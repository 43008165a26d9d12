#include "src/core/time_format.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>

namespace huoyan {
namespace {

std::string us(int64_t ns) {
  char buf[32];
  return std::string(buf, format_ns_as_us(ns, buf));
}

TEST(TimeFormatTest, ExactlyThreeDecimals) {
  EXPECT_EQ(us(0), "0.000");
  EXPECT_EQ(us(1), "0.001");
  EXPECT_EQ(us(1500), "1.500");
  EXPECT_EQ(us(1704161511420306491), "1704161511420306.491");
  EXPECT_EQ(us(-1), "-0.001");
  EXPECT_EQ(us(-1500), "-1.500");
  EXPECT_EQ(us(INT64_MAX), "9223372036854775.807");
  EXPECT_EQ(us(INT64_MIN), "-9223372036854775.808");
}

TEST(TimeFormatTest, BeyondDoublePrecision) {
  const int64_t ns = (int64_t{1} << 53) + 1;  // not representable as a double
  int64_t back = 0;
  ASSERT_TRUE(parse_decimal_to_ns(us(ns), 1000, &back));
  EXPECT_EQ(back, ns);
}

TEST(TimeFormatTest, ParsesDigitsNotDoubles) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_decimal_to_ns("1704161511420306.491", 1000, &ns));
  EXPECT_EQ(ns, 1704161511420306491);
  ASSERT_TRUE(parse_decimal_to_ns("4203669603018.756", 1000, &ns));
  EXPECT_EQ(ns, 4203669603018756);
  ASSERT_TRUE(parse_decimal_to_ns("-2.5", 1000, &ns));
  EXPECT_EQ(ns, -2500);
  ASSERT_TRUE(parse_decimal_to_ns("12", 1000, &ns));
  EXPECT_EQ(ns, 12000);
  ASSERT_TRUE(parse_decimal_to_ns("1.5e3", 1000, &ns));
  EXPECT_EQ(ns, 1500000);
  ASSERT_TRUE(parse_decimal_to_ns("2E-3", 1000, &ns));
  EXPECT_EQ(ns, 2);
  ASSERT_TRUE(parse_decimal_to_ns("0.0004", 1000, &ns));  // rounds to nearest ns
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_decimal_to_ns("0.0005", 1000, &ns));  // half away from zero
  EXPECT_EQ(ns, 1);
  ASSERT_TRUE(parse_decimal_to_ns("-0.0005", 1000, &ns));
  EXPECT_EQ(ns, -1);
  ASSERT_TRUE(parse_decimal_to_ns("2413682432405.9053", 1000, &ns));
  EXPECT_EQ(ns, 2413682432405905);
  ASSERT_TRUE(parse_decimal_to_ns("3", 1, &ns));
  EXPECT_EQ(ns, 3);
}

TEST(TimeFormatTest, RejectsNonNumbersAndOverflow) {
  int64_t ns = 0;
  for (const char* bad : {"", "-", ".", "abc", "1.2.3", "NaN", "Infinity", "1e", "0x10", " 1",
                          "1 ", "9223372036854775.808", "1e30", "--1"}) {
    EXPECT_FALSE(parse_decimal_to_ns(bad, 1000, &ns)) << bad;
  }
  EXPECT_TRUE(parse_decimal_to_ns("-9223372036854775.808", 1000, &ns));
  EXPECT_EQ(ns, INT64_MIN);
}

TEST(TimeFormatTest, ParsesIdsAbove2To53) {
  uint64_t v = 0;
  bool hex = false;
  ASSERT_TRUE(parse_u64("18446744073709551615", &v, &hex));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(hex);
  ASSERT_TRUE(parse_u64("9007199254740993", &v));
  EXPECT_EQ(v, 9007199254740993ull);
  ASSERT_TRUE(parse_u64("0x1F", &v, &hex));
  EXPECT_EQ(v, 31u);
  EXPECT_TRUE(hex);
  EXPECT_FALSE(parse_u64("18446744073709551616", &v));
  EXPECT_FALSE(parse_u64("-1", &v));
  EXPECT_FALSE(parse_u64("1.5", &v));
}

}  // namespace
}  // namespace huoyan
