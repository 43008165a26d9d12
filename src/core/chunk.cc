#include "src/core/chunk.h"

#include <algorithm>
#include <cstring>

namespace huoyan {
namespace {
constexpr size_t kArenaBlock = 256 * 1024;
// Room for an average of 16 args per event before the chunk counts as full.
constexpr uint32_t kArgSlotsPerEvent = 16;
}  // namespace

ArgValue StoredArg::value() const {
  switch (type) {
    case ArgType::kNull: return ArgValue();
    case ArgType::kBool: return ArgValue::Bool(b);
    case ArgType::kInt: return ArgValue::Int(i);
    case ArgType::kUint: return ArgValue::Uint(u);
    case ArgType::kDouble: return ArgValue::Double(d);
    case ArgType::kString: return ArgValue::String({text, len});
    case ArgType::kJson: return ArgValue::Json({text, len});
  }
  return ArgValue();
}

Chunk::Chunk(EventSeq first_seq, uint32_t event_capacity)
    : first_seq_(first_seq),
      capacity_(event_capacity),
      events_(new Event[event_capacity]),
      max_arg_blocks_(std::max<uint32_t>(
          2, (event_capacity * kArgSlotsPerEvent + kArgBlock - 1) / kArgBlock)) {
  arg_blocks_.reset(new std::unique_ptr<StoredArg[]>[max_arg_blocks_]);
  memory_bytes_ = sizeof(Event) * size_t{event_capacity} + sizeof(void*) * max_arg_blocks_;
}

const char* Chunk::copy_text(std::string_view s) {
  if (s.empty()) return "";
  if (s.size() > kArenaBlock / 8) {  // big values get their own block
    arena_.emplace_back(new char[s.size()]);
    memory_bytes_ += s.size();
    std::memcpy(arena_.back().get(), s.data(), s.size());
    const char* p = arena_.back().get();
    if (arena_.size() >= 2) std::swap(arena_[arena_.size() - 1], arena_[arena_.size() - 2]);
    return p;
  }
  if (arena_.empty() || arena_used_ + s.size() > arena_block_size_) {
    arena_.emplace_back(new char[kArenaBlock]);
    arena_block_size_ = kArenaBlock;
    arena_used_ = 0;
    memory_bytes_ += kArenaBlock;
  }
  char* dst = arena_.back().get() + arena_used_;
  std::memcpy(dst, s.data(), s.size());
  arena_used_ += s.size();
  return dst;
}

bool Chunk::append(const Event& e, std::span<const Arg> args, bool* truncated) {
  if (pending_ >= capacity_) return false;
  size_t n = args.size();
  if (n > kArgBlock) {
    n = kArgBlock;
    if (truncated) *truncated = true;
  }
  Event& out = events_[pending_];
  out = e;
  out.args_count = static_cast<uint16_t>(n);
  out.args_begin = 0;
  if (n > 0) {
    // An event's args are contiguous: skip to the next block when they would straddle one.
    uint32_t begin = args_used_;
    if (begin % kArgBlock + n > kArgBlock) begin = (begin / kArgBlock + 1) * kArgBlock;
    const uint32_t block = begin / kArgBlock;
    if (block >= max_arg_blocks_) return false;  // argument slots exhausted: chunk is full
    if (!arg_blocks_[block]) {
      arg_blocks_[block].reset(new StoredArg[kArgBlock]);
      memory_bytes_ += sizeof(StoredArg) * kArgBlock;
    }
    StoredArg* dst = arg_blocks_[block].get() + begin % kArgBlock;
    for (size_t k = 0; k < n; ++k) {
      const Arg& a = args[k];
      StoredArg& s = dst[k];
      s.key = a.key;
      s.type = a.value.type;
      s.len = 0;
      switch (a.value.type) {
        case ArgType::kNull: s.i = 0; break;
        case ArgType::kBool: s.i = 0; s.b = a.value.b; break;
        case ArgType::kInt: s.i = a.value.i; break;
        case ArgType::kUint: s.u = a.value.u; break;
        case ArgType::kDouble: s.d = a.value.d; break;
        case ArgType::kString:
        case ArgType::kJson: {
          const size_t len = std::min<size_t>(a.value.s.size(), UINT32_MAX);
          s.text = copy_text(a.value.s.substr(0, len));
          s.len = static_cast<uint32_t>(len);
          break;
        }
      }
    }
    out.args_begin = begin;
    args_used_ = begin + static_cast<uint32_t>(n);
  }
  ++pending_;
  return true;
}

}  // namespace huoyan
