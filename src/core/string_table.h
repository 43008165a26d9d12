// Interned strings shared by every event of a store.
//
// Contract: ids are dense, 0 is the empty string, and an id stays valid (with the same text) for the
// lifetime of the table — strings are never evicted, which is fine because names (kernels, phases,
// categories, request ids) repeat. Interning takes a mutex; lookup of an id is lock-free and may run
// concurrently with interning because storage never moves (fixed-size blocks, fixed block table).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace huoyan {

using StringId = uint32_t;

class StringTable {
 public:
  StringTable();
  ~StringTable();
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  // Returns the id of `s`, adding it if new. Thread-safe.
  StringId intern(std::string_view s);
  // Returns the id of `s` if present. Thread-safe.
  bool find(std::string_view s, StringId* id) const;
  // Text of an id returned by intern(). Lock-free; undefined for ids never returned.
  std::string_view str(StringId id) const {
    return blocks_[id >> kBlockBits].load(std::memory_order_acquire)[id & kBlockMask];
  }
  // Number of ids handed out so far (all ids < size() are valid).
  size_t size() const { return size_.load(std::memory_order_acquire); }
  // Bytes held by string text and tables (for status reporting).
  size_t memory_bytes() const;

 private:
  static constexpr int kBlockBits = 12;
  static constexpr uint32_t kBlockMask = (1u << kBlockBits) - 1;
  static constexpr size_t kMaxBlocks = 1u << (32 - kBlockBits);
  static constexpr size_t kArenaBlock = 1 << 16;

  std::string_view copy_text(std::string_view s);

  mutable std::mutex mu_;
  std::unique_ptr<std::atomic<std::string_view*>[]> blocks_;  // kMaxBlocks entries
  std::atomic<size_t> size_{0};
  std::unordered_map<std::string_view, StringId> index_;  // keys point into arena_
  std::vector<std::unique_ptr<char[]>> arena_;
  size_t arena_used_ = kArenaBlock;
  size_t text_bytes_ = 0;
};

}  // namespace huoyan
