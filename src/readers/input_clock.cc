#include "src/readers/input_clock.h"

#include <utility>

#include <fmt/format.h>

namespace huoyan {

InputClock InputClock::epoch(std::string clock, std::string basis) {
  InputClock c;
  c.kind = Kind::kEpoch;
  c.clock = std::move(clock);
  c.basis = std::move(basis);
  return c;
}

InputClock InputClock::anchored(std::string clock, int64_t to_epoch_ns, std::string basis) {
  InputClock c;
  c.kind = Kind::kAnchored;
  c.clock = std::move(clock);
  c.to_epoch_ns = to_epoch_ns;
  c.basis = std::move(basis);
  return c;
}

InputClock InputClock::unknown(std::string reason) {
  InputClock c;
  c.reason = std::move(reason);
  return c;
}

InputClock InputClock::invalid(std::string clock, std::string reason) {
  InputClock c;
  c.kind = Kind::kInvalid;
  c.clock = std::move(clock);
  c.reason = std::move(reason);
  return c;
}

bool parse_epoch_anchor(std::string_view text, int64_t scale, int64_t* out, std::string* why) {
  const std::string shown(text.substr(0, 40));
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty()) {
    *why = "empty";
    return false;
  }
  if (text.front() == '-') {
    *why = fmt::format("negative ({})", shown);
    return false;
  }
  uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      *why = fmt::format("not an integer ({})", shown);
      return false;
    }
    if (v > (static_cast<uint64_t>(kMaxEpochAnchorNs) - 9) / 10) {
      *why = fmt::format("out of range ({})", shown);
      return false;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0) {
    *why = "zero";
    return false;
  }
  if (v > static_cast<uint64_t>(kMaxEpochAnchorNs / scale)) {
    *why = fmt::format("out of range ({})", shown);
    return false;
  }
  *out = static_cast<int64_t>(v) * scale;
  return true;
}

InputClock agree(const InputClock& a, const InputClock& b) {
  if (b.kind == InputClock::Kind::kUnknown) return a;
  if (a.kind == InputClock::Kind::kUnknown) return b;
  if (a.kind == InputClock::Kind::kInvalid) return a;
  if (b.kind == InputClock::Kind::kInvalid) return b;
  if (a.kind == b.kind && a.to_epoch_ns == b.to_epoch_ns) return a;
  return InputClock::invalid(a.clock,
                             fmt::format("contradictory sync fields: {} vs {}", a.basis, b.basis));
}

std::string clock_report_line(std::string_view rank, std::string_view path, const InputClock& c,
                              int64_t offset_ns) {
  if (!c.aligned()) {
    return fmt::format("rank {} {}: unaligned: {}{} (offset 0 ns)", rank, path,
                       c.clock.empty() ? "" : c.clock + ": ", c.reason);
  }
  return fmt::format("rank {} {}: {}, offset {:+} ns ({})", rank, path, c.clock, offset_ns,
                     c.basis);
}

}  // namespace huoyan
