// A completion request on its way from an HTTP handler through the scheduler and back.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "model/kernels.h"
#include "model/kv_cache.h"

namespace llm_server {

// Why generation ended ("finish_reason" of the API).
enum class FinishReason { kNone, kLength, kStop, kCancelled };
const char* finish_reason_name(FinishReason reason);

// The scheduler's output to the handler that waits for it: text pieces (one per generated
// token that has bytes) and, once, the end. Written by the scheduler thread, read by one HTTP
// worker; cancel() is the reader's way back (a client that went away).
class Channel {
 public:
  // Appends `piece` unless empty, then finishes unless `reason` is kNone.
  // `wake` false: the caller calls wake() later (to wake a step's readers after writing all).
  void put(std::string piece, FinishReason reason, bool wake = true);
  // The same for a caller that holds the shared lock (see share); notifies nobody.
  void put_locked(std::string piece, FinishReason reason);
  void wake() { notify(); }
  void finish(FinishReason reason) { put({}, reason); }

  // Waits up to `timeout` for news, then moves the pieces produced so far into *pieces.
  // Returns the finish reason once generation has ended and every piece was taken, else kNone.
  FinishReason wait(std::vector<std::string>* pieces, std::chrono::milliseconds timeout);
  // The same, handing the pieces and the finish reason to `consume`, which returns false to stop
  // (a client that went away). With a shared lock (the single-lock server) consume runs while
  // that lock is held, as a server does that writes each response chunk under its one lock;
  // with the channel's own lock, after releasing it.
  template <typename Consume>
  bool drain(std::chrono::milliseconds timeout, Consume&& consume) {
    std::vector<std::string> pieces;
    if (shared_mu_ != nullptr) {
      std::unique_lock lock(*shared_mu_);
      shared_cv_->wait_for(lock, timeout, [&] { return ready(); });
      pieces.swap(pieces_);
      return consume(pieces, finished_);
    }
    const FinishReason reason = wait(&pieces, timeout);
    return consume(pieces, reason);
  }

  void cancel();
  // cancel() from inside drain's consume, which may hold the shared lock.
  void cancel_locked() { cancelled_.store(true, std::memory_order_relaxed); }
  // The scheduler asks this of every queued and running request in each select_batch. With a
  // shared lock (below) the flag is guarded by that lock like the rest of the channel, so each
  // call takes it; otherwise it is an atomic load.
  bool cancelled();
  // Guard this channel with `mu` and signal `cv` (notify_all: other channels wait on it too)
  // instead of its own pair: the single-lock server of --queue=locked, where one mutex guards
  // the request queue and every response. Call before the channel is used by two threads.
  void share(std::mutex* mu, std::condition_variable* cv) {
    shared_mu_ = mu;
    shared_cv_ = cv;
  }

 private:
  bool ready() const { return !pieces_.empty() || finished_ != FinishReason::kNone; }
  std::mutex& mu() { return shared_mu_ != nullptr ? *shared_mu_ : mu_; }
  std::unique_lock<std::mutex> lock_for_scheduler();
  void notify() {
    if (shared_cv_ != nullptr) {
      shared_cv_->notify_all();
    } else {
      cv_.notify_one();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::mutex* shared_mu_ = nullptr;
  std::condition_variable* shared_cv_ = nullptr;
  std::vector<std::string> pieces_;
  FinishReason finished_ = FinishReason::kNone;
  std::atomic<bool> cancelled_{false};
};

struct Request {
  // Set before submission, then read-only.
  std::string id;
  std::vector<int32_t> prompt;  // token ids, BOS first
  int max_tokens = 16;
  llm::SamplingParams sampling;
  int64_t arrival_ns = 0;  // huoyan::now_ns() time base (CLOCK_MONOTONIC)

  // Scheduler thread only.
  llm::SeqId seq = 0;
  std::vector<int32_t> output;  // generated tokens, EOS included
  int cached = 0;               // tokens in the KV cache; 0 while waiting (new or preempted)
  bool admitted = false;        // admitted at least once (queue_wait recorded)
  int preemptions = 0;

  Channel channel;

  // Tokens known so far: the prompt, then the output.
  int known() const { return static_cast<int>(prompt.size() + output.size()); }
  int32_t token_at(int i) const {
    const int p = static_cast<int>(prompt.size());
    return i < p ? prompt[i] : output[i - p];
  }
};

}  // namespace llm_server
