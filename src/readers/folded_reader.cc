#include "src/readers/folded_reader.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "src/io/input.h"
#include "src/readers/json_repair.h"

namespace huoyan {
namespace {

enum class Encoding { kUnknown, kUtf8, kUtf16Le, kUtf16Be };

// Turns the input bytes into UTF-8, block by block (a code unit or surrogate pair may straddle
// two blocks). Unpaired surrogates become U+FFFD.
class Decoder {
 public:
  // Appends the UTF-8 of `in` to `out`. Call with at_end once the input is over.
  void feed(std::string_view in, bool at_end, std::string* out) {
    if (enc_ == Encoding::kUnknown) {
      pending_.append(in);
      if (pending_.size() < 3 && !at_end) return;
      std::string_view p = pending_;
      if (p.starts_with("\xEF\xBB\xBF")) {
        enc_ = Encoding::kUtf8;
        p.remove_prefix(3);
      } else if (p.starts_with("\xFF\xFE")) {
        enc_ = Encoding::kUtf16Le;
        p.remove_prefix(2);
      } else if (p.starts_with("\xFE\xFF")) {
        enc_ = Encoding::kUtf16Be;
        p.remove_prefix(2);
      } else {
        enc_ = Encoding::kUtf8;
      }
      std::string rest(p);
      pending_.clear();
      feed(rest, at_end, out);
      return;
    }
    if (enc_ == Encoding::kUtf8) {
      out->append(in);
      return;
    }
    pending_.append(in);
    size_t i = 0;
    for (; i + 2 <= pending_.size(); i += 2) {
      const auto b0 = static_cast<unsigned char>(pending_[i]);
      const auto b1 = static_cast<unsigned char>(pending_[i + 1]);
      const uint32_t u = enc_ == Encoding::kUtf16Le ? (b1 << 8 | b0) : (b0 << 8 | b1);
      if (high_ != 0) {
        if (u >= 0xDC00 && u <= 0xDFFF) {
          put(0x10000 + ((high_ - 0xD800) << 10) + (u - 0xDC00), out);
          high_ = 0;
          continue;
        }
        put(0xFFFD, out);
        high_ = 0;
      }
      if (u >= 0xD800 && u <= 0xDBFF) {
        high_ = u;
      } else if (u >= 0xDC00 && u <= 0xDFFF) {
        put(0xFFFD, out);
      } else {
        put(u, out);
      }
    }
    pending_.erase(0, i);
    if (at_end && (high_ != 0 || !pending_.empty())) {
      put(0xFFFD, out);
      high_ = 0;
      pending_.clear();
    }
  }

 private:
  static void put(uint32_t c, std::string* out) {
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | c >> 6));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | c >> 12));
      out->push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | c >> 18));
      out->push_back(static_cast<char>(0x80 | (c >> 12 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c >> 6 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }

  Encoding enc_ = Encoding::kUnknown;
  std::string pending_;
  uint32_t high_ = 0;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// `<stack> <count>`: the count is the digits after the last blank. False for anything else.
bool parse_line(std::string_view line, std::string_view* stack, uint64_t* count) {
  if (line.find('\0') != std::string_view::npos) return false;
  const size_t sp = line.find_last_of(" \t");
  if (sp == std::string_view::npos) return false;
  const std::string_view digits = line.substr(sp + 1);
  if (digits.empty() || digits.size() > 19) return false;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *stack = trim(line.substr(0, sp));
  if (stack->find_first_not_of(';') == std::string_view::npos) return false;
  *count = n;
  return true;
}

class Builder {
 public:
  Builder(TraceStore& store, const ReadOptions& options, std::string_view source)
      : store_(store), w_(store.writer()) {
    const std::string name = std::filesystem::path(std::string(source)).filename().string();
    track_ = w_.track(options.pid_offset + 1, 1);
    Track& t = w_.track_at(track_);
    if (t.name == 0) t.name = store.intern("samples");
    Process& p = w_.process_at(t.process);
    if (p.name == 0) p.name = store.intern(name.empty() ? "folded stacks" : name);
    cat_ = store.intern("sample");
    w_.set_metadata("folded_sample_ns", std::to_string(FoldedReader::kSampleNs));
  }

  // False when the line's time does not fit (the line is then invalid).
  bool line(std::string_view stack, uint64_t count) {
    constexpr uint64_t kMaxCount =
        static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / FoldedReader::kSampleNs);
    if (count > kMaxCount || static_cast<int64_t>(count) * FoldedReader::kSampleNs >
                                 std::numeric_limits<int64_t>::max() - now_) {
      return false;
    }
    if (count == 0) return true;  // a valid line without samples: nothing to lay out
    frames_.clear();
    // Empty frames ("a;;b", "a;b;") are kept: they are part of what makes stacks distinct.
    size_t i = 0;
    while (i <= stack.size()) {
      size_t j = stack.find(';', i);
      if (j == std::string_view::npos) j = stack.size();
      frames_.push_back(store_.intern(stack.substr(i, j - i)));
      i = j + 1;
    }
    size_t common = 0;
    while (common < open_.size() && common < frames_.size() &&
           open_[common].name == frames_[common]) {
      ++common;
    }
    close_to(common);
    for (size_t k = common; k < frames_.size(); ++k) open_.push_back({frames_[k], now_});
    now_ += static_cast<int64_t>(count) * FoldedReader::kSampleNs;
    return true;
  }

  void finish() { close_to(0); }
  uint64_t events() const { return events_; }

 private:
  struct Open {
    StringId name;
    int64_t start;
  };

  // Appends the spans closed now outermost first: a parent and a child that close together may
  // cover the same time, and then only the order tells which encloses the other.
  void close_to(size_t depth) {
    for (size_t i = depth; i < open_.size(); ++i) {
      const Open& o = open_[i];
      Event e;
      e.kind = EventKind::kHost;
      e.ts = o.start;
      e.dur = now_ - o.start;
      e.name = o.name;
      e.cat = cat_;
      e.track = track_;
      w_.append(e);
      ++events_;
    }
    open_.resize(std::min(depth, open_.size()));
  }

  TraceStore& store_;
  TraceStore::Writer w_;
  TrackId track_ = 0;
  StringId cat_ = 0;
  int64_t now_ = 0;
  uint64_t events_ = 0;
  std::vector<Open> open_;
  std::vector<StringId> frames_;
};

}  // namespace

Result<ReadStats> FoldedReader::read(ByteSource& src, TraceStore& store,
                                     const ReadOptions& options) {
  Builder builder(store, options, src.name());
  Decoder decoder;
  ReadStats stats;
  std::vector<char> block(1 << 20);
  std::string text;  // decoded bytes not yet split into lines
  uint64_t line_no = 0, valid = 0, invalid = 0, first_invalid = 0, repaired = 0;
  bool skipping_long = false;  // inside a line longer than kMaxLineBytes

  auto on_line = [&](std::string_view raw) {
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty()) return;
    std::string_view stack;
    uint64_t count = 0;
    if (parse_line(line, &stack, &count) && builder.line(stack, count)) {
      ++valid;
      return;
    }
    ++invalid;
    if (first_invalid == 0) first_invalid = line_no;
  };

  bool at_end = false;
  while (!at_end) {
    auto r = src.read(block.data(), block.size());
    if (!r.ok()) {
      if (valid == 0) return r.status();
      store.skips().add("folded: input cut short by a read error");
      at_end = true;
    } else {
      at_end = *r == 0;
      stats.bytes += *r;
      decoder.feed({block.data(), *r}, at_end, &text);
    }
    size_t start = 0;
    for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
      if (skipping_long) {
        skipping_long = false;
      } else {
        repaired += repair_utf8(text.data() + start, nl - start);
        on_line(std::string_view(text).substr(start, nl - start));
      }
      start = nl + 1;
    }
    text.erase(0, start);
    if (text.size() > kMaxLineBytes) {
      if (!skipping_long) {
        ++line_no;
        ++invalid;
        if (first_invalid == 0) first_invalid = line_no;
        skipping_long = true;
      }
      text.clear();
    }
    if (at_end && !text.empty() && !skipping_long) {
      repaired += repair_utf8(text.data(), text.size());
      on_line(text);
    }
    if (options.progress) options.progress(src.file_position(), src.file_size());
  }
  builder.finish();
  if (valid == 0) {
    if (invalid == 0) return Status::Error(fmt::format("{}: empty input", src.name()));
    return Status::Error(fmt::format(
        "{}: no folded-stack line (`frame;frame count`); line {} is the first bad one of {}",
        src.name(), first_invalid, invalid));
  }
  store.skips().add("folded: invalid line", invalid);
  store.skips().add("folded: invalid UTF-8 repaired", repaired);
  stats.events = builder.events();
  stats.skipped = invalid;
  return stats;
}

bool sniff_folded(std::string_view head) {
  std::string text;
  Decoder decoder;
  decoder.feed(head, true, &text);
  if (text.find('\0') != std::string::npos) return false;
  std::string_view rest = text;
  // The last line of a full head may be cut: judge complete lines only.
  if (head.size() >= (size_t{64} << 10)) {
    const size_t nl = rest.rfind('\n');
    if (nl == std::string_view::npos) return false;
    rest = rest.substr(0, nl);
  }
  uint64_t valid = 0, meaningful = 0;
  bool first = true;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    ++meaningful;
    std::string_view stack;
    uint64_t count;
    const bool ok = parse_line(line, &stack, &count);
    valid += ok;
    const bool comment = line.starts_with('#') || line.starts_with("//");
    if (first && !comment) {
      if (!ok) return false;
      first = false;
    }
  }
  return valid > 0 && valid * 2 >= meaningful;
}

Result<ReadStats> read_folded_file(const std::string& path, TraceStore& store,
                                   const ReadOptions& options) {
  auto src = ByteSource::open(path);
  if (!src.ok()) return src.status();
  FoldedReader reader;
  return reader.read(**src, store, options);
}

FormatInfo folded_format() {
  return {"folded",
          "Folded stacks (`frame;frame;frame count` per line: flamegraph.pl, perf, py-spy, "
          "async-profiler): one span per frame, 1 sample = 1 ms, for flame graphs and convert",
          [](std::string_view head, std::string_view) { return sniff_folded(head); },
          read_folded_file};
}

}  // namespace huoyan
