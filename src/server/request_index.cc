#include "src/server/request_index.h"

#include "src/writers/json_out.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "src/analysis/attribution.h"

namespace huoyan::server {
namespace {

constexpr uint32_t kNoRow = std::numeric_limits<uint32_t>::max();

// One member of a step, flattened. Only the first slot of a request in a step is credited,
// as request_device_events() credits the first match.
struct Slot {
  uint32_t row = kNoRow;
  uint32_t tokens = 0;
  bool credited = false;
};

struct StepAcc {
  uint32_t begin = 0;  // into slots
  uint32_t count = 0;
  uint64_t total_tokens = 0;
  uint64_t max_weight = 1;
  int64_t shared = 0;  // device time of the step's events
};

// Adds apportion(dur, members)[i] to acc[i] for every slot — the same numbers as
// huoyan::apportion() (largest remainder, earlier member first on ties) without allocating.
void add_apportioned(int64_t dur, const StepAcc& step, const Slot* slots, int64_t* acc,
                     std::vector<std::pair<uint64_t, uint32_t>>& scratch,
                     std::vector<StepMember>& members) {
  const uint32_t n = step.count;
  const bool equal = step.total_tokens == 0;
  const uint64_t total = equal ? n : step.total_tokens;
  const uint64_t max_w = equal ? 1 : step.max_weight;
  if (dur < 0 || static_cast<uint64_t>(dur) > std::numeric_limits<uint64_t>::max() / max_w) {
    // Rare (negative or enormous durations): let the reference implementation do it.
    members.clear();
    for (uint32_t i = 0; i < n; ++i) members.push_back({0, slots[i].tokens});
    const std::vector<int64_t> parts = apportion(dur, members);
    for (uint32_t i = 0; i < n; ++i) acc[i] += parts[i];
    return;
  }
  const auto d = static_cast<uint64_t>(dur);
  uint64_t assigned = 0;
  scratch.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t num = d * (equal ? 1 : slots[i].tokens);
    const uint64_t base = num / total;
    acc[i] += static_cast<int64_t>(base);
    assigned += base;
    scratch[i] = {num % total, i};
  }
  const uint64_t left = d - assigned;  // < n
  if (left == 0) return;
  auto first = [](const std::pair<uint64_t, uint32_t>& a, const std::pair<uint64_t, uint32_t>& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<ptrdiff_t>(left - 1),
                   scratch.end(), first);
  for (uint64_t k = 0; k < left; ++k) acc[scratch[k].second] += 1;
}

}  // namespace

bool parse_request_sort(std::string_view text, RequestSortKey* key, bool* descending) {
  *descending = !text.empty() && text.front() == '-';
  if (*descending) text.remove_prefix(1);
  if (text == "id") {
    *key = RequestSortKey::kId;
  } else if (text == "arrival_ns") {
    *key = RequestSortKey::kArrival;
  } else if (text == "steps") {
    *key = RequestSortKey::kSteps;
  } else if (text == "device_ns") {
    *key = RequestSortKey::kDevice;
  } else if (text == "host_ns") {
    *key = RequestSortKey::kHost;
  } else if (text == "tokens_out") {
    *key = RequestSortKey::kTokensOut;
  } else {
    return false;
  }
  return true;
}

std::shared_ptr<const RequestIndex> RequestIndex::build(const TraceStore& store) {
  auto index = std::make_shared<RequestIndex>();
  index->strings_ = store.strings();
  const Snapshot snapshot = store.snapshot();

  std::vector<RequestRow>& rows = index->rows_;
  std::unordered_map<StringId, uint32_t> row_of;
  store.for_each_request([&](const RequestInfo& info) {
    RequestRow r;
    r.id = info.id;
    r.id_text = store.str(info.id);
    r.arrival = info.arrival;
    r.first_token = info.first_token;
    r.finish = info.finish;
    r.tokens_in = info.tokens_in;
    r.tokens_out = info.tokens_out;
    r.steps = info.steps.size();
    row_of.emplace(info.id, static_cast<uint32_t>(rows.size()));
    rows.push_back(r);
  });

  std::vector<StepAcc> steps;
  std::vector<Slot> slots;
  std::unordered_map<uint64_t, uint32_t> step_of;
  store.for_each_step([&](const Step& step) {
    StepAcc acc;
    acc.begin = static_cast<uint32_t>(slots.size());
    acc.count = static_cast<uint32_t>(step.members.size());
    for (size_t i = 0; i < step.members.size(); ++i) {
      const StepMember& m = step.members[i];
      Slot s;
      s.tokens = m.tokens;
      auto it = row_of.find(m.request);
      s.row = it == row_of.end() ? kNoRow : it->second;
      s.credited = s.row != kNoRow;
      for (size_t j = 0; j < i && s.credited; ++j) {
        if (step.members[j].request == m.request) s.credited = false;
      }
      acc.total_tokens += m.tokens;
      acc.max_weight = std::max<uint64_t>(acc.max_weight, m.tokens);
      slots.push_back(s);
    }
    step_of.emplace(step.id, static_cast<uint32_t>(steps.size()));
    steps.push_back(acc);
  });

  // One pass over the events: device time per step (and per member, apportioned), and the
  // requests' own host spans.
  std::vector<int64_t> slot_apportioned(slots.size(), 0);
  std::vector<std::pair<uint64_t, uint32_t>> scratch;
  std::vector<StepMember> members_scratch;
  struct OwnSpan {
    uint32_t row;
    TrackId track;
    int64_t ts;
    int64_t end;
  };
  std::vector<OwnSpan> own;
  uint64_t last_step_id = 0;
  uint32_t last_step = kNoRow;
  snapshot.for_each([&](const EventView& ev) {
    const Event& e = *ev;
    const bool device = snapshot.is_device_event(e);
    if (device && e.step != 0) {
      if (e.step != last_step_id) {
        auto it = step_of.find(e.step);
        last_step_id = e.step;
        last_step = it == step_of.end() ? kNoRow : it->second;
      }
      if (last_step == kNoRow) return;
      StepAcc& st = steps[last_step];
      if (st.count == 0) return;
      st.shared += e.dur;
      add_apportioned(e.dur, st, &slots[st.begin], &slot_apportioned[st.begin], scratch,
                      members_scratch);
    } else if (!device && e.request != 0 && snapshot.kind_of(e) == EventKind::kHost) {
      auto it = row_of.find(e.request);
      if (it != row_of.end()) own.push_back({it->second, e.track, e.ts, e.end()});
    }
  });
  for (const StepAcc& st : steps) {
    for (uint32_t i = 0; i < st.count; ++i) {
      const Slot& s = slots[st.begin + i];
      if (!s.credited) continue;
      rows[s.row].device_shared += st.shared;
      rows[s.row].device_apportioned += slot_apportioned[st.begin + i];
    }
  }
  std::sort(own.begin(), own.end(), [](const OwnSpan& a, const OwnSpan& b) {
    return std::tie(a.row, a.track, a.ts) < std::tie(b.row, b.track, b.ts);
  });
  for (size_t i = 0; i < own.size();) {
    const OwnSpan& first = own[i];
    int64_t start = first.ts, end = first.end;
    size_t j = i + 1;
    for (; j < own.size() && own[j].row == first.row && own[j].track == first.track; ++j) {
      if (own[j].ts > end) {
        rows[first.row].host += end - start;
        start = own[j].ts;
        end = own[j].end;
      } else {
        end = std::max(end, own[j].end);
      }
    }
    rows[first.row].host += end - start;
    i = j;
  }

  index->by_id_.resize(rows.size());
  for (uint32_t i = 0; i < rows.size(); ++i) index->by_id_[i] = i;
  std::sort(index->by_id_.begin(), index->by_id_.end(),
            [&](uint32_t a, uint32_t b) { return rows[a].id_text < rows[b].id_text; });
  index->id_rank_.resize(rows.size());
  for (uint32_t k = 0; k < rows.size(); ++k) index->id_rank_[index->by_id_[k]] = k;
  return index;
}

namespace {

// The sort value of a row and whether it is known (only arrival can be unknown).
std::pair<int64_t, bool> sort_value(const RequestRow& r, RequestSortKey key) {
  switch (key) {
    case RequestSortKey::kId:
      return {0, true};
    case RequestSortKey::kArrival:
      return {r.arrival, r.arrival != kNoTime};
    case RequestSortKey::kSteps:
      return {static_cast<int64_t>(r.steps), true};
    case RequestSortKey::kDevice:
      return {r.device_shared, true};
    case RequestSortKey::kHost:
      return {r.host, true};
    case RequestSortKey::kTokensOut:
      return {static_cast<int64_t>(r.tokens_out), true};
  }
  return {0, true};
}

}  // namespace

const std::vector<uint32_t>& RequestIndex::order(RequestSortKey key, bool descending) const {
  const size_t slot = static_cast<size_t>(key) * 2 + (descending ? 1 : 0);
  std::call_once(order_once_[slot], [&] {
    std::vector<uint32_t>& o = orders_[slot];
    o = by_id_;
    std::stable_sort(o.begin(), o.end(), [&](uint32_t a, uint32_t b) {
      const auto [va, ka] = sort_value(rows_[a], key);
      const auto [vb, kb] = sort_value(rows_[b], key);
      if (ka != kb) return ka;  // known values first
      return descending ? va > vb : va < vb;
    });
  });
  return orders_[slot];
}

RequestIndex::Page RequestIndex::query(std::string_view prefix, RequestSortKey key, bool descending,
                                       size_t offset, size_t limit) const {
  Page page;
  const auto lo =
      std::lower_bound(by_id_.begin(), by_id_.end(), prefix,
                       [&](uint32_t row, std::string_view p) { return rows_[row].id_text < p; });
  auto hi = lo;
  if (prefix.empty()) {
    hi = by_id_.end();
  } else {
    hi = std::upper_bound(lo, by_id_.end(), prefix, [&](std::string_view p, uint32_t row) {
      return p < rows_[row].id_text.substr(0, p.size());
    });
  }
  page.total = static_cast<size_t>(hi - lo);
  if (offset >= page.total) return page;
  const size_t n = std::min(limit, page.total - offset);
  const size_t end = offset + n;
  page.rows.reserve(n);
  if (key == RequestSortKey::kId) {
    for (size_t k = offset; k < end; ++k) {
      page.rows.push_back(&rows_[descending ? *(hi - 1 - static_cast<ptrdiff_t>(k)) : lo[k]]);
    }
    return page;
  }
  auto before = [&](uint32_t a, uint32_t b) {
    const auto [va, ka] = sort_value(rows_[a], key);
    const auto [vb, kb] = sort_value(rows_[b], key);
    if (ka != kb) return ka;
    if (va != vb) return descending ? va > vb : va < vb;
    return id_rank_[a] < id_rank_[b];
  };
  if (page.total <= 4096) {
    // Few matches: sort them directly.
    std::vector<uint32_t> match(lo, hi);
    std::partial_sort(match.begin(), match.begin() + static_cast<ptrdiff_t>(end), match.end(),
                      before);
    for (size_t k = offset; k < end; ++k) page.rows.push_back(&rows_[match[k]]);
    return page;
  }
  const std::vector<uint32_t>& sorted = order(key, descending);
  if (prefix.empty()) {
    // Every row matches: the page is a slice of the prebuilt order.
    for (size_t k = offset; k < end; ++k) page.rows.push_back(&rows_[sorted[k]]);
    return page;
  }
  // Many matches of a prefix: walk the prebuilt order, keeping rows inside the prefix's id range.
  const auto rank_lo = static_cast<uint32_t>(lo - by_id_.begin());
  const auto rank_hi = static_cast<uint32_t>(hi - by_id_.begin());
  size_t skipped = 0;
  for (uint32_t row : sorted) {
    if (page.rows.size() == n) break;
    if (id_rank_[row] < rank_lo || id_rank_[row] >= rank_hi) continue;
    if (skipped < offset) {
      ++skipped;
    } else {
      page.rows.push_back(&rows_[row]);
    }
  }
  return page;
}

void write_request_totals_json(BufferedOut& out, const RequestRow& r) {
  out.put(",\"tokens_in\":");
  json_uint(out, r.tokens_in);
  out.put(",\"tokens_out\":");
  json_uint(out, r.tokens_out);
  out.put(",\"steps\":");
  json_uint(out, r.steps);
  out.put(",\"device_ns_shared\":");
  json_int(out, r.device_shared);
  out.put(",\"device_ns_apportioned\":");
  json_int(out, r.device_apportioned);
  out.put(",\"host_ns\":");
  json_int(out, r.host);
}

}  // namespace huoyan::server
