#include "src/recording/thread_buffer.h"

#include <algorithm>
#include <bit>

namespace huoyan::recording {

// ---------------------------------------------------------------------------------------------
// ThreadBuffer

ThreadBuffer::ThreadBuffer(int64_t pid, int64_t tid, std::string name)
    : pid_(pid), tid_(tid), name_(std::move(name)) {}

void ThreadBuffer::allocate_ring() {
  const size_t slots = std::bit_ceil(std::max<size_t>(Registry::get().buffer_slots(), 16));
  ring_storage_.reset(new Slot[slots]);
  ring_bytes_ = ring_storage_[0].bytes;
  capacity_ = slots;
  mask_ = slots - 1;
  // A record may take up to a quarter of the ring (so one long record cannot starve the short
  // ones) and at most 4 KiB.
  max_record_slots_ = static_cast<uint32_t>(std::min<size_t>(slots / 4, 4096 / kSlotBytes));
  allocated_slots_.store(slots, std::memory_order_relaxed);
}

bool ThreadBuffer::reserve_slow(uint32_t n) {
  if (ring_bytes_ == nullptr) {
    allocate_ring();
    if (head_local_ + n - cached_tail_ <= capacity_) return true;
  }
  if (n <= capacity_) {
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (head_local_ + n - cached_tail_ <= capacity_) return true;
  }
  dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return false;
}

void ThreadBuffer::copy_payload(uint64_t pos, uint32_t slots,
                                std::vector<unsigned char>* out) const {
  out->resize(size_t{slots} * kSlotBytes);
  for (uint32_t i = 0; i < slots; ++i) {
    std::memcpy(out->data() + size_t{i} * kSlotBytes,
                ring_bytes_ + ((pos + 1 + i) & mask_) * kSlotBytes, kSlotBytes);
  }
}

std::string ThreadBuffer::name() const {
  std::lock_guard<std::mutex> lock(name_mu_);
  return name_;
}

void ThreadBuffer::set_name(std::string_view name) {
  std::lock_guard<std::mutex> lock(name_mu_);
  name_.assign(name);
  name_version_.fetch_add(1, std::memory_order_release);
}

// ---------------------------------------------------------------------------------------------
// Registry

Registry& Registry::get() {
  static Registry* registry = new Registry();  // leaked on purpose: see the class comment
  return *registry;
}

bool Registry::attach_consumer(const void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (consumer_ != nullptr && consumer_ != owner) return false;
  consumer_ = owner;
  return true;
}

void Registry::detach_consumer(const void* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  if (consumer_ == owner) consumer_ = nullptr;
}

void Registry::add(std::shared_ptr<ThreadBuffer> buffer) {
  std::lock_guard<std::mutex> lock(mu_);
  buffers_.push_back(std::move(buffer));
}

std::vector<std::shared_ptr<ThreadBuffer>> Registry::buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffers_;
}

void Registry::retire(const std::shared_ptr<ThreadBuffer>& buffer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(buffers_.begin(), buffers_.end(), buffer);
  if (it == buffers_.end()) return;
  buffers_.erase(it);
  retired_dropped_ += buffer->dropped();
  retired_.push_back(Retired{buffer->tid(), buffer->name(), buffer->recorded(), buffer->dropped()});
  while (retired_.size() > 16) retired_.pop_front();
}

void Registry::thread_exited(const std::shared_ptr<ThreadBuffer>& buffer) {
  buffer->mark_exited();
  bool no_consumer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    no_consumer = consumer_ == nullptr;
  }
  // Without a consumer nothing would ever drain it, and whatever it holds is stale (a new
  // consumer skips what was recorded before it attached).
  if (no_consumer) retire(buffer);
}

uint64_t Registry::retired_dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retired_dropped_;
}

std::vector<Registry::Retired> Registry::recent_retired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {retired_.begin(), retired_.end()};
}

// ---------------------------------------------------------------------------------------------
// SiteRegistry

SiteRegistry& SiteRegistry::get() {
  static SiteRegistry* sites = new SiteRegistry();  // leaked: sites outlive static destruction
  return *sites;
}

uint32_t SiteRegistry::add(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  names_.emplace_back(name);
  const auto id = static_cast<uint32_t>(names_.size());
  index_.emplace(names_.back(), id);
  return id;
}

std::string SiteRegistry::name(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return id >= 1 && id <= names_.size() ? names_[id - 1] : std::string();
}

}  // namespace huoyan::recording
