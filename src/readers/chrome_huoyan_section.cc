// The parts of a Chrome trace file that are not events: the "huoyan" section written by
// ChromeJsonWriter (step membership and request lifecycles, so request attribution survives a
// round trip) and the top-level "metadata" object.
#include <utility>

#include "src/readers/chrome_event_decoder.h"
#include "src/readers/chrome_event_decoder_impl.h"

namespace huoyan {
namespace {

// Integer ns of a "huoyan" time field; null (or anything unreadable) is kNoTime.
int64_t time_ns(od::value& v) {
  Scalar s;
  int64_t ns;
  if (read_scalar(v, &s) != SUCCESS || s.is_string || s.is_container ||
      !parse_decimal_to_ns(s.text, 1, &ns)) {
    return kNoTime;
  }
  return ns;
}

bool u64_of(od::value& v, uint64_t* out) {
  Scalar s;
  return read_scalar(v, &s) == SUCCESS && !s.is_container && parse_u64(s.text, out);
}

// Iterates the fields of the object `text`; f(key, value) returns false on a malformed value.
template <typename F>
bool for_each_field(od::parser& parser, const JsonStream::Value& v, F&& f) {
  od::document doc;
  od::object obj;
  if (parser.iterate(v.text.data(), v.text.size(), v.capacity).get(doc) != SUCCESS ||
      doc.get_object().get(obj) != SUCCESS) {
    return false;
  }
  for (auto fr : obj) {
    od::field fld;
    std::string_view key;
    if (std::move(fr).get(fld) != SUCCESS || fld.unescaped_key().get(key) != SUCCESS) {
      return false;
    }
    if (!f(key, fld.value())) return false;
  }
  return true;
}

}  // namespace

// {"id":7,"start":ns,"end":ns,"track":[pid,tid],"members":[["req-1",12],…]}; "track" optional.
void ChromeEventDecoder::huoyan_step(const JsonStream::Value& v) {
  Impl& m = *impl_;
  Step step;
  bool has_id = false;
  Scalar pid, tid;
  bool has_track = false;
  const bool ok = for_each_field(m.parser, v, [&](std::string_view key, od::value& val) {
    if (key == "id") {
      has_id = u64_of(val, &step.id);
    } else if (key == "start") {
      step.start = time_ns(val);
    } else if (key == "end") {
      step.end = time_ns(val);
    } else if (key == "track") {
      od::array a;
      if (val.get_array().get(a) != SUCCESS) return true;
      int i = 0;
      for (auto er : a) {
        od::value x;
        if (std::move(er).get(x) != SUCCESS) return false;
        if (i < 2 && read_scalar(x, i == 0 ? &pid : &tid) != SUCCESS) return false;
        ++i;
      }
      has_track = i == 2;
    } else if (key == "members") {
      od::array a;
      if (val.get_array().get(a) != SUCCESS) return true;
      for (auto er : a) {
        od::array pair_array;
        if (std::move(er).get_array().get(pair_array) != SUCCESS) return false;
        StepMember member;
        int i = 0;
        for (auto xr : pair_array) {
          od::value x;
          if (std::move(xr).get(x) != SUCCESS) return false;
          Scalar s;
          uint64_t tokens = 0;
          if (i == 0 && read_scalar(x, &s) == SUCCESS && s.is_string) {
            member.request = m.intern(s.text);
          } else if (i == 1 && u64_of(x, &tokens)) {
            member.tokens = static_cast<uint32_t>(std::min<uint64_t>(tokens, UINT32_MAX));
          }
          ++i;
        }
        if (member.request != 0) step.members.push_back(member);
      }
    }
    return true;
  });
  if (!ok) {
    m.count("malformed huoyan step");
    return;
  }
  if (!has_id) {
    m.count("huoyan step without id");
    return;
  }
  if (has_track) step.track = m.track_of(pid, tid);
  m.w().add_step(std::move(step));
  m.tick();
}

// {"id":"req-1","arrival":ns|null,"first_token":ns|null,"finish":ns|null,"tokens_in":n,
//  "tokens_out":n}
void ChromeEventDecoder::huoyan_request(const JsonStream::Value& v) {
  Impl& m = *impl_;
  StringId id = 0;
  int64_t times[3] = {kNoTime, kNoTime, kNoTime};
  uint64_t tokens_in = 0, tokens_out = 0;
  const bool ok = for_each_field(m.parser, v, [&](std::string_view key, od::value& val) {
    if (key == "id") {
      Scalar s;
      if (read_scalar(val, &s) != SUCCESS) return false;
      if (!s.is_container) id = m.intern(s.text);
    } else if (key == "arrival") {
      times[0] = time_ns(val);
    } else if (key == "first_token") {
      times[1] = time_ns(val);
    } else if (key == "finish") {
      times[2] = time_ns(val);
    } else if (key == "tokens_in") {
      u64_of(val, &tokens_in);
    } else if (key == "tokens_out") {
      u64_of(val, &tokens_out);
    }
    return true;
  });
  if (!ok) {
    m.count("malformed huoyan request");
    return;
  }
  if (id == 0) {
    m.count("huoyan request without id");
    return;
  }
  TraceStore::Writer& w = m.w();
  // Tokens first: add_request_tokens() (re)creates the entry through an arrival mark of
  // kNoTime, which must not overwrite the arrival set below.
  w.add_request_tokens(id, tokens_in, tokens_out);
  static constexpr RequestMark kMarks[3] = {RequestMark::kArrival, RequestMark::kFirstToken,
                                            RequestMark::kFinish};
  for (int i = 0; i < 3; ++i) {
    if (times[i] != kNoTime) w.mark_request(id, kMarks[i], times[i]);
  }
  m.tick();
}

void ChromeEventDecoder::trace_metadata(const JsonStream::Value& v) {
  Impl& m = *impl_;
  const bool ok = for_each_field(m.parser, v, [&](std::string_view key, od::value& val) {
    Scalar s;
    if (key == "huoyan_skipped") {
      od::object counts;
      if (val.get_object().get(counts) != SUCCESS) return true;
      for (auto fr : counts) {
        od::field fld;
        std::string_view reason;
        uint64_t n = 0;
        if (std::move(fr).get(fld) != SUCCESS || fld.unescaped_key().get(reason) != SUCCESS) {
          return false;
        }
        if (u64_of(fld.value(), &n)) m.count(reason, n);
      }
    } else if (read_scalar(val, &s) == SUCCESS && s.is_string) {
      m.w().set_metadata(key, s.text);
    }
    return true;
  });
  if (!ok) m.count("malformed trace metadata");
}

}  // namespace huoyan
