#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "model/config.h"
#include "model/kernels.h"
#include "model/tokenizer.h"

namespace llm {
namespace {

TEST(Sampling, GreedyIsArgmaxWithLowestIdOnTies) {
  std::vector<float> logits = {0.1f, 3.0f, -2.0f, 3.0f};
  EXPECT_EQ(sample_token(logits.data(), 4, {}, 0), 1);
}

TEST(Sampling, TemperatureIsReproducibleAndFollowsTheDistribution) {
  std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f, -5.0f};
  const SamplingParams p{1.0f, 0, 77};
  std::map<int, int> hist;
  for (uint64_t pos = 0; pos < 20000; ++pos) {
    const int32_t t = sample_token(logits.data(), 5, p, pos);
    EXPECT_EQ(t, sample_token(logits.data(), 5, p, pos));  // Same (seed, position): same draw.
    ++hist[t];
  }
  // softmax(2, 1, 0, -1, -5) ~ 0.644, 0.237, 0.087, 0.032, 0.0006.
  EXPECT_NEAR(hist[0] / 20000.0, 0.644, 0.02);
  EXPECT_NEAR(hist[1] / 20000.0, 0.237, 0.02);
  EXPECT_NEAR(hist[2] / 20000.0, 0.087, 0.01);
  EXPECT_LT(hist[4], 60);

  // Another seed gives another sequence of draws.
  int differ = 0;
  for (uint64_t pos = 0; pos < 100; ++pos) {
    differ += sample_token(logits.data(), 5, p, pos) !=
              sample_token(logits.data(), 5, SamplingParams{1.0f, 0, 78}, pos);
  }
  EXPECT_GT(differ, 10);
}

TEST(Sampling, TopKRestrictsCandidates) {
  std::vector<float> logits = {0.0f, 5.0f, 4.9f, 4.8f, -1.0f};
  const SamplingParams p{5.0f, 2, 1};
  for (uint64_t pos = 0; pos < 1000; ++pos) {
    const int32_t t = sample_token(logits.data(), 5, p, pos);
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
}

TEST(Tokenizer, RoundTripsBytesAndSkipsSpecials) {
  const std::string text = std::string("h\xc3\xa9llo\0x", 7);
  const auto ids = encode(text);
  ASSERT_EQ(ids.size(), text.size() + 1);
  EXPECT_EQ(ids[0], kBosToken);
  EXPECT_EQ(ids[2], 0xc3);
  std::vector<int32_t> with_eos = ids;
  with_eos.push_back(kEosToken);
  EXPECT_EQ(decode(with_eos), text);
  EXPECT_EQ(encode("ab", false), (std::vector<int32_t>{'a', 'b'}));
}

}  // namespace
}  // namespace llm
