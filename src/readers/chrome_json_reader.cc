// Top-level walker of Chrome trace JSON: finds the events array in either form, streams its
// elements to ChromeEventDecoder, and picks the few top-level keys huoyan keeps. Values it does
// not use (Kineto "deviceProperties" aside: "samples", "stackFrames", Chrome's "metadata"…)
// are skipped by the scanner without being held in memory.
#include "src/readers/chrome_json_reader.h"

#include <exception>
#include <new>
#include <string>

#include <fmt/format.h>

#include "src/readers/chrome_event_decoder.h"
#include "src/readers/json_stream.h"

namespace huoyan {
namespace {

constexpr uint64_t kProgressEvery = uint64_t{4} << 20;

using Scan = JsonStream::Scan;

class Walker {
 public:
  Walker(ByteSource& src, TraceStore& store, const ReadOptions& options, size_t block_bytes)
      : src_(src),
        options_(options),
        in_(src, block_bytes, ChromeJsonReader::kMaxEventBytes),
        dec_(store, options) {
    in_.set_before_read([this] { before_read(); });
  }

  Result<ReadStats> run() {
    Status st = walk();
    if (!st.ok()) {
      const bool read_error = !in_.status().ok();
      if (!read_error || (dec_.events_stored() == 0 && dec_.metadata_events() == 0 &&
                          dec_.pending_slices() == 0)) {
        dec_.release_writer();
        dec_.flush_counters();
        return st;
      }
      // The input broke off after events were read — typically the gzip stream of a process
      // that died while writing it. Like an unterminated array, that is a trace cut short:
      // keep what was read and say so.
      dec_.note("input cut short by a read error (" + st.message() + ")");
    }
    dec_.finish();
    if (dec_.events_stored() == 0 && dec_.metadata_events() == 0 && dec_.malformed_events() > 0) {
      return not_a_trace("no event could be parsed; the first malformed one starts",
                         dec_.first_malformed_offset());
    }
    if (options_.progress) options_.progress(src_.file_position(), src_.file_size());
    ReadStats stats;
    stats.events = dec_.events_stored();
    stats.skipped = dec_.events_skipped();
    stats.bytes = in_.bytes_read();
    return stats;
  }

 private:
  Status not_a_trace(std::string_view what, uint64_t offset) const {
    return Status::Error(
        fmt::format("{}: not a Chrome trace: {} at byte {}", src_.name(), what, offset));
  }

  void before_read() {
    dec_.release_writer();  // the read may block: let readers of the store in meanwhile
    if (options_.progress && in_.bytes_read() >= next_progress_) {
      options_.progress(src_.file_position(), src_.file_size());
      next_progress_ = in_.bytes_read() + kProgressEvery;
    }
  }

  Status walk() {
    in_.skip_bom();
    const int c = in_.peek();
    if (c == '[') {
      in_.consume();
      return array(Section::kEvents);
    }
    if (c == '{') {
      in_.consume();
      return top_object();
    }
    if (!in_.status().ok()) return in_.status();
    if (c < 0) {
      return not_a_trace(in_.offset() == 0 ? "empty input, expected '[' or '{'"
                                           : "only whitespace, expected '[' or '{'",
                         in_.offset());
    }
    return not_a_trace(fmt::format("expected '[' or '{{', found {}", describe(c)), in_.offset());
  }

  static std::string describe(int c) {
    if (c > ' ' && c < 127) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", c);
  }

  enum class Section { kEvents, kSteps, kRequests };

  // Elements of an array whose '[' was consumed, up to its ']' or the end of the input (an
  // unterminated array is legal). Objects go to the decoder; anything else is counted.
  Status array(Section section) {
    bool first = true;
    while (true) {
      const int c = in_.peek();
      if (c < 0) return in_.status();
      if (c == ']') {
        in_.consume();
        return OkStatus();
      }
      if (c == ',') {
        in_.consume();
        continue;
      }
      JsonStream::Value v;
      if (c != '{') {
        if (first && section == Section::kEvents) {
          return not_a_trace(fmt::format("expected an event object, found {}", describe(c)),
                             in_.offset());
        }
        if (in_.scan(false, &v) == Scan::kError) return in_.status();
        if (section == Section::kEvents) {
          dec_.skip_event("non-object element in traceEvents");
        } else {
          dec_.note("non-object element in the huoyan section");
        }
        first = false;
        continue;
      }
      first = false;
      switch (in_.scan(true, &v)) {
        case Scan::kComplete:
          if (section == Section::kEvents) {
            dec_.event(v);
          } else if (section == Section::kSteps) {
            dec_.huoyan_step(v);
          } else {
            dec_.huoyan_request(v);
          }
          break;
        case Scan::kTruncated:
          if (section == Section::kEvents) {
            dec_.skip_event("truncated event at end of input");
          } else {
            dec_.note("truncated huoyan section");
          }
          return OkStatus();
        case Scan::kTooLarge:
          dec_.skip_event("event larger than 64 MB");
          break;
        case Scan::kError:
          return in_.status();
      }
    }
  }

  // Reads `"key":` of an object member. Returns false when the member is not well formed or
  // the input ends; *bad_offset is set when it is not well formed.
  bool member_key(std::string* key, uint64_t* bad_offset, Status* st) {
    *bad_offset = UINT64_MAX;
    JsonStream::Value v;
    const Scan r = in_.scan(true, &v);
    if (r == Scan::kError) *st = in_.status();
    if (r != Scan::kComplete) return false;
    // Keys are compared as written: the keys huoyan looks for contain no escapes.
    key->assign(v.text.substr(1, v.text.size() - 2));
    const int c = in_.peek();
    if (c < 0) {
      *st = in_.status();
      return false;
    }
    if (c != ':') {
      *bad_offset = in_.offset();
      return false;
    }
    in_.consume();
    if (in_.peek() < 0) {
      *st = in_.status();
      return false;
    }
    return true;
  }

  Status top_object() {
    bool saw_events = false;
    while (true) {
      int c = in_.peek();
      if (c < 0) {
        if (!in_.status().ok()) return in_.status();
        break;
      }
      if (c == '}') {
        in_.consume();
        break;
      }
      if (c == ',') {
        in_.consume();
        continue;
      }
      if (c != '"') {
        if (saw_events) break;  // junk after the events: the rest is not needed
        return not_a_trace(fmt::format("expected a key, found {}", describe(c)), in_.offset());
      }
      std::string key;
      uint64_t bad = 0;
      Status st;
      if (!member_key(&key, &bad, &st)) {
        if (!st.ok()) return st;
        if (bad != UINT64_MAX && !saw_events) return not_a_trace("expected ':'", bad);
        break;
      }
      c = in_.peek();
      if (key == "traceEvents" && c == '[') {
        in_.consume();
        saw_events = true;
        HUOYAN_RETURN_IF_ERROR(array(Section::kEvents));
        continue;
      }
      if (key == "huoyan" && c == '{') {
        in_.consume();
        HUOYAN_RETURN_IF_ERROR(huoyan_section());
        continue;
      }
      const bool keep = key == "displayTimeUnit" || key == "distributedInfo" ||
                        key == "deviceProperties" || key == "metadata";
      JsonStream::Value v;
      const Scan r = in_.scan(keep, &v);
      if (r == Scan::kError) return in_.status();
      if (r == Scan::kTruncated) break;
      if (r == Scan::kTooLarge) {
        dec_.note(fmt::format("top-level \"{}\" larger than 64 MB ignored", key));
        continue;
      }
      if (keep) top_value(key, v);
    }
    if (!saw_events)
      return not_a_trace("no \"traceEvents\" array in the object ending", in_.offset());
    return OkStatus();
  }

  void top_value(const std::string& key, const JsonStream::Value& v) {
    const std::string_view text = v.text;
    if (key == "displayTimeUnit") {
      // Display only: "ts"/"dur" are microseconds whatever it says.
      if (text.size() >= 2 && text.front() == '"') {
        dec_.set_metadata(key, text.substr(1, text.size() - 2));
      }
    } else if (key == "metadata") {
      if (!text.empty() && text.front() == '{') dec_.trace_metadata(v);
    } else {
      dec_.set_metadata(key, text);  // distributedInfo, deviceProperties: raw JSON
      if (key == "distributedInfo") {
        const std::string rank = integer_member(text, "\"rank\"");
        if (!rank.empty()) dec_.set_metadata("rank", rank);
      }
    }
  }

  // The digits of `"key": <integer>` at the top level of a small JSON object, or "".
  static std::string integer_member(std::string_view obj, std::string_view quoted_key) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < obj.size(); ++i) {
      const char c = obj[i];
      if (in_string) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') --depth;
      if (c != '"') continue;
      if (depth == 1 && obj.substr(i, quoted_key.size()) == quoted_key) {
        size_t j = i + quoted_key.size();
        while (j < obj.size() && (obj[j] == ' ' || obj[j] == '\n' || obj[j] == '\t')) ++j;
        if (j >= obj.size() || obj[j] != ':') return "";
        ++j;
        while (j < obj.size() && (obj[j] == ' ' || obj[j] == '\n' || obj[j] == '\t')) ++j;
        size_t k = j;
        while (k < obj.size() && obj[k] >= '0' && obj[k] <= '9') ++k;
        return std::string(obj.substr(j, k - j));
      }
      in_string = true;
    }
    return "";
  }

  // The "huoyan" object written by ChromeJsonWriter; unknown keys are ignored.
  Status huoyan_section() {
    while (true) {
      int c = in_.peek();
      if (c < 0) return in_.status();
      if (c == '}') {
        in_.consume();
        return OkStatus();
      }
      JsonStream::Value v;
      if (c != '"') {
        // ',' or junk: step over one value.
        if (c == ',') {
          in_.consume();
        } else if (in_.scan(false, &v) == Scan::kError) {
          return in_.status();
        }
        continue;
      }
      std::string key;
      uint64_t bad = 0;
      Status st;
      if (!member_key(&key, &bad, &st)) {
        if (!st.ok()) return st;
        if (bad == UINT64_MAX) return OkStatus();  // input ended
        continue;
      }
      c = in_.peek();
      if ((key == "steps" || key == "requests") && c == '[') {
        in_.consume();
        HUOYAN_RETURN_IF_ERROR(array(key == "steps" ? Section::kSteps : Section::kRequests));
        continue;
      }
      const Scan r = in_.scan(false, &v);
      if (r == Scan::kError) return in_.status();
      if (r == Scan::kTruncated) return OkStatus();
    }
  }

  ByteSource& src_;
  const ReadOptions& options_;
  JsonStream in_;
  ChromeEventDecoder dec_;
  uint64_t next_progress_ = kProgressEvery;
};

}  // namespace

Result<ReadStats> ChromeJsonReader::read(ByteSource& src, TraceStore& store,
                                         const ReadOptions& options) {
  try {
    Walker walker(src, store, options, block_bytes_);
    return walker.run();
  } catch (const std::bad_alloc&) {
    return Status::Error(src.name() + ": out of memory while reading the Chrome trace");
  } catch (const std::exception& e) {
    return Status::Error(src.name() + ": cannot read the Chrome trace: " + e.what());
  }
}

Result<ReadStats> read_chrome_json_file(const std::string& path, TraceStore& store,
                                        const ReadOptions& options) {
  auto src = ByteSource::open(path);
  if (!src.ok()) return src.status();
  ChromeJsonReader reader;
  return reader.read(**src, store, options);
}

}  // namespace huoyan
