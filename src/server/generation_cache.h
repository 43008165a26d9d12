// Caches of values computed from a whole store (the request list, the timeline index, the
// flame graph of everything), rebuilt when the store changes.
//
// A store's generation — events appended and dropped, requests and steps held — changes with
// every append, eviction, new step or new request. A request mark that only updates an
// existing request (finish time, tokens) without new events is not seen until the next append;
// a live profiler appends continuously, a file-backed store never changes after loading.
//
// Threading: get() from any thread. One build runs at a time; with a refresh interval,
// callers arriving during a rebuild get the previous value instead of waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "src/core/trace_store.h"

namespace huoyan::server {

struct StoreGeneration {
  uint64_t appended = 0;
  uint64_t dropped = 0;
  uint64_t requests = 0;
  uint64_t steps = 0;
  bool operator==(const StoreGeneration&) const = default;
};

inline StoreGeneration generation_of(const TraceStore& store) {
  return {store.appended(), store.dropped(), store.request_count(), store.step_count()};
}

template <typename T>
class GenerationCache {
 public:
  using Builder = std::function<std::shared_ptr<const T>()>;

  // The cached value when the store has not changed since it was built, or when it is younger
  // than `refresh`; else the result of build(), which must read the store after this call
  // (so a value is never older than the generation it is filed under).
  std::shared_ptr<const T> get(const TraceStore& store, std::chrono::milliseconds refresh,
                               const Builder& build) {
    const auto now = std::chrono::steady_clock::now();
    const StoreGeneration gen = generation_of(store);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (value_ && (gen == gen_ || now - built_at_ < refresh)) return value_;
    }
    std::unique_lock<std::mutex> building(build_mu_, std::try_to_lock);
    if (!building.owns_lock()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (value_ && refresh.count() > 0) return value_;  // stale while another rebuilds
      }
      building.lock();
      std::lock_guard<std::mutex> lock(mu_);
      if (value_ && gen_ == generation_of(store)) return value_;  // the other build is fresh
    }
    const StoreGeneration build_gen = generation_of(store);
    std::shared_ptr<const T> v = build();
    std::lock_guard<std::mutex> lock(mu_);
    value_ = v;
    gen_ = build_gen;
    built_at_ = std::chrono::steady_clock::now();
    return v;
  }

 private:
  std::mutex build_mu_;  // held while building
  std::mutex mu_;        // guards the fields below
  std::shared_ptr<const T> value_;
  StoreGeneration gen_;
  std::chrono::steady_clock::time_point built_at_;
};

// Encoded responses of whole-store queries, by canonical key ("flame|shared|NPU 0|20000");
// the least recently used key is dropped beyond `capacity` keys.
class ResponseCache {
 public:
  explicit ResponseCache(size_t capacity = 16) : capacity_(capacity) {}

  std::shared_ptr<const std::string> get(const std::string& key, const TraceStore& store,
                                         std::chrono::milliseconds refresh,
                                         const std::function<std::string()>& build) {
    std::shared_ptr<GenerationCache<std::string>> cache;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        if (entries_.size() >= capacity_) {
          entries_.erase(lru_.back());
          lru_.pop_back();
        }
        lru_.push_front(key);
        it =
            entries_
                .emplace(key, Entry{std::make_shared<GenerationCache<std::string>>(), lru_.begin()})
                .first;
      } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
      }
      cache = it->second.cache;
    }
    return cache->get(store, refresh, [&] { return std::make_shared<const std::string>(build()); });
  }

 private:
  struct Entry {
    std::shared_ptr<GenerationCache<std::string>> cache;
    std::list<std::string>::iterator lru;
  };
  size_t capacity_;
  std::mutex mu_;
  std::list<std::string> lru_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace huoyan::server
