#include "src/recording/fake_collector.h"

#include <algorithm>
#include <chrono>

#include "huoyan/huoyan.h"

namespace huoyan {
namespace {
constexpr size_t kBatch = 1024;
}  // namespace

FakeCollector::FakeCollector(Options options) : options_(options) {}

FakeCollector::~FakeCollector() { stop(); }

int64_t FakeCollector::device_now_ns() const { return monotonic_ns() + options_.clock_offset_ns; }

Status FakeCollector::start(const CollectorContext& context) {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return Status::Error("fake device already running");
  if (options_.streams <= 0) return Status::Error("fake device: no streams");
  store_ = context.store;
  clocks_ = context.clocks;
  cat_ = store_->intern("kernel");
  clocks_->calibrate("fake", [this] { return device_now_ns(); });
  stream_free_.assign(static_cast<size_t>(options_.streams), 0);
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return OkStatus();
}

void FakeCollector::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  done_cv_.notify_all();
}

bool FakeCollector::launch(int64_t stream, std::string_view name, int64_t dur_ns, uint64_t step) {
  if (step == 0) step = current_step();
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_ || stopping_ || stream < 0 || stream >= options_.streams) return false;
  const uint64_t correlation = ++launched_;
  queue_.push_back(Kernel{stream, store_->intern(name), step, correlation,
                          std::max<int64_t>(dur_ns, 0), device_now_ns()});
  cv_.notify_one();
  return true;
}

void FakeCollector::run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<Kernel> done;
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) break;
    while (!queue_.empty()) {
      Kernel k = queue_.front();
      queue_.pop_front();
      int64_t& free = stream_free_[static_cast<size_t>(k.stream)];
      k.start = std::max(k.launch, free);
      k.end = k.start + k.dur;
      free = k.end;
      last_end_ = std::max(last_end_, k.end);
      completed_.push_back(k);
      ++executed_;
    }
    done.swap(completed_);
    lock.unlock();
    deliver(&done);
    lock.lock();
    delivered_ = executed_;
    done_cv_.notify_all();
  }
  done.swap(completed_);
  lock.unlock();
  deliver(&done);
}

// Moves executed kernels into the store, kBatch per writer lock. Device thread only.
void FakeCollector::deliver(std::vector<Kernel>* done) {
  if (done->empty()) return;
  ClockSync::Domain domain;
  clocks_->get("fake", &domain);
  for (size_t i = 0; i < done->size(); i += kBatch) {
    TraceStore::Writer w = store_->writer();
    for (size_t j = i; j < std::min(done->size(), i + kBatch); ++j) {
      const Kernel& k = (*done)[j];
      Event e;
      e.ts = k.start + domain.offset_ns;
      e.dur = k.end - k.start;
      e.id = k.correlation;
      e.step = k.step;
      e.name = k.name;
      e.cat = cat_;
      e.track = w.device_track(options_.device_type, options_.device, k.stream);
      e.kind = EventKind::kKernel;
      w.append(e);
    }
  }
  done->clear();
}

void FakeCollector::flush() {
  // The device thread delivers after every round; waiting for it is all a flush needs.
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return !running_ || (queue_.empty() && delivered_ == executed_); });
}

void FakeCollector::synchronize() {
  int64_t until;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = launched_;
    done_cv_.wait(lock, [&] { return !running_ || delivered_ >= target; });
    until = last_end_;
  }
  // Simulated time: the last kernel may end in the future.
  const int64_t wait = until - device_now_ns();
  if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
}

void FakeCollector::on_step_begin(uint64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  ++steps_begun_;
}

void FakeCollector::on_step_end(uint64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  ++steps_ended_;
}

uint64_t FakeCollector::steps_begun() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_begun_;
}

uint64_t FakeCollector::steps_ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_ended_;
}

CollectorState FakeCollector::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  CollectorState s;
  s.name = "fake";
  s.state = running_ ? "running" : "stopped";
  s.events = delivered_;
  return s;
}

}  // namespace huoyan
