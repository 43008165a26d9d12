#include "src/analysis/kernel_stats.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "src/writers/json_out.h"

namespace huoyan {

bool parse_group_by(std::string_view s, GroupBy* by) {
  if (s == "name") {
    *by = GroupBy::kName;
  } else if (s == "stream") {
    *by = GroupBy::kStream;
  } else if (s == "device") {
    *by = GroupBy::kDevice;
  } else {
    return false;
  }
  return true;
}

std::vector<TimedEvent> device_events(const Snapshot& snapshot) {
  std::vector<TimedEvent> out;
  const KindSet side = KindSet::device_side();
  snapshot.for_each([&](const EventView& ev) {
    if (side.has(snapshot.kind_of(*ev))) out.push_back({ev.seq, ev->dur});
  });
  return out;
}

int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

std::vector<KernelStat> kernel_stats(const Snapshot& snapshot,
                                     const std::vector<TimedEvent>& events, GroupBy by,
                                     KindSet kinds) {
  // Group keys: a StringId for names, a track id for streams, a process index for devices.
  std::unordered_map<uint64_t, std::vector<int64_t>> groups;
  // Device grouping also keeps each event's interval and its name's time.
  struct DeviceExtra {
    std::vector<std::pair<int64_t, int64_t>> intervals;
    std::unordered_map<StringId, int64_t> by_name;
  };
  std::unordered_map<uint64_t, DeviceExtra> extra;
  __extension__ __int128 device_total = 0;
  for (const TimedEvent& te : events) {
    const EventView ev = snapshot.at(te.seq);
    const EventKind kind = snapshot.kind_of(*ev);
    if (is_device_work(kind)) device_total += te.ns;
    if (!kinds.has(kind)) continue;
    uint64_t key = 0;
    switch (by) {
      // Name ids are 32-bit: the kind goes above them, so a wait and a kernel of one name
      // stay two rows.
      case GroupBy::kName:
        key = (uint64_t{static_cast<uint8_t>(kind)} << 32) | ev->name;
        break;
      case GroupBy::kStream:
        key = ev->track;
        break;
      case GroupBy::kDevice: {
        key = snapshot.track(ev->track).process;
        DeviceExtra& x = extra[key];
        x.intervals.emplace_back(ev->ts, ev->end());
        x.by_name[ev->name] += te.ns;
        break;
      }
    }
    groups[key].push_back(te.ns);
  }
  std::vector<KernelStat> out;
  out.reserve(groups.size());
  for (auto& [key, values] : groups) {
    std::sort(values.begin(), values.end());
    KernelStat s;
    switch (by) {
      case GroupBy::kName:
        s.name = std::string(snapshot.str(static_cast<StringId>(key & 0xFFFFFFFFu)));
        s.kind = static_cast<EventKind>(key >> 32);
        break;
      case GroupBy::kStream:
        s.name = snapshot.track_label(static_cast<TrackId>(key));
        break;
      case GroupBy::kDevice: {
        // Any track of that process gives its device label.
        for (TrackId t = 0; t < snapshot.tracks().size(); ++t) {
          if (snapshot.track(t).process == key) {
            s.name = snapshot.device_label(t);
            break;
          }
        }
        break;
      }
    }
    s.count = values.size();
    __extension__ __int128 total = 0;
    for (int64_t v : values) total += v;
    s.total_ns = static_cast<int64_t>(total);
    s.mean_ns = static_cast<int64_t>(total / static_cast<int64_t>(values.size()));
    s.p50_ns = percentile_sorted(values, 50);
    s.p99_ns = percentile_sorted(values, 99);
    s.max_ns = values.back();
    s.share = device_total > 0 ? static_cast<double>(total) / static_cast<double>(device_total) : 0;
    if (by == GroupBy::kDevice) {
      DeviceExtra& x = extra[key];
      std::sort(x.intervals.begin(), x.intervals.end());
      int64_t busy = 0;
      int64_t open_start = x.intervals.front().first;
      int64_t open_end = x.intervals.front().second;
      int64_t last_end = open_end;
      for (const auto& [a, b] : x.intervals) {
        if (a > open_end) {
          busy += open_end - open_start;
          open_start = a;
          open_end = b;
        } else {
          open_end = std::max(open_end, b);
        }
        last_end = std::max(last_end, b);
      }
      busy += open_end - open_start;
      s.busy_ns = busy;
      s.active_ns = last_end - x.intervals.front().first;
      s.utilization =
          s.active_ns > 0 ? static_cast<double>(busy) / static_cast<double>(s.active_ns) : 0;
      std::vector<std::pair<int64_t, StringId>> names;
      for (const auto& [name, ns] : x.by_name) names.emplace_back(ns, name);
      const size_t n = std::min(kDeviceTopKernels, names.size());
      std::partial_sort(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(n), names.end(),
                        [&](const auto& a, const auto& b) {
                          return a.first != b.first
                                     ? a.first > b.first
                                     : snapshot.str(a.second) < snapshot.str(b.second);
                        });
      for (size_t i = 0; i < n; ++i) {
        s.top.push_back(
            {std::string(snapshot.str(names[i].second)), names[i].first,
             total != 0 ? static_cast<double>(names[i].first) / static_cast<double>(total) : 0});
      }
    }
    out.push_back(std::move(s));
  }
  if (by == GroupBy::kDevice) {
    int64_t max_busy = 0;
    for (const KernelStat& s : out) max_busy = std::max(max_busy, s.busy_ns);
    for (KernelStat& s : out) {
      s.busy_vs_max =
          max_busy > 0 ? static_cast<double>(s.busy_ns) / static_cast<double>(max_busy) : 0;
    }
  }
  std::sort(out.begin(), out.end(), [](const KernelStat& a, const KernelStat& b) {
    return a.total_ns != b.total_ns ? a.total_ns > b.total_ns : a.name < b.name;
  });
  return out;
}

double device_imbalance(const std::vector<KernelStat>& device_rows) {
  if (device_rows.size() < 2) return 0;
  int64_t max_busy = 0;
  int64_t min_busy = INT64_MAX;
  for (const KernelStat& r : device_rows) {
    max_busy = std::max(max_busy, r.busy_ns);
    min_busy = std::min(min_busy, r.busy_ns);
  }
  return max_busy > 0 ? static_cast<double>(max_busy - min_busy) / static_cast<double>(max_busy)
                      : 0;
}

void write_kernel_stats_json(const std::vector<KernelStat>& rows, BufferedOut& out, GroupBy by) {
  out.put('[');
  for (size_t i = 0; i < rows.size(); ++i) {
    const KernelStat& r = rows[i];
    out.put(i == 0 ? "\n  {\"name\":" : ",\n  {\"name\":");
    json_string(out, r.name);
    if (by == GroupBy::kName) {
      out.put(",\"kind\":");
      json_string(out, kind_name(r.kind));
    }
    out.put(",\"count\":");
    json_uint(out, r.count);
    out.put(",\"total_ns\":");
    json_int(out, r.total_ns);
    out.put(",\"mean_ns\":");
    json_int(out, r.mean_ns);
    out.put(",\"p50_ns\":");
    json_int(out, r.p50_ns);
    out.put(",\"p99_ns\":");
    json_int(out, r.p99_ns);
    out.put(",\"max_ns\":");
    json_int(out, r.max_ns);
    out.put(",\"share\":");
    json_double(out, r.share);
    if (r.busy_ns >= 0) {
      out.put(",\"busy_ns\":");
      json_int(out, r.busy_ns);
      out.put(",\"active_ns\":");
      json_int(out, r.active_ns);
      out.put(",\"utilization\":");
      json_double(out, r.utilization);
      out.put(",\"busy_vs_max\":");
      json_double(out, r.busy_vs_max);
      out.put(",\"top\":[");
      for (size_t k = 0; k < r.top.size(); ++k) {
        out.put(k == 0 ? "{\"name\":" : ",{\"name\":");
        json_string(out, r.top[k].name);
        out.put(",\"total_ns\":");
        json_int(out, r.top[k].total_ns);
        out.put(",\"share\":");
        json_double(out, r.top[k].share);
        out.put('}');
      }
      out.put(']');
    }
    out.put('}');
  }
  out.put(rows.empty() ? "]\n" : "\n]\n");
}

}  // namespace huoyan
