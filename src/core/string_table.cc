#include "src/core/string_table.h"

#include <cstring>

namespace huoyan {

StringTable::StringTable() : blocks_(new std::atomic<std::string_view*>[kMaxBlocks]) {
  for (size_t i = 0; i < kMaxBlocks; ++i) blocks_[i].store(nullptr, std::memory_order_relaxed);
  intern("");
}

StringTable::~StringTable() {
  for (size_t i = 0; i < kMaxBlocks; ++i) delete[] blocks_[i].load(std::memory_order_relaxed);
}

std::string_view StringTable::copy_text(std::string_view s) {
  if (s.empty()) return {};
  text_bytes_ += s.size();
  if (s.size() > kArenaBlock / 4) {  // large strings get a block of their own
    arena_.emplace_back(new char[s.size()]);
    std::memcpy(arena_.back().get(), s.data(), s.size());
    std::string_view out(arena_.back().get(), s.size());
    // Keep the current small-string block last so arena_used_ stays meaningful.
    if (arena_.size() >= 2) std::swap(arena_[arena_.size() - 1], arena_[arena_.size() - 2]);
    return out;
  }
  if (arena_used_ + s.size() > kArenaBlock) {
    arena_.emplace_back(new char[kArenaBlock]);
    arena_used_ = 0;
  }
  char* dst = arena_.back().get() + arena_used_;
  std::memcpy(dst, s.data(), s.size());
  arena_used_ += s.size();
  return {dst, s.size()};
}

StringId StringTable::intern(std::string_view s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  const size_t id = size_.load(std::memory_order_relaxed);
  const size_t block = id >> kBlockBits;
  if (block >= kMaxBlocks) return 0;  // 4 G strings: unreachable in practice
  std::string_view* b = blocks_[block].load(std::memory_order_relaxed);
  if (b == nullptr) {
    b = new std::string_view[size_t{1} << kBlockBits];
    blocks_[block].store(b, std::memory_order_release);
  }
  std::string_view text = copy_text(s);
  b[id & kBlockMask] = text;
  index_.emplace(text, static_cast<StringId>(id));
  size_.store(id + 1, std::memory_order_release);
  return static_cast<StringId>(id);
}

bool StringTable::find(std::string_view s, StringId* id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(s);
  if (it == index_.end()) return false;
  *id = it->second;
  return true;
}

size_t StringTable::memory_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return text_bytes_ + index_.size() * (sizeof(std::string_view) * 2 + 16);
}

}  // namespace huoyan
