#include "src/analysis/attribution.h"

#include <algorithm>
#include <numeric>

namespace huoyan {

__extension__ typedef __int128 i128;

bool parse_attribution_mode(std::string_view s, AttributionMode* mode) {
  if (s == "shared") {
    *mode = AttributionMode::kShared;
  } else if (s == "apportioned") {
    *mode = AttributionMode::kApportioned;
  } else {
    return false;
  }
  return true;
}

std::string_view attribution_mode_name(AttributionMode mode) {
  return mode == AttributionMode::kShared ? "shared" : "apportioned";
}

std::vector<int64_t> apportion(int64_t dur, std::span<const StepMember> members) {
  const size_t n = members.size();
  std::vector<int64_t> out(n, 0);
  if (n == 0) return out;
  i128 total = 0;
  for (const auto& m : members) total += m.tokens;
  const bool equal = total == 0;
  if (equal) total = static_cast<i128>(n);
  // base_i = floor(dur * w_i / total); the remainder goes one ns at a time to the largest
  // fractional parts (w_i * dur mod total), earlier members first on ties.
  std::vector<std::pair<i128, size_t>> rem(n);
  int64_t assigned = 0;
  for (size_t i = 0; i < n; ++i) {
    const i128 w = equal ? 1 : members[i].tokens;
    const i128 num = static_cast<i128>(dur) * w;
    out[i] = static_cast<int64_t>(num / total);
    rem[i] = {num % total, i};
    assigned += out[i];
  }
  int64_t left = dur - assigned;  // 0 <= left < n for dur >= 0
  if (left > 0) {
    std::stable_sort(rem.begin(), rem.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; k < rem.size() && left > 0; ++k, --left) ++out[rem[k].second];
  }
  return out;
}

std::vector<AttributedEvent> request_device_events(const TraceStore& store,
                                                   const Snapshot& snapshot, StringId request,
                                                   AttributionMode mode) {
  std::vector<AttributedEvent> out;
  auto info = store.request(request);
  const std::vector<uint64_t> no_steps;
  const std::vector<uint64_t>& steps = info ? info->steps : no_steps;
  for (uint64_t step_id : steps) {
    auto step = store.step(step_id);
    if (!step) continue;
    size_t member = step->members.size();
    for (size_t i = 0; i < step->members.size(); ++i) {
      if (step->members[i].request == request) {
        member = i;
        break;
      }
    }
    if (member == step->members.size()) continue;
    const uint64_t total = step->total_tokens();
    const double share =
        mode == AttributionMode::kShared
            ? 1.0
            : (total == 0 ? 1.0 / static_cast<double>(step->members.size())
                          : static_cast<double>(step->members[member].tokens) /
                                static_cast<double>(total));
    for (EventSeq seq : store.events_of_step(step_id)) {
      if (!snapshot.contains(seq)) continue;
      const EventView ev = snapshot.at(seq);
      if (!snapshot.is_device_event(*ev)) continue;
      AttributedEvent a;
      a.seq = seq;
      a.step = step_id;
      a.batch_size = static_cast<uint32_t>(step->members.size());
      a.share = share;
      a.ns = mode == AttributionMode::kShared ? ev->dur : apportion(ev->dur, step->members)[member];
      out.push_back(a);
    }
  }
  // Device events the request owns outside its steps (imported traces that tag kernels with a
  // request id and have no steps): the whole kernel is the request's.
  for (EventSeq seq : store.events_of_request(request)) {
    if (!snapshot.contains(seq)) continue;
    const EventView ev = snapshot.at(seq);
    if (!snapshot.is_device_event(*ev)) continue;
    if (ev->step != 0 && std::find(steps.begin(), steps.end(), ev->step) != steps.end()) continue;
    AttributedEvent a;
    a.seq = seq;
    a.step = ev->step;
    a.batch_size = 1;
    a.share = 1.0;
    a.ns = ev->dur;
    out.push_back(a);
  }
  return out;
}

std::vector<EventSeq> request_host_events(const TraceStore& store, const Snapshot& snapshot,
                                          StringId request) {
  std::vector<EventSeq> out;
  for (EventSeq seq : store.events_of_request(request)) {
    // A device event tagged with the request is device time (request_device_events), not host.
    if (snapshot.contains(seq) && !snapshot.is_device_event(*snapshot.at(seq))) out.push_back(seq);
  }
  auto info = store.request(request);
  if (info) {
    for (uint64_t step_id : info->steps) {
      for (EventSeq seq : store.events_of_step(step_id)) {
        if (!snapshot.contains(seq)) continue;
        const EventView ev = snapshot.at(seq);
        if (snapshot.kind_of(*ev) == EventKind::kHost && ev->request == 0) {
          out.push_back(seq);
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<RequestShare> event_requests(const TraceStore& store, const Snapshot& snapshot,
                                         EventSeq seq, AttributionMode mode) {
  std::vector<RequestShare> out;
  if (!snapshot.contains(seq)) return out;
  const EventView ev = snapshot.at(seq);
  if (ev->request != 0) {
    out.push_back({ev->request, ev->dur, 1.0});
    return out;
  }
  if (ev->step == 0) return out;
  auto step = store.step(ev->step);
  if (!step) return out;
  const std::vector<int64_t> parts = apportion(ev->dur, step->members);
  const uint64_t total = step->total_tokens();
  for (size_t i = 0; i < step->members.size(); ++i) {
    const auto& m = step->members[i];
    const double share = total == 0 ? 1.0 / static_cast<double>(step->members.size())
                                    : static_cast<double>(m.tokens) / static_cast<double>(total);
    out.push_back({m.request, mode == AttributionMode::kShared ? ev->dur : parts[i],
                   mode == AttributionMode::kShared ? 1.0 : share});
  }
  return out;
}

}  // namespace huoyan
