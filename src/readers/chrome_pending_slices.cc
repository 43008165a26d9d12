#include "src/readers/chrome_pending_slices.h"

#include <algorithm>
#include <cstring>

#include "src/readers/chrome_event_decoder.h"

namespace huoyan {
namespace {
constexpr size_t kArenaBlock = 64 * 1024;
}  // namespace

std::string_view PendingSlices::copy_text(std::string_view s) {
  if (s.empty()) return {};
  if (s.size() > kArenaBlock / 4) {
    arena_.emplace_back(new char[s.size()]);
    std::memcpy(arena_.back().get(), s.data(), s.size());
    return {arena_.back().get(), s.size()};
  }
  if (block_ == nullptr || block_used_ + s.size() > kArenaBlock) {
    arena_.emplace_back(new char[kArenaBlock]);
    block_ = arena_.back().get();
    block_used_ = 0;
  }
  char* dst = block_ + block_used_;
  std::memcpy(dst, s.data(), s.size());
  block_used_ += s.size();
  return {dst, s.size()};
}

void PendingSlices::add(const Event& e, bool begin, std::span<const Arg> args) {
  Slice s;
  s.event = e;
  s.begin = begin;
  s.event.args_begin = static_cast<uint32_t>(args_.size());
  s.event.args_count = static_cast<uint16_t>(std::min<size_t>(args.size(), 0xFFFF));
  for (size_t i = 0; i < s.event.args_count; ++i) {
    Arg a = args[i];
    if (a.value.type == ArgType::kString || a.value.type == ArgType::kJson) {
      a.value.s = copy_text(a.value.s);
    }
    args_.push_back(a);
  }
  by_track_[e.track].push_back(s);
  ++count_;
}

void PendingSlices::pair(int64_t trace_end, const TraceStore& store, const EmitFn& emit,
                         const CountFn& count) {
  std::vector<TrackId> tracks;
  tracks.reserve(by_track_.size());
  for (const auto& [id, v] : by_track_) tracks.push_back(id);
  std::sort(tracks.begin(), tracks.end());

  std::vector<Arg> merged;
  std::vector<size_t> stack;
  struct Span {
    size_t begin;
    size_t end;  // SIZE_MAX: unclosed
  };
  std::vector<Span> spans;
  for (const TrackId track : tracks) {
    std::vector<Slice>& v = by_track_[track];
    std::stable_sort(v.begin(), v.end(),
                     [](const Slice& a, const Slice& b) { return a.event.ts < b.event.ts; });
    stack.clear();
    spans.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].begin) {
        stack.push_back(i);
      } else if (stack.empty()) {
        count("unmatched E", true);
      } else {
        spans.push_back({stack.back(), i});
        stack.pop_back();
      }
    }
    for (const size_t b : stack) spans.push_back({b, SIZE_MAX});
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });

    for (const Span& s : spans) {
      const Event& b = v[s.begin].event;
      Event e = b;
      merged.assign(args_.begin() + b.args_begin, args_.begin() + b.args_begin + b.args_count);
      if (s.end == SIZE_MAX) {
        e.dur = std::max<int64_t>(0, trace_end - b.ts);
        e.flags |= event_flags::kUnclosed;
        count("unclosed B", false);
      } else {
        const Event& end = v[s.end].event;
        e.dur = end.ts - b.ts;
        if (e.name == 0) e.name = end.name;
        if (e.cat == 0) e.cat = end.cat;
        if (e.id == 0) e.id = end.id;
        if (e.step == 0) e.step = end.step;
        if (e.request == 0) e.request = end.request;
        for (uint32_t k = 0; k < end.args_count; ++k) {
          const Arg& a = args_[end.args_begin + k];
          const bool known = std::any_of(merged.begin(), merged.begin() + b.args_count,
                                         [&](const Arg& m) { return m.key == a.key; });
          if (!known) merged.push_back(a);
        }
      }
      e.kind = kind_from_category(store.str(e.cat), store.str(e.name));
      e.args_begin = 0;
      e.args_count = 0;
      emit(e, merged);
    }
    std::vector<Slice>().swap(v);
  }
  by_track_.clear();
  args_.clear();
  args_.shrink_to_fit();
  arena_.clear();
  block_ = nullptr;
  block_used_ = 0;
  count_ = 0;
}

}  // namespace huoyan
