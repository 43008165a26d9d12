// Fixed-capacity block of events and their arguments, the unit of storage and eviction in a
// TraceStore.
//
// Threading: one writer appends; any number of readers read the published prefix concurrently
// (size() uses acquire, publish() release). Storage never moves once written: events live in one
// array allocated up front, argument records in fixed blocks reached through a block table that
// is allocated up front, and argument text in an arena whose blocks are never freed before the
// chunk. A chunk is shared (shared_ptr) between the store and snapshots, so eviction never frees
// memory a reader still uses.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "src/core/event.h"

namespace huoyan {

// An argument as stored: 24 bytes, text pointing into the chunk's arena.
struct StoredArg {
  StringId key = 0;
  ArgType type = ArgType::kNull;
  uint32_t len = 0;  // text length for kString/kJson
  union {
    int64_t i;
    uint64_t u;
    double d;
    bool b;
    const char* text;
  };
  StoredArg() : i(0) {}
  ArgValue value() const;
};
static_assert(sizeof(StoredArg) == 24);

class Chunk {
 public:
  static constexpr uint32_t kArgBlock = 4096;  // also the most args one event may keep

  Chunk(EventSeq first_seq, uint32_t event_capacity);
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  EventSeq first_seq() const { return first_seq_; }
  uint32_t capacity() const { return capacity_; }
  // Published events; safe from any thread.
  uint32_t size() const { return size_.load(std::memory_order_acquire); }
  const Event& event(uint32_t i) const { return events_[i]; }
  std::span<const StoredArg> args(const Event& e) const {
    if (e.args_count == 0) return {};
    return {arg_blocks_[e.args_begin / kArgBlock].get() + e.args_begin % kArgBlock, e.args_count};
  }

  // Writer side. Returns false when the chunk is full (events or argument slots); the caller
  // then seals it and starts a new one. Argument text is copied; more than kArgBlock args are
  // truncated (reported through *truncated).
  bool append(const Event& e, std::span<const Arg> args, bool* truncated);
  // Makes everything appended so far visible to readers.
  void publish() { size_.store(pending_, std::memory_order_release); }
  bool full() const { return pending_ >= capacity_; }
  size_t memory_bytes() const { return memory_bytes_; }

 private:
  const char* copy_text(std::string_view s);

  const EventSeq first_seq_;
  const uint32_t capacity_;
  std::atomic<uint32_t> size_{0};
  uint32_t pending_ = 0;
  std::unique_ptr<Event[]> events_;
  std::unique_ptr<std::unique_ptr<StoredArg[]>[]> arg_blocks_;
  uint32_t max_arg_blocks_;
  uint32_t args_used_ = 0;  // next free arg slot index
  std::vector<std::unique_ptr<char[]>> arena_;
  size_t arena_used_ = 0;
  size_t arena_block_size_ = 0;
  size_t memory_bytes_ = 0;
};

}  // namespace huoyan
