#include "src/analysis/diagnosis_context.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

#include <simdjson.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_host_phases.h"
#include "src/analysis/kernel_stats.h"
#include "src/core/taxonomy.h"

namespace huoyan {
namespace {

constexpr StringId kAbsent = std::numeric_limits<StringId>::max();

StringId find_id(const StringTable& strings, std::string_view s) {
  StringId id = 0;
  return strings.find(s, &id) ? id : kAbsent;
}

bool contains_any(std::string_view haystack, std::initializer_list<std::string_view> needles) {
  for (std::string_view n : needles) {
    if (haystack.find(n) != std::string_view::npos) return true;
  }
  return false;
}

struct Interval {
  int64_t ts;
  int64_t end;
  bool collective;
  bool copy;
};

bool by_start(const Interval& a, const Interval& b) { return a.ts < b.ts; }

// Sorts by start; traces are mostly in order per track, so check before paying for a sort.
void sort_by_start(std::vector<Interval>* v) {
  if (!std::is_sorted(v->begin(), v->end(), by_start)) std::sort(v->begin(), v->end(), by_start);
}

// Lengths of the union of intervals sorted by start: of all of them, of the non-collective
// ones, and of the non-copy ones.
std::tuple<int64_t, int64_t, int64_t> union_lengths(const std::vector<Interval>& v) {
  struct Acc {
    int64_t total = 0;
    int64_t start = 0;
    int64_t end = std::numeric_limits<int64_t>::min();
    void add(const Interval& iv) {
      if (iv.ts > end) {
        if (end > start) total += end - start;
        start = iv.ts;
        end = iv.end;
      } else {
        end = std::max(end, iv.end);
      }
    }
    int64_t done() const { return total + (end > start ? end - start : 0); }
  };
  Acc all;
  Acc compute;
  Acc no_copy;
  for (const Interval& iv : v) {
    all.add(iv);
    if (!iv.collective) compute.add(iv);
    if (!iv.copy) no_copy.add(iv);
  }
  return {all.done(), compute.done(), no_copy.done()};
}

// Length of the union of [ts, end) intervals (any order; sorts them).
int64_t union_length(std::vector<std::pair<int64_t, int64_t>>* v) {
  std::sort(v->begin(), v->end());
  int64_t total = 0;
  int64_t start = 0;
  int64_t end = std::numeric_limits<int64_t>::min();
  for (const auto& [a, b] : *v) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else {
      end = std::max(end, b);
    }
  }
  return total + (end > start ? end - start : 0);
}

// The model a device process names: its "process_labels" metadata (nsys TARGET_INFO_GPU,
// msprof NPU_INFO), else Kineto's deviceProperties entry of its device id.
std::string device_model_of(const Snapshot& snapshot, const Process& p,
                            const std::vector<std::string>& properties) {
  if (p.device >= 0 && static_cast<size_t>(p.device) < properties.size() &&
      !properties[static_cast<size_t>(p.device)].empty()) {
    return properties[static_cast<size_t>(p.device)];
  }
  for (const auto& [key, value] : p.labels) {
    if (snapshot.str(key) != "process_labels") continue;
    // Kineto labels its device processes "GPU 0": a name, not a model.
    const std::string_view v = snapshot.str(value);
    DeviceType type = DeviceType::kNone;
    int32_t index = -1;
    if (!device_from_process_name(v, &type, &index)) return std::string(v);
  }
  return "";
}

// Kineto's deviceProperties (a JSON array of {"id", "name", …}) as names by device id.
std::vector<std::string> kineto_device_names(std::string_view json) {
  std::vector<std::string> names;
  simdjson::dom::parser parser;
  simdjson::dom::array devices;
  if (parser.parse(json.data(), json.size()).get(devices) != simdjson::SUCCESS) return names;
  for (auto d : devices) {
    int64_t id = 0;
    std::string_view name;
    if (d["id"].get_int64().get(id) != simdjson::SUCCESS || id < 0 || id > 4096) continue;
    if (d["name"].get_string().get(name) != simdjson::SUCCESS) continue;
    if (names.size() <= static_cast<size_t>(id)) names.resize(static_cast<size_t>(id) + 1);
    names[static_cast<size_t>(id)] = std::string(name);
  }
  return names;
}

int64_t median_of(std::vector<int64_t>* v) {
  if (v->empty()) return 0;
  auto mid = v->begin() + static_cast<std::ptrdiff_t>((v->size() - 1) / 2);
  std::nth_element(v->begin(), mid, v->end());
  return *mid;
}

struct KernelAcc {
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> shapes;
  std::vector<std::pair<int64_t, int64_t>> intervals;  // for the busy union
  // Consecutive instances of a kernel usually share a shape: remember the last one.
  std::pair<int64_t, int64_t> last_key{-2, -2};
  std::vector<int64_t>* last_shape = nullptr;
  KernelFacts facts;
};

// Step facts plus the extent of the step's events (for steps whose record lacks times).
struct StepAcc {
  StepFacts facts;
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = std::numeric_limits<int64_t>::min();
};

}  // namespace

// True for span names that denote waiting on a lock: a word "lock" (or locked/locking/
// spinlock), "mutex", "futex" or "contention", with words split at non-letters and camelCase
// humps — so "queue_lock_wait" and "QueueLock" match but "allocate_blocks" does not.
bool is_lock_name(std::string_view name) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool upper = std::isupper(c) != 0;
    const bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(name[i - 1])) != 0;
    if (!std::isalpha(c) || (upper && prev_lower)) {
      if (!words.back().empty()) words.emplace_back();
      if (!std::isalpha(c)) continue;
    }
    words.back() += static_cast<char>(std::tolower(c));
  }
  for (const auto& w : words) {
    if (w == "lock" || w == "locked" || w == "locking" || w == "spinlock" || w == "mutex" ||
        w == "futex" || w == "contention") {
      return true;
    }
  }
  return false;
}

int64_t KernelFacts::p50() const { return percentile_sorted(sorted_ns, 50); }
int64_t KernelFacts::p99() const { return percentile_sorted(sorted_ns, 99); }

const KernelFacts* DiagnosisContext::kernel(std::string_view name) const {
  for (const auto& k : kernels) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

bool is_collective_kernel(std::string_view name) {
  const std::string n = lower_ascii(name);
  return contains_any(n, {"allreduce", "all_reduce", "allgather", "all_gather", "reducescatter",
                          "reduce_scatter", "alltoall", "all_to_all", "broadcast", "hccl", "nccl"});
}

DiagnosisContext build_diagnosis_context(const TraceStore& store, const Snapshot& snapshot,
                                         const ContextOptions& options) {
  DiagnosisContext ctx;
  const StringTable& strings = snapshot.strings();
  const StringId k_bytes = find_id(strings, "bytes");
  const StringId k_flops = find_id(strings, "flops");
  const StringId k_group = find_id(strings, "group_size");
  const StringId k_block = find_id(strings, "block_size");
  const StringId k_tokens = find_id(strings, "tokens");
  const StringId k_batch = find_id(strings, "batch");
  const StringId k_lock = find_id(strings, "lock_wait_ns");
  const StringId n_select = find_id(strings, options.select_batch);
  const StringId n_queue = find_id(strings, options.queue_wait);

  // Kernels by name: StringIds are dense, so a vector indexes them directly. A deque keeps
  // each KernelAcc in place (last_shape points into it).
  std::deque<KernelAcc> kernels;
  std::vector<uint32_t> kernel_of_name(strings.size(), UINT32_MAX);
  std::unordered_map<StringId, bool> lock_like;  // host span name → looks like a lock wait
  std::vector<int32_t> device_of_process(snapshot.processes().size(), -1);
  std::vector<std::vector<Interval>> by_track(snapshot.tracks().size());
  // Model names of GPU devices from Kineto's deviceProperties; the trace-wide model and the
  // measured peaks from the metadata.
  std::vector<std::string> kineto_models;
  for (const auto& [k, v] : store.metadata()) {
    const std::string key = lower_ascii(k);
    if (key == "device" || key == "device_name" || key == "device_model") ctx.device_model = v;
    if (k == "deviceProperties") kineto_models = kineto_device_names(v);
    if (k == "device_peaks") ctx.measured_peaks = parse_device_peaks(v);
  }

  // The window: the last window_steps steps, and every event from the first of them on.
  int64_t cutoff = kNoTime;
  {
    std::vector<int64_t> starts;
    store.for_each_step([&](const Step& s) {
      if (s.start != kNoTime) starts.push_back(s.start);
    });
    ctx.window.steps_total = starts.size();
    ctx.window.max_steps = options.window_steps;
    if (options.window_steps > 0 && starts.size() > options.window_steps) {
      auto nth = starts.end() - static_cast<std::ptrdiff_t>(options.window_steps);
      std::nth_element(starts.begin(), nth, starts.end());
      cutoff = *nth;
    }
  }
  auto outside = [cutoff](int64_t ts) { return cutoff != kNoTime && ts < cutoff; };

  std::map<uint64_t, StepAcc> steps;
  store.for_each_step([&](const Step& s) {
    if (s.start != kNoTime && outside(s.start)) return;
    StepFacts& f = steps[s.id].facts;
    f.id = s.id;
    f.start = s.start;
    f.end = s.end;
    f.tokens = s.total_tokens();
    f.members = static_cast<uint32_t>(s.members.size());
  });
  // The step of the previous event: events of one step come together.
  uint64_t cached_step = 0;
  StepAcc* cached = nullptr;
  auto step_of = [&](uint64_t id) -> StepAcc& {
    if (cached == nullptr || id != cached_step) {
      cached = &steps[id];
      cached->facts.id = id;
      cached_step = id;
    }
    return *cached;
  };
  __extension__ __int128 device_total = 0;
  // Per host track: lock waits (time, count, by name) and whether it runs the serving loop.
  struct TrackLocks {
    int64_t ns = 0;
    uint64_t n = 0;
    std::unordered_map<StringId, int64_t> by_name;
  };
  std::unordered_map<TrackId, TrackLocks> track_locks;
  std::vector<char> loop_track(snapshot.tracks().size(), 0);

  // Host spans per track, for the serving loop's phases (only loop tracks are kept later).
  std::unordered_map<TrackId, std::vector<HostSpan>> host_spans;
  std::unordered_map<uint64_t, std::vector<int64_t>> device_starts;  // by step

  snapshot.for_each([&](const EventView& ev) {
    const Event& e = *ev;
    if (!has_duration(e.kind) || outside(e.ts)) return;
    // Device work and host slices only: annotation ranges on device streams (Kineto's
    // gpu_user_annotation) cover kernels, and would count their time twice.
    const bool device = snapshot.is_device_event(e);
    if (!device && snapshot.kind_of(e) != EventKind::kHost) return;
    if (e.step != 0) {
      StepAcc& sa = step_of(e.step);
      sa.first = std::min(sa.first, e.ts);
      sa.last = std::max(sa.last, e.end());
    }
    if (!device) {
      // Host span: loop threads, phases and lock waits (named so, or `lock_wait_ns` args).
      auto [lk, fresh] = lock_like.try_emplace(e.name, false);
      if (fresh) lk->second = is_lock_name(snapshot.str(e.name));
      if (lk->second) {
        TrackLocks& tl = track_locks[e.track];
        tl.ns += e.dur;
        ++tl.n;
        tl.by_name[e.name] += e.dur;
      }
      int64_t lock_arg_ns = 0;
      if (k_lock != kAbsent) {
        for (const StoredArg& a : ev.args()) {
          if (a.key == k_lock) lock_arg_ns += static_cast<int64_t>(a.value().as_double());
        }
      }
      // A request's own span (its queue wait, recorded by the loop when it admits the request)
      // times the request, not work of the loop.
      if (e.request == 0) {
        host_spans[e.track].push_back({e.ts, e.end(), e.name, lk->second, e.step, lock_arg_ns});
      }
      if ((e.name == n_select || e.step != 0) && e.track < loop_track.size()) {
        loop_track[e.track] = 1;
      }
      if (e.name == n_queue && e.step == 0) {
        ctx.request_queue_wait_ns += e.dur;
        ++ctx.request_queue_waits;
      }
      if (e.name == n_select) ctx.select_batch_sorted_ns.push_back(e.dur);
      return;
    }
    // Device event.
    device_total += e.dur;
    const uint32_t proc = snapshot.track(e.track).process;
    if (device_of_process[proc] < 0) {
      device_of_process[proc] = static_cast<int32_t>(ctx.devices.size());
      DeviceFacts d;
      d.label = snapshot.device_label(e.track);
      d.type = snapshot.process_of(e.track).device_type;
      d.model = device_model_of(snapshot, snapshot.process_of(e.track), kineto_models);
      d.first_ts = e.ts;
      d.last_end = e.end();
      ctx.devices.push_back(std::move(d));
    }
    const int32_t dev = device_of_process[proc];
    DeviceFacts& df = ctx.devices[static_cast<size_t>(dev)];
    ++df.kernels;
    df.first_ts = std::min(df.first_ts, e.ts);
    df.last_end = std::max(df.last_end, e.end());

    if (e.name >= kernel_of_name.size()) kernel_of_name.resize(e.name + 1, UINT32_MAX);
    if (kernel_of_name[e.name] == UINT32_MAX) {
      kernel_of_name[e.name] = static_cast<uint32_t>(kernels.size());
      kernels.emplace_back();
      KernelAcc& acc = kernels.back();
      acc.facts.name = std::string(snapshot.str(e.name));
      acc.facts.device_type = df.type;
      acc.facts.device = dev;
      // The producer's kind first (NCCL kernels, HCCL operators); the name for producers that
      // say nothing.
      const EventKind kind = snapshot.kind_of(e);
      acc.facts.collective = kind == EventKind::kCollective || is_collective_kernel(acc.facts.name);
      acc.facts.copy = kind == EventKind::kMemcpy || kind == EventKind::kMemset;
    }
    KernelAcc& acc = kernels[kernel_of_name[e.name]];
    KernelFacts& kf = acc.facts;
    if (kf.collective) df.collective_ns += e.dur;
    int64_t tokens = -1;
    int64_t batch = -1;
    for (const StoredArg& a : ev.args()) {
      if (a.key == kAbsent) continue;
      const ArgValue v = a.value();
      if (!v.is_number()) continue;
      const double x = v.as_double();
      if (a.key == k_bytes) {
        kf.bytes += x;
        kf.bytes_ns += e.dur;
      } else if (a.key == k_flops) {
        kf.flops += x;
        kf.flops_ns += e.dur;
      } else if (a.key == k_group) {
        const auto g = static_cast<int64_t>(x);
        if (g > 0 && (kf.group_size == 0 || g < kf.group_size)) kf.group_size = g;
      } else if (a.key == k_block) {
        const auto b = static_cast<int64_t>(x);
        if (b > 0 && (kf.block_size == 0 || b < kf.block_size)) kf.block_size = b;
      } else if (a.key == k_tokens) {
        tokens = static_cast<int64_t>(x);
      } else if (a.key == k_batch) {
        batch = static_cast<int64_t>(x);
      }
    }
    const std::pair<int64_t, int64_t> key{tokens, batch};
    if (acc.last_shape == nullptr || key != acc.last_key) {
      acc.last_shape = &acc.shapes[key];
      acc.last_key = key;
    }
    acc.last_shape->push_back(e.dur);
    acc.intervals.emplace_back(e.ts, e.end());
    if (e.step != 0) device_starts[e.step].push_back(e.ts);
    by_track[e.track].push_back({e.ts, e.end(), kf.collective, kf.copy});
    if (e.step != 0) {
      StepFacts& f = step_of(e.step).facts;
      if (!kf.collective) {
        if (f.device_compute_ns.size() <= static_cast<size_t>(dev)) {
          f.device_compute_ns.resize(static_cast<size_t>(dev) + 1, 0);
        }
        f.device_compute_ns[static_cast<size_t>(dev)] += e.dur;
      }
    }
  });

  ctx.device_total_ns = static_cast<int64_t>(device_total);
  const double total = static_cast<double>(device_total);

  // Kernels: sorted durations overall and per shape.
  std::vector<int64_t> all_ns;
  for (KernelAcc& acc : kernels) {
    KernelFacts& kf = acc.facts;
    for (auto& [key, values] : acc.shapes) {
      std::sort(values.begin(), values.end());
      // Sorted runs, merged below.
      const auto mid = static_cast<std::ptrdiff_t>(kf.sorted_ns.size());
      kf.sorted_ns.insert(kf.sorted_ns.end(), values.begin(), values.end());
      std::inplace_merge(kf.sorted_ns.begin(), kf.sorted_ns.begin() + mid, kf.sorted_ns.end());
      KernelFacts::Shape shape;
      shape.tokens = key.first;
      shape.batch = key.second;
      shape.sorted_ns = std::move(values);
      kf.shapes.push_back(std::move(shape));
    }
    std::stable_sort(kf.shapes.begin(), kf.shapes.end(), [](const auto& a, const auto& b) {
      return a.sorted_ns.size() > b.sorted_ns.size();
    });
    kf.count = kf.sorted_ns.size();
    __extension__ __int128 t = 0;
    for (int64_t v : kf.sorted_ns) t += v;
    kf.total_ns = static_cast<int64_t>(t);
    kf.busy_ns = union_length(&acc.intervals);
    acc.intervals = {};
    kf.share = total > 0 ? static_cast<double>(t) / total : 0;
    all_ns.insert(all_ns.end(), kf.sorted_ns.begin(), kf.sorted_ns.end());
    ctx.kernels.push_back(std::move(kf));
  }
  std::sort(ctx.kernels.begin(), ctx.kernels.end(), [](const KernelFacts& a, const KernelFacts& b) {
    return a.total_ns != b.total_ns ? a.total_ns > b.total_ns : a.name < b.name;
  });

  // Launch facts: short kernels and the gaps that follow them on their stream.
  LaunchFacts& lf = ctx.launch;
  lf.kernels = all_ns.size();
  for (int64_t v : all_ns) {
    if (v < options.launch_short_ns) {
      ++lf.short_kernels;
      lf.short_ns += v;
    }
  }
  lf.median_ns = median_of(&all_ns);
  all_ns = {};
  std::vector<int64_t> gaps;
  std::vector<std::vector<Interval>> by_device(ctx.devices.size());
  for (TrackId t = 0; t < by_track.size(); ++t) {
    auto& v = by_track[t];
    if (v.empty()) continue;
    sort_by_start(&v);
    for (size_t i = 1; i < v.size(); ++i) {
      const int64_t gap = v[i].ts - v[i - 1].end;
      if (gap <= 0) continue;
      gaps.push_back(gap);
      if (v[i - 1].end - v[i - 1].ts < options.launch_short_ns &&
          gap <= options.launch_gap_max_ns) {
        lf.small_gaps_ns += gap;
        ++lf.small_gaps;
      }
    }
    const int32_t dev = device_of_process[snapshot.track(t).process];
    auto& dst = by_device[static_cast<size_t>(dev)];
    const auto mid = static_cast<std::ptrdiff_t>(dst.size());
    dst.insert(dst.end(), v.begin(), v.end());
    std::inplace_merge(dst.begin(), dst.begin() + mid, dst.end(), by_start);
    v = {};
  }
  lf.median_gap_ns = median_of(&gaps);
  std::vector<std::pair<int64_t, int64_t>> device_work;  // every device's, for host phases
  for (size_t d = 0; d < by_device.size(); ++d) {
    int64_t no_copy = 0;
    std::tie(ctx.devices[d].busy_ns, ctx.devices[d].compute_busy_ns, no_copy) =
        union_lengths(by_device[d]);
    ctx.devices[d].copy_exposed_ns = ctx.devices[d].busy_ns - no_copy;
    for (const Interval& iv : by_device[d]) device_work.emplace_back(iv.ts, iv.end);
    by_device[d] = {};
  }
  // Devices by label; kernels and steps refer to them by index, so remap those too.
  std::vector<size_t> order(ctx.devices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ctx.devices[a].label < ctx.devices[b].label; });
  std::vector<int32_t> new_index(order.size());
  std::vector<DeviceFacts> sorted_devices;
  for (size_t i = 0; i < order.size(); ++i) {
    new_index[order[i]] = static_cast<int32_t>(i);
    sorted_devices.push_back(std::move(ctx.devices[order[i]]));
  }
  ctx.devices = std::move(sorted_devices);
  for (auto& k : ctx.kernels) {
    if (k.device >= 0) k.device = new_index[static_cast<size_t>(k.device)];
  }

  // Steps: fill missing times from their events; the serving window spans them.
  int64_t wstart = std::numeric_limits<int64_t>::max();
  int64_t wend = std::numeric_limits<int64_t>::min();
  for (auto& [id, sa] : steps) {
    StepFacts& f = sa.facts;
    if (sa.first <= sa.last) {
      if (f.start == kNoTime) f.start = sa.first;
      if (f.end == kNoTime) f.end = sa.last;
    }
    std::vector<int64_t> compute(ctx.devices.size(), 0);
    for (size_t d = 0; d < f.device_compute_ns.size(); ++d) {
      compute[static_cast<size_t>(new_index[d])] = f.device_compute_ns[d];
    }
    f.device_compute_ns = std::move(compute);
    if (f.start != kNoTime && f.end != kNoTime && f.end >= f.start) {
      wstart = std::min(wstart, f.start);
      wend = std::max(wend, f.end);
    }
    ctx.steps.push_back(std::move(f));
  }
  if (wstart > wend) {
    for (const auto& d : ctx.devices) {
      wstart = std::min(wstart, d.first_ts);
      wend = std::max(wend, d.last_end);
    }
  }
  if (wstart <= wend) {
    ctx.window_start = wstart;
    ctx.window_end = wend;
  }
  std::sort(ctx.select_batch_sorted_ns.begin(), ctx.select_batch_sorted_ns.end());

  std::map<std::string, int64_t> loop_lock_names;  // by name: deterministic ties
  for (const auto& [track, tl] : track_locks) {
    if (track >= loop_track.size() || !loop_track[track] || tl.n == 0) continue;
    ctx.loop_lock_wait_ns += tl.ns;
    ctx.loop_lock_waits += tl.n;
    for (const auto& [name, ns] : tl.by_name)
      loop_lock_names[std::string(snapshot.str(name))] += ns;
  }
  int64_t most = -1;
  for (const auto& [name, ns] : loop_lock_names) {
    if (ns > most) {
      most = ns;
      ctx.loop_lock_name = name;
    }
  }

  ctx.window.steps = ctx.steps.size();
  ctx.window.start = cutoff;
  ctx.window.end = ctx.window_end;

  // Host phases of the loop threads.
  std::vector<std::vector<HostSpan>> loop_spans;
  for (auto& [track, spans] : host_spans) {
    if (track < loop_track.size() && loop_track[track]) loop_spans.push_back(std::move(spans));
  }
  host_spans.clear();
  HostPhaseInput in;
  in.spans = &loop_spans;
  in.device_work = &device_work;
  for (auto& [step, starts] : device_starts) std::sort(starts.begin(), starts.end());
  in.device_starts = &device_starts;
  in.steps = &ctx.steps;
  in.strings = &strings;
  compute_host_phases(in, &ctx);
  return ctx;
}

}  // namespace huoyan
