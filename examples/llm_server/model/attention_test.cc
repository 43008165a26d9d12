#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/attention.h"
#include "model/kv_cache.h"

namespace llm {
namespace {

constexpr int kLayers = 2, kHeads = 3, kHeadDim = 16;

// Fills a paged cache with random K/V for a few sequences whose blocks are interleaved (they
// grow in turns, as under continuous batching) and keeps contiguous copies for the reference.
struct Fixture {
  PagedKvCache cache;
  std::vector<int> lens;
  // contiguous[seq][layer][head] = [len][head_dim] for K and V.
  std::vector<std::vector<std::vector<std::vector<float>>>> k, v;

  Fixture(int block_size, std::vector<int> seq_lens)
      : cache(kLayers, kHeads, kHeadDim, block_size, 4096 / block_size + 64), lens(seq_lens) {
    std::mt19937 rng(block_size);
    std::normal_distribution<float> dist;
    const int n = static_cast<int>(lens.size());
    k.assign(n, std::vector(kLayers, std::vector(kHeads, std::vector<float>())));
    v = k;
    std::vector<int> done(n, 0);
    for (bool more = true; more;) {
      more = false;
      for (int s = 0; s < n; ++s) {
        const int step = std::min(lens[s] - done[s], 1 + static_cast<int>(rng() % 7));
        if (step <= 0) continue;
        cache.append(s, step);
        done[s] += step;
        more = true;
      }
    }
    for (int s = 0; s < n; ++s) {
      const auto table = cache.block_table(s);
      for (int l = 0; l < kLayers; ++l) {
        for (int h = 0; h < kHeads; ++h) {
          for (int p = 0; p < lens[s]; ++p) {
            const int b = table[p / block_size], slot = p % block_size;
            for (int d = 0; d < kHeadDim; ++d) {
              const float kv = dist(rng), vv = dist(rng);
              cache.k_page(0, l, b, h)[slot * kHeadDim + d] = kv;
              cache.v_page(0, l, b, h)[slot * kHeadDim + d] = vv;
              k[s][l][h].push_back(kv);
              v[s][l][h].push_back(vv);
            }
          }
        }
      }
    }
  }
};

TEST(PagedAttention, EqualsContiguousForEveryBlockSize) {
  for (int bs = 1; bs <= 64; ++bs) {
    // Lengths: one token, exactly one block, many blocks plus a partial one, long and ragged.
    Fixture f(bs, {1, bs, 3 * bs + 1, 150, 257});
    std::vector<std::span<const int32_t>> tables;
    for (size_t s = 0; s < f.lens.size(); ++s) tables.push_back(f.cache.block_table(s));
    // Query tokens: the last position of each sequence plus a few earlier (prefill-like) ones.
    std::vector<int32_t> seq_index, pos;
    for (int s = 0; s < static_cast<int>(f.lens.size()); ++s) {
      for (int p : {0, f.lens[s] / 2, f.lens[s] - 1}) {
        seq_index.push_back(s);
        pos.push_back(p);
      }
    }
    const int n = static_cast<int>(pos.size());
    std::mt19937 rng(bs);
    std::normal_distribution<float> dist;
    std::vector<float> q(static_cast<size_t>(n) * kHeads * kHeadDim);
    for (float& x : q) x = dist(rng);
    const AttentionQuery query{n, seq_index.data(), pos.data(), tables.data()};
    std::vector<float> scores(512);

    for (int layer = 0; layer < kLayers; ++layer) {
      std::vector<float> out(q.size(), -1.0f);
      const int64_t keys =
          paged_attention(q.data(), kHeads * kHeadDim, out.data(), kHeads * kHeadDim, f.cache, 0,
                          layer, query, 0, n * kHeads, scores.data());
      int64_t expect_keys = 0;
      for (int t = 0; t < n; ++t) {
        expect_keys += (pos[t] + 1) * kHeads;
        for (int h = 0; h < kHeads; ++h) {
          float ref[kHeadDim];
          const int s = seq_index[t];
          attention_reference(q.data() + (t * kHeads + h) * kHeadDim, f.k[s][layer][h].data(),
                              f.v[s][layer][h].data(), pos[t] + 1, kHeadDim, ref);
          for (int d = 0; d < kHeadDim; ++d) {
            ASSERT_NEAR(out[(t * kHeads + h) * kHeadDim + d], ref[d], 1e-5)
                << "block " << bs << " token " << t << " head " << h;
          }
        }
      }
      EXPECT_EQ(keys, expect_keys);

      // Any split of the items across workers computes the very same values.
      for (int parts : {2, 3, 7}) {
        std::vector<int> bounds;
        split_attention_items(query, kHeads, parts, bounds);
        ASSERT_EQ(bounds.size(), static_cast<size_t>(parts + 1));
        ASSERT_EQ(bounds.front(), 0);
        ASSERT_EQ(bounds.back(), n * kHeads);
        std::vector<float> split_out(q.size(), -1.0f);
        for (int p = 0; p < parts; ++p) {
          ASSERT_LE(bounds[p], bounds[p + 1]);
          paged_attention(q.data(), kHeads * kHeadDim, split_out.data(), kHeads * kHeadDim, f.cache,
                          0, layer, query, bounds[p], bounds[p + 1], scores.data());
        }
        ASSERT_EQ(split_out, out);
      }
    }
  }
}

TEST(PagedAttention, SplitBalancesCost) {
  std::vector<int32_t> seq_index(8, 0), pos = {0, 1, 2, 3, 1000, 1001, 1002, 1003};
  std::vector<std::span<const int32_t>> tables(1);
  const AttentionQuery query{8, seq_index.data(), pos.data(), tables.data()};
  std::vector<int> bounds;
  split_attention_items(query, 4, 2, bounds);
  // The four long tokens dominate: the split falls inside them, not at the token midpoint.
  EXPECT_GT(bounds[1], 4 * 4 + 4);
  EXPECT_LT(bounds[1], 8 * 4);
}

}  // namespace
}  // namespace llm
