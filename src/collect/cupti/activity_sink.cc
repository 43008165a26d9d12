#include "src/collect/cupti/activity_sink.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace huoyan {

// ---------------------------------------------------------------------------------------------
// ActivityBufferPool

ActivityBufferPool::~ActivityBufferPool() {
  for (uint8_t* b : free_) std::free(b);
}

void ActivityBufferPool::configure(size_t buffer_bytes, size_t max_buffers) {
  buffer_bytes = std::max<size_t>(buffer_bytes, 1024);
  buffer_bytes = (buffer_bytes + kAlignment - 1) / kAlignment * kAlignment;
  std::lock_guard<std::mutex> lock(mu_);
  if (buffer_bytes != buffer_bytes_) {
    for (uint8_t* b : free_) std::free(b);
    free_.clear();
  }
  buffer_bytes_ = buffer_bytes;
  max_buffers_ = std::max<size_t>(max_buffers, 1);
}

size_t ActivityBufferPool::buffer_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_bytes_;
}

uint8_t* ActivityBufferPool::acquire(size_t* size, bool allow_over_limit, bool* over_limit) {
  if (over_limit != nullptr) *over_limit = false;
  std::lock_guard<std::mutex> lock(mu_);
  if (outstanding_.load(std::memory_order_relaxed) >= max_buffers_) {
    if (!allow_over_limit) {
      *size = 0;
      return nullptr;
    }
    if (over_limit != nullptr) *over_limit = true;
  }
  uint8_t* b = nullptr;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else {
    b = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, buffer_bytes_));
    if (b == nullptr) {
      *size = 0;
      return nullptr;
    }
  }
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  *size = buffer_bytes_;
  return b;
}

void ActivityBufferPool::release(uint8_t* buffer, size_t size) {
  if (buffer == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (size == buffer_bytes_ && free_.size() < max_buffers_) {
    free_.push_back(buffer);
  } else {
    std::free(buffer);
  }
}

// ---------------------------------------------------------------------------------------------
// ActivityRecord

void ActivityRecord::push(StringId key, ArgValue v) {
  if (nargs_ >= kMaxArgs) return;
  Slot& s = slots_[nargs_++];
  s.key = key;
  s.type = v.type;
  switch (v.type) {
    case ArgType::kInt:
      s.i = v.i;
      break;
    case ArgType::kUint:
      s.u = v.u;
      break;
    case ArgType::kDouble:
      s.d = v.d;
      break;
    case ArgType::kBool:
      s.u = v.b ? 1 : 0;
      break;
    default:
      s.i = 0;
      break;
  }
}

void ActivityRecord::push_text(StringId key, ArgType type, std::string_view v) {
  if (nargs_ >= kMaxArgs) return;
  const size_t room = kTextBytes - text_used_;
  const size_t n = std::min({v.size(), room, size_t{255}});
  // Truncated JSON would be invalid: store it as a string instead.
  if (n < v.size() && type == ArgType::kJson) type = ArgType::kString;
  Slot& s = slots_[nargs_++];
  s.key = key;
  s.type = type;
  s.text_offset = text_used_;
  s.text_len = static_cast<uint8_t>(n);
  if (n > 0) std::memcpy(text_.data() + text_used_, v.data(), n);
  text_used_ = static_cast<uint16_t>(text_used_ + n);
}

void ActivityRecord::add_dim3(StringId key, int64_t a, int64_t b, int64_t c) {
  char buf[72];
  const int n = std::snprintf(buf, sizeof buf, "[%lld,%lld,%lld]", static_cast<long long>(a),
                              static_cast<long long>(b), static_cast<long long>(c));
  if (n > 0) add_json(key, std::string_view(buf, std::min<size_t>(n, sizeof buf - 1)));
}

size_t ActivityRecord::args(std::array<Arg, kMaxArgs>* out) const {
  for (size_t k = 0; k < nargs_; ++k) {
    const Slot& s = slots_[k];
    Arg& a = (*out)[k];
    a.key = s.key;
    switch (s.type) {
      case ArgType::kInt:
        a.value = ArgValue::Int(s.i);
        break;
      case ArgType::kUint:
        a.value = ArgValue::Uint(s.u);
        break;
      case ArgType::kDouble:
        a.value = ArgValue::Double(s.d);
        break;
      case ArgType::kBool:
        a.value = ArgValue::Bool(s.u != 0);
        break;
      case ArgType::kString:
        a.value = ArgValue::String(std::string_view(text_.data() + s.text_offset, s.text_len));
        break;
      case ArgType::kJson:
        a.value = ArgValue::Json(std::string_view(text_.data() + s.text_offset, s.text_len));
        break;
      default:
        a.value = ArgValue();
        break;
    }
  }
  return nargs_;
}

// ---------------------------------------------------------------------------------------------
// ActivitySink

ActivitySink::ActivitySink(TraceStore* store, ActivitySinkOptions options)
    : store_(store), options_(std::move(options)) {}

std::string ActivitySink::reason(std::string_view what) const {
  return options_.backend + ": " + std::string(what);
}

void ActivitySink::remember_locked(uint64_t correlation, uint64_t step, bool overwrite) {
  auto [it, inserted] = steps_.try_emplace(correlation, step);
  if (!inserted) {
    if (overwrite) it->second = step;
    return;
  }
  order_.push_back(correlation);
  while (steps_.size() > options_.max_correlations && !order_.empty()) {
    steps_.erase(order_.front());
    order_.pop_front();
  }
}

void ActivitySink::link(uint64_t correlation, uint64_t step) {
  if (correlation == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  remember_locked(correlation, step, /*overwrite=*/true);
  links_changed_ = true;
}

void ActivitySink::add(ActivityRecord&& record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (record.correlation != 0) {
    if (record.launch) {
      // No external record preceded this launch: it ran outside any step.
      remember_locked(record.correlation, 0, /*overwrite=*/false);
      links_changed_ = true;
    }
    auto it = steps_.find(record.correlation);
    if (it == steps_.end()) {
      pending_.push_back(std::move(record));
      if (pending_.size() > options_.max_pending) {
        store_->skips().add(reason("step unresolved (pending list full)"));
        ready_.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      return;
    }
    record.event.step = it->second;
  }
  ready_.push_back(std::move(record));
  if (ready_.size() >= options_.append_batch) append_ready_locked();
}

void ActivitySink::resolve_pending_locked() {
  if (!links_changed_ || pending_.empty()) {
    links_changed_ = false;
    return;
  }
  links_changed_ = false;
  std::deque<ActivityRecord> still;
  for (auto& r : pending_) {
    auto it = steps_.find(r.correlation);
    if (it == steps_.end()) {
      still.push_back(std::move(r));
    } else {
      r.event.step = it->second;
      ready_.push_back(std::move(r));
    }
  }
  pending_.swap(still);
}

void ActivitySink::append_ready_locked() {
  if (ready_.empty()) return;
  std::array<Arg, ActivityRecord::kMaxArgs> args;
  size_t i = 0;
  while (i < ready_.size()) {
    const size_t end = std::min(ready_.size(), i + options_.append_batch);
    auto w = store_->writer();
    for (; i < end; ++i) {
      ActivityRecord& r = ready_[i];
      const TrackRef& t = r.track;
      r.event.track =
          t.device ? w.device_track(t.type, t.device_id, t.stream) : w.track(t.pid, t.tid);
      if (t.name != 0) w.track_at(r.event.track).name = t.name;
      const size_t n = r.args(&args);
      w.append(r.event, std::span<const Arg>(args.data(), n));
    }
  }
  events_.fetch_add(ready_.size(), std::memory_order_relaxed);
  ready_.clear();
}

void ActivitySink::commit() {
  std::lock_guard<std::mutex> lock(mu_);
  resolve_pending_locked();
  append_ready_locked();
}

void ActivitySink::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  links_changed_ = true;
  resolve_pending_locked();
  if (!pending_.empty()) {
    store_->skips().add(reason("step unresolved (no launch record)"), pending_.size());
    for (auto& r : pending_) ready_.push_back(std::move(r));
    pending_.clear();
  }
  append_ready_locked();
}

size_t ActivitySink::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace huoyan
