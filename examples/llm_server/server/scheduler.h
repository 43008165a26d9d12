// The continuous-batching scheduler: one thread that, every iteration, takes new requests off
// the queue, picks what to compute (select_batch), builds the engine's batch (prepare_inputs),
// runs the model and hands the sampled tokens back to the requests.
//
// Policy (vLLM-like): running requests first, in admission order, each gets its next chunk
// (the rest of its prompt, or one decode token) within the token budget; if the KV cache cannot
// hold a running request's chunk, the most recently admitted running request is preempted (its
// blocks freed, recomputed from position 0 later, at the head of the waiting line). Then, if
// nothing was preempted, waiting requests are admitted first come first served while tokens
// and blocks remain; a prompt longer than the remaining budget is prefilled in chunks.
//
// Instrumentation: a huoyan::StepScope per iteration with each member's tokens; host spans
// select_batch, prepare_inputs, forward, sampling; per request queue_wait (arrival to first
// admission) and detokenize; request_first_token and request_finish.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "model/engine.h"
#include "server/request.h"
#include "server/request_queue.h"

namespace llm_server {

struct SchedulerOptions {
  int max_batch_tokens = 512;  // tokens computed per step (prefill chunks + decode tokens)
};

// One request's share of a step.
struct ScheduledSeq {
  std::shared_ptr<Request> request;
  int start = 0;   // first position computed (= tokens cached before the step)
  int tokens = 0;  // tokens computed
  bool sample = false;
};

struct Plan {
  std::vector<ScheduledSeq> seqs;
  int tokens = 0;     // sum of seqs[i].tokens
  int blocks = 0;     // KV blocks the step allocates
  int preempted = 0;  // requests preempted while planning
  bool empty() const { return seqs.empty(); }
};

class Scheduler {
 public:
  // The engine and queue must outlive the scheduler.
  Scheduler(llm::Engine& engine, RequestQueue& queue, SchedulerOptions options);

  // One iteration: drain the queue, plan, run. When no request is waiting or running, first
  // waits up to idle_wait for the queue. Returns the plan that ran (empty: nothing to do).
  Plan step(std::chrono::microseconds idle_wait = std::chrono::microseconds(0));

  // Runs step() until stop is set (callers drain first: see in_flight()).
  void run(const std::atomic<bool>& stop);

  // Producers, any thread: pushes the request onto the queue unless `limit` requests are
  // already accepted but not yet admitted into a batch (queued or waiting); then returns false.
  // Requests must enter the queue only through here.
  bool submit(std::shared_ptr<Request> request, int limit = std::numeric_limits<int>::max());
  // Requests accepted and not yet admitted. Any thread.
  int queued() const { return queued_.load(std::memory_order_relaxed); }

  // Requests taken from the queue and not finished (waiting + running). Any thread.
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t steps() const { return steps_.load(std::memory_order_relaxed); }

  // Called after every step with its plan and the KV blocks free before it ran (tests).
  std::function<void(const Plan&, int free_blocks_before)> on_step;

 private:
  void intake();
  Plan select_batch();
  llm::Batch prepare_inputs(const Plan& plan) const;
  void process_outputs(const Plan& plan, const llm::StepOutput& out);
  // Ends a request: returns its blocks, records request_finish, leaves running_; finish also
  // ends its stream (retire leaves that to the caller's delivery).
  void finish(Request& r, FinishReason reason);
  void retire(Request& r);
  void preempt(std::shared_ptr<Request> r);
  int blocks_for(int tokens) const { return (tokens + block_size_ - 1) / block_size_; }

  llm::Engine& engine_;
  RequestQueue& queue_;
  SchedulerOptions options_;
  int block_size_;
  llm::SeqId next_seq_ = 1;
  std::deque<std::shared_ptr<Request>> waiting_;   // FIFO; preempted ones go to the front
  std::vector<std::shared_ptr<Request>> running_;  // admission order, holding KV blocks
  std::vector<std::shared_ptr<Request>> incoming_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> queued_{0};
  std::atomic<uint64_t> steps_{0};
};

}  // namespace llm_server
