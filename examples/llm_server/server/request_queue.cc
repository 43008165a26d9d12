#include "server/request_queue.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <huoyan/huoyan.h>

#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <utility>

#include "server/request.h"

namespace llm_server {
namespace {

// The classic single-lock server: one mutex guards the queue of new requests and the response
// channel of every request (see Channel::share). A step's tokens are written under it in one
// go, then one broadcast wakes every waiting HTTP worker, and all of them take the mutex to look
// at their channel just as the scheduler starts the next select_batch, which needs the same
// mutex for the new requests and for each request's cancel flag. With many streaming clients
// on few cores the scheduler queues behind them; each wait is recorded as a "queue_lock_wait"
// span.
class LockedQueue final : public RequestQueue {
 public:
  void push(std::shared_ptr<Request> request) override {
    request->channel.share(&mu_, &out_cv_);
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(request));
    }
    cv_.notify_one();
  }

  size_t pop_all(std::vector<std::shared_ptr<Request>>* out,
                 std::chrono::microseconds wait) override {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) {
      HUOYAN_SCOPE("queue_lock_wait");
      lock.lock();
    }
    if (items_.empty() && wait.count() > 0) {
      cv_.wait_for(lock, wait, [&] { return !items_.empty() || woken_; });
      woken_ = false;
    }
    const size_t n = items_.size();
    for (auto& r : items_) out->push_back(std::move(r));
    items_.clear();
    return n;
  }

  void wake() override {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  void deliver(std::vector<Delivery>& deliveries) override {
    if (deliveries.empty()) return;
    {
      std::unique_lock lock(mu_, std::try_to_lock);
      if (!lock.owns_lock()) {
        HUOYAN_SCOPE("queue_lock_wait");
        lock.lock();
      }
      for (Delivery& d : deliveries) d.channel->put_locked(std::move(d.piece), d.reason);
    }
    out_cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;      // new requests, for the scheduler
  std::condition_variable out_cv_;  // tokens, for every waiting HTTP worker
  std::deque<std::shared_ptr<Request>> items_;
  bool woken_ = false;
};

// moodycamel's blocking variant: the lock-free queue plus a semaphore for the idle wait.
class LockFreeQueue final : public RequestQueue {
 public:
  void push(std::shared_ptr<Request> request) override { queue_.enqueue(std::move(request)); }

  size_t pop_all(std::vector<std::shared_ptr<Request>>* out,
                 std::chrono::microseconds wait) override {
    // One consumer: its token lets dequeues start at the producer sub-queue that last had
    // items instead of scanning them all.
    std::shared_ptr<Request> batch[32];
    size_t taken = queue_.try_dequeue_bulk(consumer_, batch, std::size(batch));
    if (taken == 0 && wait.count() > 0) {
      taken = queue_.wait_dequeue_bulk_timed(consumer_, batch, 1, wait);
    }
    size_t moved = 0;
    while (taken > 0) {
      for (size_t i = 0; i < taken; ++i) {
        if (batch[i] == nullptr) continue;  // wake()
        out->push_back(std::move(batch[i]));
        ++moved;
      }
      taken = queue_.try_dequeue_bulk(consumer_, batch, std::size(batch));
    }
    return moved;
  }

  void wake() override { queue_.enqueue(nullptr); }

  void deliver(std::vector<Delivery>& deliveries) override {
    // Write every channel first, then wake the readers: a woken reader may take the core from
    // the scheduler, so waking as they are written would stretch the delivery.
    for (Delivery& d : deliveries) d.channel->put(std::move(d.piece), d.reason, false);
    for (Delivery& d : deliveries) d.channel->wake();
  }

 private:
  moodycamel::BlockingConcurrentQueue<std::shared_ptr<Request>> queue_;
  moodycamel::ConsumerToken consumer_{queue_};
};

}  // namespace

bool parse_queue_kind(std::string_view text, QueueKind* kind) {
  if (text == "locked") {
    *kind = QueueKind::kLocked;
  } else if (text == "lockfree") {
    *kind = QueueKind::kLockFree;
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<RequestQueue> make_request_queue(QueueKind kind) {
  if (kind == QueueKind::kLocked) return std::make_unique<LockedQueue>();
  return std::make_unique<LockFreeQueue>();
}

}  // namespace llm_server
