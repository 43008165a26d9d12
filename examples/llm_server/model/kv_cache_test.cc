#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "model/kv_cache.h"

namespace llm {
namespace {

// Every block is either free or owned by exactly one sequence, and tables match lengths.
void check_accounting(const PagedKvCache& cache, const std::map<SeqId, int>& model) {
  std::set<int32_t> owned;
  size_t total = 0;
  for (const auto& [seq, len] : model) {
    ASSERT_EQ(cache.seq_len(seq), len);
    const auto table = cache.block_table(seq);
    ASSERT_EQ(static_cast<int>(table.size()), cache.blocks_for(len));
    for (int32_t b : table) {
      ASSERT_GE(b, 0);
      ASSERT_LT(b, cache.num_blocks());
      owned.insert(b);
    }
    total += table.size();
  }
  ASSERT_EQ(owned.size(), total) << "a block is owned twice";
  ASSERT_EQ(static_cast<int>(total) + cache.num_free_blocks(), cache.num_blocks()) << "leak";
  ASSERT_EQ(cache.num_sequences(), model.size());
}

TEST(KvCache, RandomizedAllocateAppendFreePreempt) {
  for (int bs : {1, 3, 16, 64}) {
    PagedKvCache cache(1, 1, 8, bs, 97);
    std::map<SeqId, int> model;
    std::mt19937 rng(bs);
    SeqId next_id = 1;
    for (int step = 0; step < 4000; ++step) {
      const int op = rng() % 10;
      if (op < 3 || model.empty()) {  // New sequence (prefill).
        const int n = 1 + rng() % (4 * bs + 5);
        const bool fits = cache.can_allocate(n);
        ASSERT_EQ(fits, cache.can_append(next_id, n));
        if (fits) {
          cache.append(next_id, n);
          model[next_id] = n;
        } else {
          EXPECT_THROW(cache.append(next_id, n), std::runtime_error);
          ASSERT_FALSE(cache.contains(next_id));
        }
        ++next_id;
      } else {
        auto it = model.begin();
        std::advance(it, rng() % model.size());
        if (op < 8) {  // Decode or chunk append.
          const int n = op < 6 ? 1 : 1 + rng() % (2 * bs);
          const int before = cache.num_free_blocks();
          const int need = cache.blocks_needed(it->first, n);
          ASSERT_EQ(need, cache.blocks_for(it->second + n) - cache.blocks_for(it->second));
          if (cache.can_append(it->first, n)) {
            cache.append(it->first, n);
            it->second += n;
            ASSERT_EQ(cache.num_free_blocks(), before - need);
          } else {
            EXPECT_THROW(cache.append(it->first, n), std::runtime_error);
          }
        } else {  // Finish or preempt: all blocks return.
          cache.free(it->first);
          model.erase(it);
        }
      }
      check_accounting(cache, model);
    }
    for (const auto& [seq, len] : model) cache.free(seq);
    EXPECT_EQ(cache.num_free_blocks(), cache.num_blocks());
    cache.free(12345);  // Unknown sequence: no-op.
    EXPECT_EQ(cache.num_free_blocks(), cache.num_blocks());
  }
}

TEST(KvCache, FreedBlocksAreReusedFirst) {
  PagedKvCache cache(1, 1, 8, 4, 8);
  cache.append(1, 8);  // Blocks 0, 1.
  cache.append(2, 4);  // Block 2.
  const std::vector<int32_t> first(cache.block_table(1).begin(), cache.block_table(1).end());
  cache.free(1);
  cache.append(3, 8);
  const auto t3 = cache.block_table(3);
  EXPECT_EQ(std::vector<int32_t>(t3.begin(), t3.end()), first);
}

TEST(KvCache, PagesDoNotOverlap) {
  PagedKvCache cache(2, 3, 8, 4, 5, 2);
  std::set<const float*> pages;
  for (int d = 0; d < 2; ++d)
    for (int l = 0; l < 2; ++l)
      for (int b = 0; b < 5; ++b)
        for (int h = 0; h < 3; ++h) {
          EXPECT_TRUE(pages.insert(cache.k_page(d, l, b, h)).second);
          EXPECT_TRUE(pages.insert(cache.v_page(d, l, b, h)).second);
        }
  // Pages are 4 x 8 floats apart within one device.
  EXPECT_EQ(cache.v_page(0, 0, 0, 0) - cache.k_page(0, 0, 0, 0), 3 * 4 * 8);
}

}  // namespace
}  // namespace llm
