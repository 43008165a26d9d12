// A reader-side cache in front of TraceStore::intern(): the store's intern takes a mutex and
// hashes the whole string, which is most of the cost of decoding an event whose name, category
// and dozen arg keys repeat from event to event. The first level is direct-mapped on a cheap
// hash (length and three 8-byte samples, so a 300-byte kernel name costs one memcmp); misses
// fall back to a full hash map, then to the store. Entries point at the store's own copies of
// the strings, which never move, so the cache holds no text.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "src/core/trace_store.h"

namespace huoyan {

class InternCache {
 public:
  explicit InternCache(TraceStore& store) : store_(store), slots_(new Slot[kSlots]()) {}

  StringId get(std::string_view s) {
    if (s.empty()) return 0;
    const uint64_t h = quick_hash(s);
    Slot& slot = slots_[h & (kSlots - 1)];
    if (slot.hash == h && slot.len == s.size() && std::memcmp(slot.text, s.data(), s.size()) == 0) {
      return slot.id;
    }
    const StringId id = slow(s);
    const std::string_view kept = store_.str(id);
    slot = Slot{kept.data(), static_cast<uint32_t>(kept.size()), id, h};
    return id;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 14;
  static constexpr size_t kMaxMapEntries = size_t{1} << 20;

  struct Slot {
    const char* text;
    uint32_t len;
    StringId id;
    uint64_t hash;
  };

  static uint64_t load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint64_t quick_hash(std::string_view s) {
    uint64_t h = s.size() * 0x9E3779B97F4A7C15ull;
    if (s.size() >= 8) {
      h ^= load8(s.data());
      h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
      h ^= load8(s.data() + s.size() - 8);
      h = (h ^ (h >> 31)) * 0x94D049BB133111EBull;
      h ^= load8(s.data() + s.size() / 2 - 4);
    } else {
      uint64_t v = 0;
      std::memcpy(&v, s.data(), s.size());
      h ^= v;
    }
    h = (h ^ (h >> 32)) * 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
  }

  StringId slow(std::string_view s) {
    auto it = map_.find(s);
    if (it != map_.end()) return it->second;
    const StringId id = store_.intern(s);
    if (map_.size() >= kMaxMapEntries) map_.clear();
    map_.emplace(store_.str(id), id);  // the key points at the store's stable copy
    return id;
  }

  TraceStore& store_;
  std::unique_ptr<Slot[]> slots_;
  std::unordered_map<std::string_view, StringId> map_;
};

}  // namespace huoyan
