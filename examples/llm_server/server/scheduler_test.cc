#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/engine.h"
#include "model/tokenizer.h"

namespace llm_server {
namespace {

llm::ModelConfig tiny_config(int block_size, int kv_blocks) {
  llm::ModelConfig c;
  c.d_model = 64;
  c.n_layers = 1;
  c.n_heads = 2;
  c.head_dim = 32;
  c.ffn_dim = 128;
  c.group_size = 32;
  c.block_size = block_size;
  c.num_kv_blocks = kv_blocks;
  c.max_seq_len = 256;
  c.workers_per_device = 2;
  c.seed = 11;
  return c;
}

std::shared_ptr<Request> make_request(std::string id, std::vector<int32_t> prompt, int max_tokens,
                                      float temperature = 0, uint64_t seed = 0) {
  auto r = std::make_shared<Request>();
  r->id = std::move(id);
  r->prompt = std::move(prompt);
  r->max_tokens = max_tokens;
  r->sampling.temperature = temperature;
  r->sampling.seed = seed;
  return r;
}

std::vector<int32_t> random_prompt(std::mt19937& rng, int max_len) {
  std::vector<int32_t> p = {llm::kBosToken};
  const int n = 1 + static_cast<int>(rng() % max_len);
  for (int i = 0; i < n; ++i) p.push_back(static_cast<int32_t>('a' + rng() % 26));
  return p;
}

// Everything the channel delivered, and how often it was told the end.
struct Received {
  std::string text;
  FinishReason reason = FinishReason::kNone;
};
Received drain(Request& r) {
  Received got;
  std::vector<std::string> pieces;
  got.reason = r.channel.wait(&pieces, std::chrono::milliseconds(0));
  for (auto& p : pieces) got.text += p;
  return got;
}

// Requests arrive at random steps into a small KV cache with a small token budget, so that
// prompts are chunked and running requests get preempted. Every step must respect both budgets
// and schedule a request at most once; every request must finish exactly once with all its
// tokens.
TEST(LlmScheduler, RandomizedBudgetsNoLossNoDuplicates) {
  int total_preemptions = 0, total_chunked = 0;
  for (int seed = 1; seed <= 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int block_size = 1 << (rng() % 5);  // 1..16
    const int budget = 4 + static_cast<int>(rng() % 60);
    // Enough blocks for the longest request alone (prompt 48 + 24 output), not for many.
    const int kv_blocks = (72 + block_size - 1) / block_size + static_cast<int>(rng() % 12);
    llm::Engine engine(tiny_config(block_size, kv_blocks));
    auto queue = make_request_queue(seed % 2 ? QueueKind::kLocked : QueueKind::kLockFree);
    Scheduler scheduler(engine, *queue, {.max_batch_tokens = budget});

    int violations = 0;
    scheduler.on_step = [&](const Plan& plan, int free_before) {
      EXPECT_LE(plan.tokens, budget);
      EXPECT_LE(plan.blocks, free_before);
      int tokens = 0;
      std::set<const Request*> seen;
      for (const ScheduledSeq& s : plan.seqs) {
        tokens += s.tokens;
        EXPECT_GT(s.tokens, 0);
        if (!seen.insert(s.request.get()).second) ++violations;
        if (s.tokens < s.request->known() && !s.sample) ++total_chunked;
      }
      EXPECT_EQ(tokens, plan.tokens);
      EXPECT_GE(engine.free_blocks(), 0);
    };

    std::vector<std::shared_ptr<Request>> all;
    const int n_requests = 6 + static_cast<int>(rng() % 10);
    int submitted = 0;
    for (int step = 0; step < 5000; ++step) {
      // Arrivals at random steps.
      while (submitted < n_requests && rng() % 3 == 0) {
        auto r = make_request("r" + std::to_string(submitted), random_prompt(rng, 48),
                              1 + static_cast<int>(rng() % 24));
        all.push_back(r);
        ASSERT_TRUE(scheduler.submit(r));
        ++submitted;
      }
      scheduler.step();
      if (submitted == n_requests && scheduler.in_flight() == 0 && scheduler.queued() == 0) break;
    }
    EXPECT_EQ(violations, 0);
    ASSERT_EQ(submitted, n_requests);
    EXPECT_EQ(scheduler.in_flight(), 0);
    EXPECT_EQ(engine.free_blocks(), kv_blocks) << "blocks leaked";
    for (auto& r : all) {
      const Received got = drain(*r);
      ASSERT_NE(got.reason, FinishReason::kNone) << r->id << " never finished";
      const bool eos = !r->output.empty() && r->output.back() == llm::kEosToken;
      if (got.reason == FinishReason::kStop) {
        EXPECT_TRUE(eos) << r->id;
      } else {
        EXPECT_EQ(got.reason, FinishReason::kLength) << r->id;
        EXPECT_EQ(static_cast<int>(r->output.size()), r->max_tokens) << r->id;
      }
      // Each token delivered once, in order.
      EXPECT_EQ(got.text, llm::decode(r->output)) << r->id;
      total_preemptions += r->preemptions;
    }
  }
  // The randomized cases must have exercised preemption and chunked prefill.
  EXPECT_GT(total_preemptions, 0);
  EXPECT_GT(total_chunked, 0);
}

// Runs requests through a scheduler until all finish; returns each one's output.
std::vector<std::vector<int32_t>> serve(const llm::ModelConfig& config, int budget,
                                        std::vector<std::shared_ptr<Request>> requests,
                                        int* preemptions = nullptr) {
  llm::Engine engine(config);
  auto queue = make_request_queue(QueueKind::kLockFree);
  Scheduler scheduler(engine, *queue, {.max_batch_tokens = budget});
  for (auto& r : requests) EXPECT_TRUE(scheduler.submit(r));
  for (int i = 0; i < 20000 && (scheduler.in_flight() > 0 || scheduler.queued() > 0); ++i) {
    scheduler.step();
  }
  std::vector<std::vector<int32_t>> out;
  for (auto& r : requests) {
    out.push_back(r->output);
    if (preemptions) *preemptions += r->preemptions;
  }
  return out;
}

// A request's tokens are the same alone and inside any batch the scheduler forms (chunked
// prefill, mixed decode, preemption and recompute), greedy and seeded temperature alike.
TEST(LlmScheduler, OutputIdenticalAloneAndBatched) {
  int preemptions = 0;
  for (int seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed * 7919);
    const float temperature = seed % 2 ? 0.0f : 0.8f;
    const std::vector<int32_t> prompt = random_prompt(rng, 40);
    const int max_tokens = 10 + static_cast<int>(rng() % 20);

    const auto alone = serve(tiny_config(4, 64), 512,
                             {make_request("target", prompt, max_tokens, temperature, 99)});
    ASSERT_FALSE(alone[0].empty());

    std::vector<std::shared_ptr<Request>> batch;
    const int others = 3 + static_cast<int>(rng() % 6);
    const int target_at = static_cast<int>(rng() % (others + 1));
    for (int i = 0; i <= others; ++i) {
      if (i == target_at) {
        batch.push_back(make_request("target", prompt, max_tokens, temperature, 99));
      } else {
        batch.push_back(make_request("o" + std::to_string(i), random_prompt(rng, 40),
                                     1 + static_cast<int>(rng() % 30), temperature, i));
      }
    }
    // Few blocks and a small budget: chunks and preemptions.
    const auto batched =
        serve(tiny_config(4, 24), 3 + static_cast<int>(rng() % 20), batch, &preemptions);
    EXPECT_EQ(batched[target_at], alone[0]);
  }
  EXPECT_GT(preemptions, 0) << "the batched runs never preempted";
}

// Both queues hand over every request exactly once, with many producers.
TEST(LlmRequestQueue, ManyProducersNoLossNoDuplicates) {
  for (QueueKind kind : {QueueKind::kLocked, QueueKind::kLockFree}) {
    auto queue = make_request_queue(kind);
    constexpr int kProducers = 8, kEach = 500;
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kEach; ++i) {
          queue->push(make_request(std::to_string(p * kEach + i), {llm::kBosToken}, 1));
        }
      });
    }
    std::vector<std::shared_ptr<Request>> got;
    for (int i = 0; i < 300 && got.size() < size_t{kProducers} * kEach; ++i) {
      queue->pop_all(&got, std::chrono::milliseconds(100));
    }
    for (auto& t : producers) t.join();
    queue->pop_all(&got, std::chrono::microseconds(0));
    std::set<std::string> ids;
    for (auto& r : got) ids.insert(r->id);
    EXPECT_EQ(got.size(), size_t{kProducers} * kEach);
    EXPECT_EQ(ids.size(), size_t{kProducers} * kEach);
  }
}

}  // namespace
}  // namespace llm_server
