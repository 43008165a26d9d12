#include "src/core/trace_store.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace huoyan {

std::string_view device_type_name(DeviceType t) {
  switch (t) {
    case DeviceType::kCpu:
      return "CPU";
    case DeviceType::kGpu:
      return "GPU";
    case DeviceType::kNpu:
      return "NPU";
    case DeviceType::kOther:
      return "Device";
    case DeviceType::kNone:
      return "";
  }
  return "";
}

int64_t device_pid(DeviceType type, int32_t device) {
  // Above Linux's largest pid (2^22) yet inside int32: Perfetto rejects pids beyond 2^32 - 1.
  return (int64_t{1} << 30) + static_cast<int64_t>(type) * (int64_t{1} << 24) + device;
}

TraceStore::TraceStore(StoreOptions options)
    : options_(options), strings_(std::make_shared<StringTable>()) {
  if (options_.capacity_events == 0) options_.capacity_events = 1;
  // Eviction granularity is one chunk: at most 1/8 of the capacity (or one event) is given up.
  chunk_events_ =
      static_cast<uint32_t>(std::clamp<size_t>(options_.capacity_events / 8, 1, size_t{1} << 16));
  max_steps_ = std::max<size_t>(4096, options_.capacity_events / 4);
  max_requests_ = std::max<size_t>(4096, options_.capacity_events / 16);
}

// ---------------------------------------------------------------------------------------------
// Writer

TraceStore::Writer::Writer(TraceStore* store) : store_(store), lock_(store->mu_) {}

uint32_t TraceStore::Writer::process(int64_t pid) {
  auto& s = *store_;
  auto it = s.process_index_.find(pid);
  if (it != s.process_index_.end()) return it->second;
  const auto index = static_cast<uint32_t>(s.processes_.size());
  Process p;
  p.pid = pid;
  s.processes_.push_back(p);
  s.process_index_.emplace(pid, index);
  return index;
}

TrackId TraceStore::Writer::track(int64_t pid, int64_t tid) {
  auto& s = *store_;
  auto it = s.track_index_.find({pid, tid});
  if (it != s.track_index_.end()) return it->second;
  const auto id = static_cast<TrackId>(s.tracks_.size());
  Track t;
  t.pid = pid;
  t.tid = tid;
  t.process = process(pid);
  s.tracks_.push_back(t);
  s.by_track_.emplace_back();
  s.track_index_.emplace(std::make_pair(pid, tid), id);
  return id;
}

TrackId TraceStore::Writer::device_track(DeviceType type, int32_t device, int64_t stream) {
  const int64_t pid = device_pid(type, device);
  const bool is_new = store_->process_index_.find(pid) == store_->process_index_.end();
  const TrackId id = track(pid, stream);
  Process& p = process_at(store_->tracks_[id].process);
  if (is_new) {
    p.device_type = type;
    p.role = ProcessRole::kDevice;
    p.device = device;
    p.name = store_->intern(fmt::format("{} {}", device_type_name(type), device));
    p.sort_index = static_cast<int32_t>(type) * 1000 + device;
    p.has_sort_index = true;
  }
  Track& t = track_at(id);
  if (t.name == 0) {
    t.name = store_->intern(fmt::format("Stream {}", stream));
    t.sort_index = static_cast<int32_t>(stream);
    t.has_sort_index = true;
  }
  return id;
}

Process& TraceStore::Writer::process_at(uint32_t index) { return store_->processes_[index]; }
Track& TraceStore::Writer::track_at(TrackId id) { return store_->tracks_[id]; }

void TraceStore::new_chunk_locked() {
  if (!chunks_.empty()) chunks_.back()->publish();
  chunks_.push_back(std::make_shared<Chunk>(next_seq_, chunk_events_));
}

void TraceStore::evict_oldest_locked() {
  std::shared_ptr<Chunk> victim = chunks_.front();
  chunks_.pop_front();
  last_step_list_ = nullptr;
  last_request_list_ = nullptr;
  const uint32_t n = victim->size();
  const EventSeq end = victim->first_seq() + n;
  uint64_t last_step = 0;
  std::vector<EventSeq>* step_list = nullptr;
  for (uint32_t i = 0; i < n; ++i) {
    const Event& e = victim->event(i);
    auto& q = by_track_[e.track];
    while (!q.empty() && q.front() < end) q.pop_front();
    if (e.step != 0 && (step_list == nullptr || e.step != last_step)) {
      last_step = e.step;
      auto it = by_step_.find(e.step);
      step_list = nullptr;
      if (it != by_step_.end()) {
        auto& v = it->second;
        v.erase(v.begin(), std::lower_bound(v.begin(), v.end(), end));
        if (v.empty()) {
          by_step_.erase(it);
        } else {
          step_list = &v;
        }
      }
    }
    if (e.request != 0) {
      auto it = by_request_.find(e.request);
      if (it != by_request_.end()) {
        auto& v = it->second;
        v.erase(v.begin(), std::lower_bound(v.begin(), v.end(), end));
        if (v.empty()) by_request_.erase(it);
      }
    }
  }
  held_ -= n;
  dropped_ += n;
}

void TraceStore::set_input_step_offset(uint64_t offset) {
  std::unique_lock lock(mu_);
  step_offset_ = offset;
}

uint64_t TraceStore::input_step_offset() const {
  std::shared_lock lock(mu_);
  return step_offset_;
}

void TraceStore::set_input_time_offset(int64_t offset_ns) {
  std::unique_lock lock(mu_);
  time_offset_ = offset_ns;
}

int64_t TraceStore::input_time_offset() const {
  std::shared_lock lock(mu_);
  return time_offset_;
}

namespace {

int64_t shifted(int64_t ts, int64_t offset) {
  if (offset == 0 || ts == kNoTime) return ts;
  int64_t out;
  if (!__builtin_add_overflow(ts, offset, &out) && out != kNoTime) return out;
  return offset > 0 ? std::numeric_limits<int64_t>::max() : kNoTime + 1;
}

}  // namespace

void TraceStore::set_append_observer(std::function<void(const Event&)> observer) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  observer_ = std::move(observer);
}

EventSeq TraceStore::Writer::append(const Event& e, std::span<const Arg> args) {
  const auto& s = *store_;
  if ((s.step_offset_ != 0 && e.step != 0) || s.time_offset_ != 0) {
    Event moved = e;
    if (moved.step != 0) moved.step += s.step_offset_;
    moved.ts = shifted(e.ts, s.time_offset_);
    return append_event(moved, args);
  }
  return append_event(e, args);
}

EventSeq TraceStore::Writer::append_event(const Event& e, std::span<const Arg> args) {
  auto& s = *store_;
  if (s.chunks_.empty() || s.chunks_.back()->full()) s.new_chunk_locked();
  bool truncated = false;
  if (!s.chunks_.back()->append(e, args, &truncated)) {
    s.new_chunk_locked();
    s.chunks_.back()->append(e, args, &truncated);
  }
  if (truncated) s.skips_.add("args beyond 4096 per event dropped");
  const EventSeq seq = s.next_seq_++;
  ++s.held_;
  if (s.observer_) s.observer_(e);
  if (e.track < s.by_track_.size()) {
    s.by_track_[e.track].push_back(seq);
    if (is_device_side(e.kind)) ++s.tracks_[e.track].device_events;
  }
  if (e.step != 0) {
    if (s.last_step_list_ == nullptr || s.last_step_ != e.step) {
      s.last_step_ = e.step;
      s.last_step_list_ = &s.by_step_[e.step];
    }
    s.last_step_list_->push_back(seq);
  }
  if (e.request != 0) {
    if (s.last_request_list_ == nullptr || s.last_request_ != e.request) {
      s.last_request_ = e.request;
      s.last_request_list_ = &s.by_request_[e.request];
    }
    s.last_request_list_->push_back(seq);
  }
  s.chunks_.back()->publish();
  while (s.held_ > s.options_.capacity_events && s.chunks_.size() > 1) s.evict_oldest_locked();
  return seq;
}

void TraceStore::Writer::add_step(Step step) {
  auto& s = *store_;
  step.id += s.step_offset_;
  step.start = shifted(step.start, s.time_offset_);
  step.end = shifted(step.end, s.time_offset_);
  for (const auto& m : step.members) {
    auto& steps = s.request_entry_locked(m.request).steps;
    if (steps.empty() || steps.back() != step.id) steps.push_back(step.id);
  }
  s.steps_[step.id] = std::move(step);
  while (s.steps_.size() > s.max_steps_) s.steps_.erase(s.steps_.begin());
}

RequestInfo& TraceStore::request_entry_locked(StringId request) {
  auto it = requests_.find(request);
  if (it == requests_.end()) {
    RequestInfo info;
    info.id = request;
    it = requests_.emplace(request, std::move(info)).first;
    request_order_.push_back(request);
    while (requests_.size() > max_requests_ && !request_order_.empty()) {
      requests_.erase(request_order_.front());
      request_order_.pop_front();
    }
    it = requests_.find(request);
  }
  return it->second;
}

void TraceStore::Writer::mark_request(StringId request, RequestMark mark, int64_t ts) {
  RequestInfo& info = store_->request_entry_locked(request);
  ts = shifted(ts, store_->time_offset_);
  switch (mark) {
    case RequestMark::kArrival:
      info.arrival = ts;
      break;
    case RequestMark::kFirstToken:
      info.first_token = ts;
      break;
    case RequestMark::kFinish:
      info.finish = ts;
      break;
  }
}

void TraceStore::Writer::add_request_tokens(StringId request, uint64_t tokens_in,
                                            uint64_t tokens_out) {
  RequestInfo& info = store_->request_entry_locked(request);
  info.tokens_in += tokens_in;
  info.tokens_out += tokens_out;
}

void TraceStore::Writer::set_metadata(std::string_view key, std::string_view value) {
  for (auto& [k, v] : store_->metadata_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  store_->metadata_.emplace_back(std::string(key), std::string(value));
}

// ---------------------------------------------------------------------------------------------
// Reading

Snapshot TraceStore::snapshot() const {
  std::shared_lock lock(mu_);
  Snapshot s;
  s.strings_ = strings_;
  s.chunks_.reserve(chunks_.size());
  for (const auto& c : chunks_) {
    const uint32_t n = c->size();
    if (n == 0) continue;
    s.chunks_.push_back(c);
    s.counts_.push_back(n);
  }
  s.begin_seq_ = s.chunks_.empty() ? next_seq_ : s.chunks_.front()->first_seq();
  s.end_seq_ = s.chunks_.empty() ? next_seq_ : s.chunks_.back()->first_seq() + s.counts_.back();
  s.tracks_ = tracks_;
  s.processes_ = processes_;
  return s;
}

uint64_t TraceStore::held() const {
  std::shared_lock lock(mu_);
  return held_;
}
uint64_t TraceStore::dropped() const {
  std::shared_lock lock(mu_);
  return dropped_;
}
uint64_t TraceStore::appended() const {
  std::shared_lock lock(mu_);
  return next_seq_;
}
EventSeq TraceStore::first_seq() const {
  std::shared_lock lock(mu_);
  return chunks_.empty() ? next_seq_ : chunks_.front()->first_seq();
}

size_t TraceStore::memory_bytes() const {
  std::shared_lock lock(mu_);
  size_t bytes = strings_->memory_bytes();
  for (const auto& c : chunks_) bytes += c->memory_bytes();
  for (const auto& q : by_track_) bytes += q.size() * sizeof(EventSeq);
  for (const auto& [k, v] : by_step_) bytes += v.capacity() * sizeof(EventSeq) + 32;
  for (const auto& [k, v] : by_request_) bytes += v.capacity() * sizeof(EventSeq) + 32;
  return bytes;
}

std::vector<EventSeq> TraceStore::events_of_track(TrackId track) const {
  std::shared_lock lock(mu_);
  if (track >= by_track_.size()) return {};
  return {by_track_[track].begin(), by_track_[track].end()};
}

std::vector<EventSeq> TraceStore::events_of_step(uint64_t step) const {
  std::shared_lock lock(mu_);
  auto it = by_step_.find(step);
  return it == by_step_.end() ? std::vector<EventSeq>{} : it->second;
}

std::vector<EventSeq> TraceStore::events_of_request(StringId request) const {
  std::shared_lock lock(mu_);
  auto it = by_request_.find(request);
  return it == by_request_.end() ? std::vector<EventSeq>{} : it->second;
}

std::optional<Step> TraceStore::step(uint64_t id) const {
  std::shared_lock lock(mu_);
  auto it = steps_.find(id);
  if (it == steps_.end()) return std::nullopt;
  return it->second;
}

std::optional<TrackId> TraceStore::step_track(uint64_t id) const {
  std::shared_lock lock(mu_);
  auto it = steps_.find(id);
  if (it == steps_.end()) return std::nullopt;
  return it->second.track;
}

std::optional<RequestInfo> TraceStore::request(StringId id) const {
  std::shared_lock lock(mu_);
  auto it = requests_.find(id);
  if (it == requests_.end()) return std::nullopt;
  return it->second;
}

bool TraceStore::has_request(StringId id) const {
  std::shared_lock lock(mu_);
  return requests_.count(id) > 0 || by_request_.count(id) > 0;
}

size_t TraceStore::request_count() const {
  std::shared_lock lock(mu_);
  return requests_.size();
}

size_t TraceStore::step_count() const {
  std::shared_lock lock(mu_);
  return steps_.size();
}

void TraceStore::for_each_request(const std::function<void(const RequestInfo&)>& f) const {
  std::shared_lock lock(mu_);
  for (StringId id : request_order_) {
    auto it = requests_.find(id);
    if (it != requests_.end()) f(it->second);
  }
}

void TraceStore::for_each_step(const std::function<void(const Step&)>& f) const {
  std::shared_lock lock(mu_);
  for (const auto& [id, step] : steps_) f(step);
}

std::vector<std::pair<std::string, std::string>> TraceStore::metadata() const {
  std::shared_lock lock(mu_);
  return metadata_;
}

// ---------------------------------------------------------------------------------------------
// Snapshot

EventView Snapshot::at(EventSeq seq) const {
  // Chunks are consecutive in sequence order; find the last one starting at or before seq.
  auto it = std::upper_bound(
      chunks_.begin(), chunks_.end(), seq,
      [](EventSeq s, const std::shared_ptr<const Chunk>& c) { return s < c->first_seq(); });
  const Chunk* c = (it - 1)->get();
  const auto i = static_cast<uint32_t>(seq - c->first_seq());
  return EventView{&c->event(i), c, seq};
}

std::string Snapshot::device_label(TrackId id) const {
  const Process& p = process_of(id);
  if (p.name != 0) return std::string(str(p.name));
  if (p.label != 0) return std::string(str(p.label));
  return fmt::format("pid {}", p.pid);
}

std::string Snapshot::track_label(TrackId id) const {
  const Track& t = tracks_[id];
  std::string thread;
  if (t.name != 0) {
    thread = std::string(str(t.name));
  } else if (t.tid_label != 0) {
    thread = std::string(str(t.tid_label));
  } else {
    thread = (is_device_track(id) ? "Stream " : "Thread ") + std::to_string(t.tid);
  }
  return device_label(id) + " / " + thread;
}

}  // namespace huoyan
