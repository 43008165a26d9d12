#include "server/request.h"

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

void Channel::push(std::string piece) {
  {
    std::lock_guard lock(mu_);
    pieces_.push_back(std::move(piece));
  }
  cv_.notify_one();
}

void Channel::finish(FinishReason reason) {
  {
    std::lock_guard lock(mu_);
    finished_ = reason;
  }
  cv_.notify_one();
}

FinishReason Channel::wait(std::vector<std::string>* pieces, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pieces_.empty() || finished_ != FinishReason::kNone; });
  for (std::string& p : pieces_) pieces->push_back(std::move(p));
  pieces_.clear();
  return finished_;
}

}  // namespace llm_server
