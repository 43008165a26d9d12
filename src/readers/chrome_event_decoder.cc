#include "src/readers/chrome_event_decoder.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "src/readers/chrome_event_decoder_impl.h"
#include "src/readers/json_repair.h"

namespace huoyan {
// Adds an arg; a repeated key replaces the earlier value (last wins).
bool ChromeEventDecoder::Impl::merge_repeated_arg() {
  const StringId key = args.back().key;
  const size_t last = args.size() - 1;
  size_t earlier = SIZE_MAX;
  if (last < 64) {
    // A 256-bit filter of the keys seen: a linear search only when the key may be a repeat.
    const uint32_t bit = (key * 0x9E3779B1u) >> 24;
    uint64_t& word = arg_filter[bit >> 6];
    const uint64_t mask = uint64_t{1} << (bit & 63);
    if (word & mask) {
      for (size_t i = 0; i < last; ++i) {
        if (args[i].key == key) {
          earlier = i;
          break;
        }
      }
    }
    word |= mask;
  } else {
    // Many args: a map keeps the duplicate check linear.
    if (arg_index.empty()) {
      for (size_t i = 0; i < last; ++i) arg_index.emplace(args[i].key, i);
    }
    auto [it, fresh] = arg_index.emplace(key, last);
    if (!fresh) earlier = it->second;
  }
  if (earlier == SIZE_MAX) return false;
  args[earlier].value = args.back().value;
  args.pop_back();
  return true;
}

error_code ChromeEventDecoder::Impl::parse_args(od::value& v) {
  args.clear();
  arg_index.clear();
  std::fill(std::begin(arg_filter), std::end(arg_filter), 0);
  od::object obj;
  if (v.get_object().get(obj) != SUCCESS) return SUCCESS;  // "args" that is not an object
  for (auto fr : obj) {
    od::field fld;
    error_code e = std::move(fr).get(fld);
    if (e != SUCCESS) return e;
    std::string_view key;
    if ((e = read_key(fld, &key)) != SUCCESS) return e;
    // Decoded in place: copying the value in afterwards stalls on store forwarding.
    Arg& a = args.emplace_back();
    a.key = intern_arg_key(args.size() - 1, key);
    if ((e = read_arg_value(fld.value(), &a.value)) != SUCCESS) return e;
    merge_repeated_arg();
  }
  return SUCCESS;
}

error_code ChromeEventDecoder::Impl::parse_id2(od::value& v) {
  od::object obj;
  if (v.get_object().get(obj) != SUCCESS) return SUCCESS;
  for (auto fr : obj) {
    od::field fld;
    error_code e = std::move(fr).get(fld);
    if (e != SUCCESS) return e;
    std::string_view key;
    if ((e = fld.unescaped_key().get(key)) != SUCCESS) return e;
    if (key == "local" || key == "global") {
      if ((e = read_scalar(fld.value(), &f.id)) != SUCCESS) return e;
      f.id_local = key == "local";
    }
  }
  return SUCCESS;
}

// Parses one event object into `f` and `args`. Nothing is applied to the store, so an error
// anywhere leaves no trace of the event.
error_code ChromeEventDecoder::Impl::parse_event(const char* p, size_t n, size_t capacity) {
  f = Fields();
  args.clear();
  od::document doc;
  error_code e = parser.iterate(p, n, capacity).get(doc);
  if (e != SUCCESS) return e;
  od::object obj;
  if ((e = doc.get_object().get(obj)) != SUCCESS) return e;
  for (auto fr : obj) {
    od::field fld;
    if ((e = std::move(fr).get(fld)) != SUCCESS) return e;
    std::string_view key;
    if ((e = read_key(fld, &key)) != SUCCESS) return e;
    od::value& v = fld.value();
    Scalar* target = nullptr;
    switch (key.size()) {
      case 1:
        if (key[0] == 's') target = &f.scope;
        break;
      case 2:
        if (key == "ph")
          target = &f.ph;
        else if (key == "ts")
          target = &f.ts;
        else if (key == "id")
          target = &f.id, f.id_local = false;
        else if (key == "bp")
          target = &f.bp;
        break;
      case 3:
        if (key == "dur")
          target = &f.dur;
        else if (key == "pid")
          target = &f.pid;
        else if (key == "tid")
          target = &f.tid;
        else if (key == "cat")
          target = &f.cat;
        else if (key == "id2")
          e = parse_id2(v);
        break;
      case 4:
        if (key == "name")
          target = &f.name;
        else if (key == "args")
          e = parse_args(v);
        else if (key == "tdur")
          f.has_tdur = true;
        break;
      default:
        break;
    }
    if (e == SUCCESS && target != nullptr) e = read_scalar(v, target);
    if (e != SUCCESS) return e;
  }
  return SUCCESS;
}

// Parses with one repair attempt for bad bytes; returns the final error.
error_code ChromeEventDecoder::Impl::parse_with_repair(const JsonStream::Value& v) {
  error_code e = parse_event(v.text.data(), v.text.size(), v.capacity);
  if (e != simdjson::UTF8_ERROR && e != simdjson::UNESCAPED_CHARS) return e;
  const size_t n = v.text.size();
  if (scratch_cap < n + JsonStream::kPadding) {
    scratch_cap = n + JsonStream::kPadding;
    scratch.reset(new char[scratch_cap]());
  }
  std::memcpy(scratch.get(), v.text.data(), n);
  const size_t controls = repair_string_controls(scratch.get(), n);
  const size_t bad_utf8 = repair_utf8(scratch.get(), n);
  e = parse_event(scratch.get(), n, scratch_cap);
  if (e == SUCCESS) {
    if (bad_utf8 > 0) count("invalid UTF-8 repaired");
    if (controls > 0) count("control characters in strings repaired");
  }
  return e;
}

void ChromeEventDecoder::Impl::event(const JsonStream::Value& v) {
  if (v.max_depth > kMaxDepth) {
    skip("args nested too deep");
    return;
  }
  const error_code e = parse_with_repair(v);
  release_parser_if_huge(v.text.size());
  if (e == simdjson::DEPTH_ERROR) {
    skip("args nested too deep");
  } else if (e != SUCCESS) {
    if (malformed++ == 0) first_malformed = v.offset;
    skip("malformed event JSON");
  } else {
    apply();
  }
}

void ChromeEventDecoder::Impl::set_id(const Scalar& s, bool local, Event& e) {
  if (!s.present || s.is_container) return;
  uint64_t u;
  bool hex = false;
  if (parse_u64(s.text, &u, &hex)) {
    e.id = u;
    if (hex) e.flags |= event_flags::kIdHex;
  } else {
    e.id = intern(s.text);
    e.flags |= event_flags::kIdString;
  }
  if (local) e.flags |= event_flags::kIdLocal;
}

void ChromeEventDecoder::Impl::apply() {
  if (!f.ph.present) {
    skip("missing ph");
    return;
  }
  const char ph = f.ph.text.size() == 1 ? f.ph.text[0] : '\0';
  switch (ph) {
    case 'X':
    case 'B':
    case 'E':
    case 'i':
    case 'I':
    case 'C':
    case 's':
    case 't':
    case 'f':
    case 'b':
    case 'e':
    case 'n':
      break;
    case 'M':
      metadata_event();
      return;
    default:
      if (ph > ' ' && ph < 127) {
        skip(fmt::format("unsupported phase '{}'", ph));
      } else {
        skip("unsupported phase (invalid \"ph\")");
      }
      return;
  }
  if (!f.ts.present) {
    skip("missing ts");
    return;
  }
  Event e;
  if (f.ts.is_container || !parse_us_to_ns(f.ts.text, &e.ts)) {
    skip("bad ts");
    return;
  }
  if (ph == 'X') {
    if (!f.dur.present) {
      count(f.has_tdur ? "X without dur (tdur ignored, stored with dur 0)"
                       : "X without dur (stored with dur 0)");
    } else if (f.dur.is_container || !parse_us_to_ns(f.dur.text, &e.dur)) {
      skip("bad dur");
      return;
    } else if (e.dur < 0) {
      skip("negative dur");
      return;
    }
    int64_t end;
    if (__builtin_add_overflow(e.ts, e.dur, &end)) {
      skip("bad dur");
      return;
    }
  }
  e.track = track_of(f.pid, f.tid);
  e.name = (f.name.present && !f.name.is_container && (f.name.is_string || f.name.text != "null"))
               ? intern(f.name.text)
               : 0;
  e.cat = f.cat.present && f.cat.is_string ? intern(f.cat.text) : 0;
  const bool duration = ph == 'X' || ph == 'B' || ph == 'E';
  switch (ph) {
    case 'X':
    case 'B':
    case 'E':
      e.kind = kind_from_category(store.str(e.cat), store.str(e.name));
      break;
    case 'i':
    case 'I':
      e.kind = EventKind::kInstant;
      break;
    case 'C':
      e.kind = EventKind::kCounter;
      break;
    case 's':
      e.kind = EventKind::kFlowStart;
      break;
    case 't':
      e.kind = EventKind::kFlowStep;
      break;
    case 'f':
      e.kind = EventKind::kFlowEnd;
      break;
    case 'b':
      e.kind = EventKind::kAsyncBegin;
      break;
    case 'e':
      e.kind = EventKind::kAsyncEnd;
      break;
    case 'n':
      e.kind = EventKind::kAsyncInstant;
      break;
  }
  if (ph == 'i' || ph == 'I') {
    if (f.scope.text == "g") e.flags |= event_flags::kScopeGlobal;
    if (f.scope.text == "p") e.flags |= event_flags::kScopeProcess;
  } else if (!duration) {
    set_id(f.id, f.id_local, e);
    if (f.bp.text == "e") e.flags |= event_flags::kBindEnclosing;
  }
  // Args that are Event fields move there (the writer writes them back as these args):
  // correlation of duration events and instants, step and request_id of all but counters.
  DurationExtras extras;
  if (ph != 'C' && !args.empty()) {
    const bool takes_correlation = duration || ph == 'i' || ph == 'I';
    size_t out = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      const Arg& a = args[i];
      uint64_t u;
      if (a.key == k_correlation && takes_correlation && arg_u64(a.value, &u)) {
        e.id = u;
        e.flags &= static_cast<uint8_t>(~(event_flags::kIdHex | event_flags::kIdString));
        continue;
      }
      if (duration) {  // kept as args; only noted
        if (a.key == k_external_id) {
          extras.has_external_id = arg_u64(a.value, &extras.external_id);
        } else if (a.key == k_connection_id) {
          arg_u64(a.value, &extras.connection_id);
        } else if (a.key == k_task_type && a.value.type == ArgType::kString) {
          extras.task_type = a.value.s;
        } else if (a.key == k_task_id) {
          extras.has_task_id = true;
        }
      }
      if (a.key == k_step && arg_u64(a.value, &u)) {
        e.step = u;
        continue;
      }
      if (a.key == k_request_id && a.value.type == ArgType::kString && !a.value.s.empty()) {
        e.request = intern(a.value.s);
        continue;
      }
      args[out++] = a;
    }
    args.resize(out);
  }
  if (duration) duration_extras(extras, ph == 'X', e);
  if (e.ts > max_end) max_end = e.ts;
  if (e.ts + e.dur > max_end) max_end = e.ts + e.dur;
  if (ph == 'B' || ph == 'E') {
    pending.add(e, ph == 'B', args);
    tick();
    return;
  }
  emit(e, args);
}

namespace {

constexpr std::string_view kProfilerStep = "ProfilerStep#";

}  // namespace

void ChromeEventDecoder::Impl::duration_extras(const DurationExtras& x, bool complete, Event& e) {
  // Ascend device tasks carry no category: their "Task Type" says what they are.
  if (e.kind == EventKind::kSpan && e.cat == 0 && x.has_task_id && !x.task_type.empty()) {
    e.kind = ascend_task_kind(x.task_type);
  }
  // msprof: a CANN API call and the device task it launched share "connection_id".
  if (e.id == 0 && x.connection_id != 0) e.id = x.connection_id;
  // Kineto's "External id" names the CPU op behind an event; it is the launch link of
  // whatever has no correlation: the op itself, and device work whose correlation is absent.
  // Device-side copies of host ranges ("gpu_user_annotation") keep no link: they are not
  // launched work.
  const bool gpu_range = store.str(e.cat).substr(0, 4) == "gpu_";
  if (e.id == 0 && x.has_external_id && x.external_id != 0 && !gpu_range) {
    e.id = kExternalIdTag | x.external_id;
  }
  if (!complete || is_device_side(e.kind) || gpu_range) return;
  const std::string_view name = store.str(e.name);
  if (name.size() <= kProfilerStep.size() ||
      name.substr(0, kProfilerStep.size()) != kProfilerStep) {
    return;
  }
  uint64_t n;
  if (!parse_u64(name.substr(kProfilerStep.size()), &n) || n == 0) return;
  auto [it, fresh] = profiler_steps.try_emplace(n);
  Step& s = it->second;
  if (fresh) {
    s.id = n;
    s.start = e.ts;
    s.end = e.ts + e.dur;
    s.track = e.track;
  } else {
    s.start = std::min(s.start, e.ts);
    s.end = std::max(s.end, e.ts + e.dur);
  }
}

// ProfilerStep#N spans become steps, unless the store has that step already (a trace written
// by huoyan carries its steps in its own section).
void ChromeEventDecoder::Impl::add_profiler_steps() {
  if (profiler_steps.empty()) return;
  writer.reset();  // store.step() takes the shared lock
  std::vector<Step> fresh;
  for (auto& [id, s] : profiler_steps) {
    if (!store.step(id + store.input_step_offset())) fresh.push_back(std::move(s));
  }
  profiler_steps.clear();
  for (Step& s : fresh) w().add_step(std::move(s));
}

void ChromeEventDecoder::Impl::metadata_event() {
  ++metadata;
  const std::string_view name = f.name.is_string ? f.name.text : std::string_view();
  const ArgValue* value = nullptr;
  auto find = [&](StringId key) -> const ArgValue* {
    for (const Arg& a : args) {
      if (a.key == key) return &a.value;
    }
    return nullptr;
  };
  auto set_label = [&](Process& p, StringId key, StringId text) {
    for (auto& [k, v] : p.labels) {
      if (k == key) {
        v = text;
        return;
      }
    }
    p.labels.emplace_back(key, text);
  };
  auto detect_device = [&](Process& p, std::string_view text) {
    DeviceType type;
    int32_t index;
    if (!device_from_process_name(text, &type, &index)) return;
    if (p.device_type == DeviceType::kNone) {
      p.device_type = type;
      p.device = index;
    } else if (p.device_type == type && p.device < 0) {
      p.device = index;  // "Ascend Hardware" labelled "NPU 0"
    }
  };
  if (name == "process_name" || name == "process_labels" || name == "process_sort_index") {
    Process& p = w().process_at(process_of(f.pid));
    if (name == "process_sort_index") {
      if ((value = find(k_sort_index)) != nullptr && value->is_number()) {
        p.sort_index = static_cast<int32_t>(value->as_double());
        p.has_sort_index = true;
      }
    } else if (name == "process_name") {
      if ((value = find(k_name)) != nullptr && value->type == ArgType::kString) {
        p.name = intern(value->s);
        p.role = process_role(value->s);
        detect_device(p, value->s);
      }
    } else if ((value = find(k_labels)) != nullptr && value->type == ArgType::kString) {
      set_label(p, intern(name), intern(value->s));
      detect_device(p, value->s);
    }
  } else if (name == "thread_name" || name == "thread_sort_index") {
    Track& t = w().track_at(track_of(f.pid, f.tid));
    if (name == "thread_name") {
      if ((value = find(k_name)) != nullptr && value->type == ArgType::kString) {
        t.name = intern(value->s);
        t.role = thread_role(value->s);
      }
    } else if ((value = find(k_sort_index)) != nullptr && value->is_number()) {
      t.sort_index = static_cast<int32_t>(value->as_double());
      t.has_sort_index = true;
    }
  } else if (name == "huoyan_pid") {
    // huoyan's writer gives processes whose pid Perfetto cannot read (≥ 2^32, negative) a
    // substitute pid and the real one here: the process takes its real pid back.
    int64_t real = 0;
    if ((value = find(k_pid)) != nullptr && value->type == ArgType::kString &&
        parse_i64(value->s, &real)) {
      w().process_at(process_of(f.pid)).pid = static_cast<int64_t>(
          static_cast<uint64_t>(real) + static_cast<uint64_t>(options.pid_offset));
    } else {
      count("huoyan_pid metadata without a numeric pid");
    }
  } else if (name == "huoyan_lane") {
    // huoyan's writer puts events that overlap their thread's slices without nesting on extra
    // threads (Perfetto drops them otherwise), announcing each before the events: they go back
    // to the thread they came from.
    if ((value = find(k_tid)) != nullptr &&
        (value->type == ArgType::kString || value->type == ArgType::kInt)) {
      const std::string number = value->type == ArgType::kInt ? std::to_string(value->i) : "";
      Scalar original;
      original.present = true;
      original.is_string = value->type == ArgType::kString;
      original.text = original.is_string ? value->s : std::string_view(number);
      const TrackId home = track_of(f.pid, original);
      std::string_view plabel, tlabel;
      const int64_t lane_pid = pid_of(f.pid, &plabel);
      const int64_t lane_tid = resolve_id(f.tid, &tlabel);
      track_cache[{lane_pid, lane_tid}] = home;
      have_last_track = false;
    } else {
      count("huoyan_lane metadata without a tid");
    }
  } else if (!name.empty() && !args.empty()) {
    // Other metadata (process_uptime_seconds, num_cpus…): kept per process, first arg's value.
    Process& p = w().process_at(process_of(f.pid));
    set_label(p, intern(name), intern(arg_text(args.front().value)));
  }
  tick();
}

// ---------------------------------------------------------------------------------------------
// Public wrapper

ChromeEventDecoder::ChromeEventDecoder(TraceStore& store, const ReadOptions& options)
    : impl_(std::make_unique<Impl>(store, options)) {}
ChromeEventDecoder::~ChromeEventDecoder() = default;

void ChromeEventDecoder::event(const JsonStream::Value& v) { impl_->event(v); }
void ChromeEventDecoder::skip_event(std::string_view reason) { impl_->skip(reason); }
void ChromeEventDecoder::note(std::string_view reason, uint64_t n) { impl_->count(reason, n); }
void ChromeEventDecoder::release_writer() {
  impl_->writer.reset();
  impl_->ops = 0;
}
void ChromeEventDecoder::set_metadata(std::string_view key, std::string_view value) {
  impl_->w().set_metadata(key, value);
}

void ChromeEventDecoder::flush_counters() {
  for (const auto& [reason, n] : impl_->counters) impl_->store.skips().add(reason, n);
  impl_->counters.clear();
}

void ChromeEventDecoder::finish() {
  Impl& m = *impl_;
  m.pending.pair(
      m.max_end, m.store, [&](const Event& e, std::span<const Arg> a) { m.emit(e, a); },
      [&](std::string_view reason, bool lost) {
        if (lost) {
          m.skip(reason);
        } else {
          m.count(reason);
        }
      });
  m.add_profiler_steps();
  release_writer();
  flush_counters();
}

uint64_t ChromeEventDecoder::events_stored() const { return impl_->stored; }
uint64_t ChromeEventDecoder::pending_slices() const { return impl_->pending.size(); }
uint64_t ChromeEventDecoder::events_skipped() const { return impl_->skipped; }
uint64_t ChromeEventDecoder::metadata_events() const { return impl_->metadata; }
uint64_t ChromeEventDecoder::malformed_events() const { return impl_->malformed; }
uint64_t ChromeEventDecoder::first_malformed_offset() const { return impl_->first_malformed; }

}  // namespace huoyan
