// Per-thread recording buffers and the process-wide registry of them.
//
// Each thread that records owns one ThreadBuffer: a single-producer single-consumer ring of
// 32-byte slots. The owning thread is the only producer; the drain thread of the global
// profiler is the only consumer (HostCollector serializes consumers). The producer never blocks
// and never allocates after its first record: when a record does not fit, it is dropped and
// counted.
//
// Lifetime: buffers are shared between the registry, the thread (through a thread-local) and
// the consumer. When a thread exits, its buffer is marked exited and stays registered until the
// consumer has drained it, so no event is lost to a thread exit.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/recording/record.h"

namespace huoyan::recording {

class ThreadBuffer {
 public:
  ThreadBuffer(int64_t pid, int64_t tid, std::string name);
  ThreadBuffer(const ThreadBuffer&) = delete;
  ThreadBuffer& operator=(const ThreadBuffer&) = delete;

  // --- producer: the owning thread only -------------------------------------------------

  // Reserves n consecutive slots (a record) and returns the position of the first. Returns
  // false, counting one dropped record, when they do not fit.
  bool reserve(uint32_t n, uint64_t* pos) {
    const uint64_t head = head_local_;
    if (head + n - cached_tail_ > capacity_ && !reserve_slow(n)) return false;
    *pos = head;
    head_local_ = head + n;
    return true;
  }
  // Counts a record that was not even tried (longer than max_record_slots()).
  void count_drop() {
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Allocates the ring if this is the thread's first record.
  void ensure_ring() {
    if (ring_bytes_ == nullptr) allocate_ring();
  }
  // Makes every reserved record visible to the consumer.
  void publish() { head_.store(head_local_, std::memory_order_release); }
  unsigned char* ring() { return ring_bytes_; }
  size_t ring_size() const { return capacity_ * kSlotBytes; }
  void write_header(uint64_t pos, const RecordHeader& h) {
    std::memcpy(ring_bytes_ + (pos & mask_) * kSlotBytes, &h, sizeof(h));
  }
  // The largest record a producer may write (longer ones are dropped).
  uint32_t max_record_slots() const { return max_record_slots_; }

  // Scratch stack of open scopes: their attributes / request ids, copied when the scope opens
  // (the caller's values may be temporaries) and moved into the record when it ends.
  static constexpr size_t kScratchBytes = 4096;
  unsigned char* scratch() { return scratch_; }
  uint32_t scratch_top = 0;

  // Called once by the owning thread as it exits.
  void mark_exited() { exited_.store(true, std::memory_order_release); }

  // --- consumer ---------------------------------------------------------------------------

  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_relaxed); }
  // Gives slots before `pos` back to the producer.
  void release(uint64_t pos) { tail_.store(pos, std::memory_order_release); }
  const RecordHeader& header(uint64_t pos) const {
    return *reinterpret_cast<const RecordHeader*>(ring_bytes_ + (pos & mask_) * kSlotBytes);
  }
  // Copies the payload of the record at `pos` (n slots after the header) into `out`.
  void copy_payload(uint64_t pos, uint32_t slots, std::vector<unsigned char>* out) const;
  void add_recorded(uint64_t n) {
    recorded_.store(recorded_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // --- any thread -------------------------------------------------------------------------

  int64_t pid() const { return pid_; }
  int64_t tid() const { return tid_; }
  bool exited() const { return exited_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t recorded() const { return recorded_.load(std::memory_order_relaxed); }
  size_t memory_bytes() const {
    return allocated_slots_.load(std::memory_order_relaxed) * kSlotBytes + sizeof(*this);
  }
  std::string name() const;
  uint32_t name_version() const { return name_version_.load(std::memory_order_acquire); }
  void set_name(std::string_view name);

 private:
  bool reserve_slow(uint32_t n);
  void allocate_ring();

  const int64_t pid_;
  const int64_t tid_;

  // Producer-owned. The ring is allocated by the producer at its first record (so a thread
  // that only names itself costs no ring), before the first publish makes it visible.
  alignas(64) uint64_t head_local_ = 0;
  uint64_t cached_tail_ = 0;
  uint64_t capacity_ = 0;  // slots; a power of two
  uint64_t mask_ = 0;
  uint32_t max_record_slots_ = 0;
  unsigned char* ring_bytes_ = nullptr;
  struct alignas(kSlotBytes) Slot {
    unsigned char bytes[kSlotBytes];
  };
  std::unique_ptr<Slot[]> ring_storage_;
  std::atomic<uint64_t> allocated_slots_{0};  // capacity_, readable by any thread
  unsigned char scratch_[kScratchBytes];
  std::atomic<uint64_t> dropped_{0};  // written by the producer only

  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<uint64_t> recorded_{0};  // written by the consumer only
  std::atomic<bool> exited_{false};

  mutable std::mutex name_mu_;
  std::string name_;
  std::atomic<uint32_t> name_version_{1};
};

// Process-wide: every thread's buffer, the ring size for new buffers, and which consumer may
// drain. Never destroyed (threads may record during static destruction).
class Registry {
 public:
  static Registry& get();

  // Registers the buffer of a thread (created by that thread at its first use: recorder.cc).
  void add(std::shared_ptr<ThreadBuffer> buffer);

  // Ring slots of buffers whose first record comes from now on.
  void set_buffer_slots(size_t slots) { buffer_slots_.store(slots, std::memory_order_relaxed); }
  size_t buffer_slots() const { return buffer_slots_.load(std::memory_order_relaxed); }

  // One consumer at a time. Returns false if another owner is attached.
  bool attach_consumer(const void* owner);
  void detach_consumer(const void* owner);

  std::vector<std::shared_ptr<ThreadBuffer>> buffers() const;
  // Drops a buffer of an exited thread that the consumer has drained completely.
  void retire(const std::shared_ptr<ThreadBuffer>& buffer);

  // Records dropped by the threads retired so far.
  uint64_t retired_dropped() const;
  // The last few retired threads (their buffers are freed; these are copies of their stats).
  struct Retired {
    int64_t tid;
    std::string name;
    uint64_t recorded;
    uint64_t dropped;
  };
  std::vector<Retired> recent_retired() const;

  // Called by the exiting thread.
  void thread_exited(const std::shared_ptr<ThreadBuffer>& buffer);

 private:
  Registry() = default;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  std::deque<Retired> retired_;
  uint64_t retired_dropped_ = 0;
  const void* consumer_ = nullptr;
  std::atomic<size_t> buffer_slots_{size_t{1} << 15};
};

// Call-site names (HUOYAN_SCOPE("…")), registered once per site, never removed.
class SiteRegistry {
 public:
  static SiteRegistry& get();
  uint32_t add(std::string_view name);  // deduplicated by text; ids start at 1
  std::string name(uint32_t id) const;

 private:
  SiteRegistry() = default;
  mutable std::mutex mu_;
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, uint32_t> index_;  // keys point into names_
};

}  // namespace huoyan::recording
