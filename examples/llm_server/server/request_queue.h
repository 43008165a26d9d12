// The hand-off of new requests from HTTP workers (many producers) to the scheduler (one
// consumer). Two implementations, chosen by --queue: a mutex + condition variable around a
// deque, and moodycamel's lock-free queue. The scheduler drains it at the start of every
// select_batch, so the cost of contention with the producers shows up in that span.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/request.h"

namespace llm_server {

enum class QueueKind { kLocked, kLockFree };
// "locked" / "lockfree"; false for anything else.
bool parse_queue_kind(std::string_view text, QueueKind* kind);

class RequestQueue {
 public:
  virtual ~RequestQueue() = default;
  // Any thread. Never blocks for long and never fails (the admission limit is the caller's).
  virtual void push(std::shared_ptr<Request> request) = 0;
  // Scheduler thread. Moves every queued request into *out, in push order per producer; when
  // the queue is empty, first waits up to `wait` for one. Returns how many were moved.
  virtual size_t pop_all(std::vector<std::shared_ptr<Request>>* out,
                         std::chrono::microseconds wait) = 0;
  // Wakes a pop_all that is waiting (shutdown).
  virtual void wake() = 0;

  // Scheduler thread: hands one step's output to the HTTP workers. A piece may be empty (the
  // token had no bytes); a reason other than kNone also ends that request's stream.
  struct Delivery {
    Channel* channel;
    std::string piece;
    FinishReason reason;
  };
  virtual void deliver(std::vector<Delivery>& deliveries) = 0;
};

std::unique_ptr<RequestQueue> make_request_queue(QueueKind kind);

}  // namespace llm_server
