#include "server/request.h"

#include <huoyan/huoyan.h>

#include <utility>

namespace llm_server {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kNone:
      break;
  }
  return "";
}

// The scheduler thread's side: a shared lock taken by someone else is recorded as a
// "queue_lock_wait" span, the evidence of contention the diagnosis looks for.
std::unique_lock<std::mutex> Channel::lock_for_scheduler() {
  std::unique_lock lock(mu(), std::try_to_lock);
  if (!lock.owns_lock()) {
    HUOYAN_SCOPE("queue_lock_wait");
    lock.lock();
  }
  return lock;
}

void Channel::cancel() {
  if (shared_mu_ == nullptr) {
    cancelled_.store(true, std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(*shared_mu_);
  cancelled_.store(true, std::memory_order_relaxed);
}

bool Channel::cancelled() {
  if (shared_mu_ == nullptr) return cancelled_.load(std::memory_order_relaxed);
  auto lock = lock_for_scheduler();
  return cancelled_.load(std::memory_order_relaxed);
}

void Channel::put(std::string piece, FinishReason reason, bool wake) {
  {
    auto lock = lock_for_scheduler();
    put_locked(std::move(piece), reason);
  }
  if (wake) notify();
}

void Channel::put_locked(std::string piece, FinishReason reason) {
  if (!piece.empty()) pieces_.push_back(std::move(piece));
  if (reason != FinishReason::kNone) finished_ = reason;
}

FinishReason Channel::wait(std::vector<std::string>* pieces, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu());
  auto ready = [&] { return this->ready(); };
  if (shared_cv_ != nullptr) {
    shared_cv_->wait_for(lock, timeout, ready);
  } else {
    cv_.wait_for(lock, timeout, ready);
  }
  for (std::string& p : pieces_) pieces->push_back(std::move(p));
  pieces_.clear();
  return finished_;
}

}  // namespace llm_server
