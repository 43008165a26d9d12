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
  snapshot.for_each([&](const EventView& ev) {
    if (snapshot.is_device_event(*ev)) out.push_back({ev.seq, ev->dur});
  });
  return out;
}

int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

std::vector<KernelStat> kernel_stats(const Snapshot& snapshot, const std::vector<TimedEvent>& events,
                                     GroupBy by) {
  // Group keys: a StringId for names, a track id for streams, a process index for devices.
  std::unordered_map<uint64_t, std::vector<int64_t>> groups;
  __extension__ __int128 device_total = 0;
  for (const TimedEvent& te : events) {
    const EventView ev = snapshot.at(te.seq);
    uint64_t key = 0;
    switch (by) {
      case GroupBy::kName: key = ev->name; break;
      case GroupBy::kStream: key = ev->track; break;
      case GroupBy::kDevice: key = snapshot.track(ev->track).process; break;
    }
    groups[key].push_back(te.ns);
    device_total += te.ns;
  }
  std::vector<KernelStat> out;
  out.reserve(groups.size());
  for (auto& [key, values] : groups) {
    std::sort(values.begin(), values.end());
    KernelStat s;
    switch (by) {
      case GroupBy::kName: s.name = std::string(snapshot.str(static_cast<StringId>(key))); break;
      case GroupBy::kStream: s.name = snapshot.track_label(static_cast<TrackId>(key)); break;
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
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const KernelStat& a, const KernelStat& b) {
    return a.total_ns != b.total_ns ? a.total_ns > b.total_ns : a.name < b.name;
  });
  return out;
}

void write_kernel_stats_json(const std::vector<KernelStat>& rows, BufferedOut& out) {
  out.put('[');
  for (size_t i = 0; i < rows.size(); ++i) {
    const KernelStat& r = rows[i];
    out.put(i == 0 ? "\n  {\"name\":" : ",\n  {\"name\":");
    json_string(out, r.name);
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
    out.put('}');
  }
  out.put(rows.empty() ? "]\n" : "\n]\n");
}

}  // namespace huoyan
