#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/engine.h"
#include "model/tokenizer.h"

namespace llm {
namespace {

ModelConfig small_config(int devices) {
  ModelConfig c;
  c.d_model = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.head_dim = 16;
  c.ffn_dim = 128;
  c.group_size = 32;
  c.block_size = 4;
  c.num_kv_blocks = 512;
  c.max_seq_len = 256;
  c.devices = devices;
  c.workers_per_device = 2;
  c.seed = 7;
  return c;
}

struct Trace {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> logits;
};

// Prefills the prompt in one step, then decodes n_new tokens, alone in every batch.
Trace generate_alone(Engine& engine, SeqId id, const std::vector<int32_t>& prompt, int n_new,
                     SamplingParams sampling = {}) {
  Trace trace;
  SequenceInput in{id, prompt, 0, true, sampling};
  for (int i = 0; i < n_new; ++i) {
    const StepOutput out = engine.forward(Batch{{in}});
    EXPECT_EQ(out.outputs.size(), 1u);
    trace.tokens.push_back(out.outputs[0].token);
    trace.logits.push_back(out.outputs[0].logits);
    in.start_pos += static_cast<int>(in.tokens.size());
    in.tokens = {out.outputs[0].token};
  }
  engine.release(id);
  return trace;
}

std::vector<int32_t> random_prompt(std::mt19937& rng, int max_len) {
  std::vector<int32_t> p = {kBosToken};
  const int n = 1 + rng() % max_len;
  for (int i = 0; i < n; ++i) p.push_back(static_cast<int32_t>(rng() % 256));
  return p;
}

// The target request is fed through a continuous-batching-like loop: its prompt in random
// chunks, other sequences prefilling, decoding, finishing and being preempted around it, and
// the target itself preempted once and recomputed from scratch. Its tokens and logits must be
// bit-identical to the run alone.
Trace generate_in_batches(Engine& engine, SeqId id, const std::vector<int32_t>& prompt, int n_new,
                          uint32_t seed) {
  std::mt19937 rng(seed);
  struct Other {
    SeqId id;
    std::vector<int32_t> pending;  // Tokens not yet fed.
    int pos = 0;
  };
  std::vector<Other> others;
  SeqId next_other = 1000;
  Trace trace;
  std::vector<int32_t> history = prompt;  // Prompt + generated tokens.
  int fed = 0;                            // Tokens of history already in the cache.
  bool preempted = false;
  while (static_cast<int>(trace.tokens.size()) < n_new) {
    while (others.size() < 5) others.push_back({next_other++, random_prompt(rng, 40), 0});
    Batch batch;
    // Others go first or after the target at random, so the target's row offset varies.
    const bool target_first = rng() % 2;
    const int target_chunk = 1 + rng() % 9;
    SequenceInput target;
    target.seq_id = id;
    target.start_pos = fed;
    const int n = std::min<int>(target_chunk, static_cast<int>(history.size()) - fed);
    target.tokens.assign(history.begin() + fed, history.begin() + fed + n);
    target.sample = fed + n == static_cast<int>(history.size());
    if (target_first) batch.seqs.push_back(target);
    for (Other& o : others) {
      if (rng() % 4 == 0) continue;  // Not scheduled this step.
      const int take = std::min<int>(o.pending.size(), 1 + rng() % 12);
      SequenceInput in{o.id, {o.pending.begin(), o.pending.begin() + take}, o.pos, false, {}};
      in.sample = take == static_cast<int>(o.pending.size());
      in.sampling.temperature = 0.7f;
      in.sampling.seed = o.id;
      batch.seqs.push_back(in);
    }
    if (!target_first) batch.seqs.push_back(target);
    const StepOutput out = engine.forward(batch, trace.tokens.size());
    for (const SequenceOutput& so : out.outputs) {
      if (so.seq_id == id) {
        trace.tokens.push_back(so.token);
        trace.logits.push_back(so.logits);
        history.push_back(so.token);
      }
    }
    fed += n;
    for (const SequenceInput& in : batch.seqs) {
      for (Other& o : others) {
        if (o.id != in.seq_id) continue;
        o.pos += static_cast<int>(in.tokens.size());
        o.pending.erase(o.pending.begin(), o.pending.begin() + in.tokens.size());
      }
    }
    for (const SequenceOutput& so : out.outputs) {
      for (Other& o : others) {
        if (o.id == so.seq_id) o.pending.push_back(so.token);
      }
    }
    // Finish or preempt some others; preempt the target once, midway.
    for (auto it = others.begin(); it != others.end();) {
      if (it->pos > 60 || rng() % 20 == 0) {
        engine.release(it->id);
        it = others.erase(it);
      } else {
        ++it;
      }
    }
    if (!preempted && trace.tokens.size() == static_cast<size_t>(n_new / 2)) {
      engine.release(id);
      fed = 0;
      preempted = true;
    }
  }
  engine.release(id);
  for (const Other& o : others) engine.release(o.id);
  EXPECT_EQ(engine.free_blocks(), engine.config().num_kv_blocks);
  return trace;
}

class EngineBatchInvariance : public ::testing::TestWithParam<int> {};

TEST_P(EngineBatchInvariance, GreedyAloneEqualsInsideBatches) {
  Engine engine(small_config(GetParam()));
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3; ++trial) {
    const auto prompt = random_prompt(rng, 30);
    const Trace alone = generate_alone(engine, 1, prompt, 10);
    const Trace batched = generate_in_batches(engine, 1, prompt, 10, 100 + trial);
    ASSERT_EQ(alone.tokens, batched.tokens) << "trial " << trial;
    for (size_t i = 0; i < alone.logits.size(); ++i) {
      ASSERT_EQ(alone.logits[i], batched.logits[i]) << "trial " << trial << " step " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, EngineBatchInvariance, ::testing::Values(1, 2));

// Tensor parallelism only changes how the output/down projections are summed (two partial sums
// then an all-reduce), so logits agree to float rounding and greedy tokens agree exactly.
TEST(Engine, TensorParallelMatchesSingleDevice) {
  Engine one(small_config(1));
  Engine two(small_config(2));
  for (const char* text : {"Hello, world", "The quick brown fox", "a", "0123456789abcdef"}) {
    const auto prompt = encode(text);
    const Trace a = generate_alone(one, 1, prompt, 12);
    const Trace b = generate_alone(two, 1, prompt, 12);
    EXPECT_EQ(a.tokens, b.tokens) << text;
    for (size_t i = 0; i < a.logits.size(); ++i) {
      for (size_t v = 0; v < a.logits[i].size(); ++v) {
        ASSERT_NEAR(a.logits[i][v], b.logits[i][v], 1e-3) << text << " step " << i;
      }
    }
  }
}

TEST(Engine, TemperatureSamplingIsReproducible) {
  Engine engine(small_config(1));
  const auto prompt = encode("seeded");
  SamplingParams p{0.9f, 0, 1234};
  const Trace a = generate_alone(engine, 1, prompt, 16, p);
  const Trace b = generate_alone(engine, 2, prompt, 16, p);
  EXPECT_EQ(a.tokens, b.tokens);
  p.seed = 99;
  const Trace c = generate_alone(engine, 3, prompt, 16, p);
  EXPECT_NE(a.tokens, c.tokens);
  const Trace greedy = generate_alone(engine, 4, prompt, 16);
  EXPECT_NE(a.tokens, greedy.tokens);
}

TEST(Engine, RejectsBadBatchesWithoutSideEffects) {
  ModelConfig c = small_config(1);
  c.num_kv_blocks = 8;  // 32 token slots.
  Engine engine(c);
  const int free = engine.free_blocks();
  auto expect_unchanged = [&] {
    EXPECT_EQ(engine.free_blocks(), free);
    EXPECT_EQ(engine.seq_len(1), 0);
  };
  EXPECT_THROW(engine.forward(Batch{{{1, {}, 0}}}), std::invalid_argument);
  expect_unchanged();
  EXPECT_THROW(engine.forward(Batch{{{1, {5}, 3}}}), std::invalid_argument);  // Wrong start.
  expect_unchanged();
  EXPECT_THROW(engine.forward(Batch{{{1, {300}, 0}}}), std::invalid_argument);  // Bad token.
  expect_unchanged();
  EXPECT_THROW(engine.forward(Batch{{{1, {5}, 0}, {1, {6}, 0}}}), std::invalid_argument);
  expect_unchanged();
  // 20 + 20 tokens need 10 blocks of 4: the whole batch is refused.
  EXPECT_FALSE(engine.can_allocate(40));
  Batch big{{{1, std::vector<int32_t>(20, 65), 0}, {2, std::vector<int32_t>(20, 66), 0}}};
  EXPECT_EQ(engine.blocks_needed(big), 10);
  EXPECT_THROW(engine.forward(big), std::runtime_error);
  expect_unchanged();
  EXPECT_EQ(engine.seq_len(2), 0);
  // Valid step, then the empty batch.
  const StepOutput out = engine.forward(Batch{{{1, {kBosToken, 65}, 0}}});
  ASSERT_EQ(out.outputs.size(), 1u);
  EXPECT_EQ(out.outputs[0].position, 2);
  EXPECT_EQ(out.tokens, 2);
  EXPECT_EQ(engine.seq_len(1), 2);
  EXPECT_TRUE(engine.forward(Batch{}).outputs.empty());
  EXPECT_THROW(ModelConfig{.group_size = 48}.validate(), std::invalid_argument);
}

TEST(Engine, DefaultConfigIsValid) {
  ModelConfig c;
  EXPECT_NO_THROW(c.validate());
  for (int g : {32, 64, 128, 256}) {
    c.group_size = g;
    c.devices = 2;
    EXPECT_NO_THROW(c.validate()) << g;
  }
}

}  // namespace
}  // namespace llm
