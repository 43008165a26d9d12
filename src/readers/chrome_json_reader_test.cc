#include "src/readers/chrome_json_reader.h"

#include <gtest/gtest.h>

namespace huoyan {
namespace {

TEST(ChromeJsonReader, Smoke) {
  TraceStore store;
  auto src = ByteSource::from_string(R"([{"ph":"X","name":"a","ts":1.5,"dur":2,"pid":1,"tid":2}])",
                                     "t.json");
  ChromeJsonReader reader;
  auto r = reader.read(*src, store, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, 1u);
}

}  // namespace
}  // namespace huoyan
