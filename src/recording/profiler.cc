// Profiler: owns the store, the clocks and the collectors; decides which profiler receives the
// host events (the global one).
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include "huoyan/fake_device.h"
#include "huoyan/huoyan.h"
#include "src/collect/cpu_peaks.h"
#include "src/recording/collector_registry.h"
#include "src/recording/fake_collector.h"
#include "src/recording/host_collector.h"
#include "src/recording/profiler_internal.h"
#include "src/recording/recorder.h"

#ifndef HUOYAN_VERSION
#define HUOYAN_VERSION "unknown"
#endif

namespace huoyan {
namespace {
std::mutex g_global_mu;
Profiler* g_global = nullptr;  // guarded by g_global_mu
}  // namespace

struct Profiler::Impl {
  explicit Impl(ProfilerOptions o)
      : options(std::move(o)), store(StoreOptions{options.capacity_events}) {}

  // Collectors' notification of steps opened by the macros' threads.
  static void on_step(void* context, uint64_t step, bool begin) {
    for (Collector* c : static_cast<Impl*>(context)->step_listeners) {
      if (begin) {
        c->on_step_begin(step);
      } else {
        c->on_step_end(step);
      }
    }
  }

  void write_metadata() {
    auto w = store.writer();
    w.set_metadata("huoyan.version", HUOYAN_VERSION);
    w.set_metadata("huoyan.clock", host != nullptr && host->uses_tsc() ? "tsc" : "monotonic");
    for (const auto& [k, v] : clocks.metadata()) w.set_metadata(k, v);
    if (!peaks_json.empty()) w.set_metadata("device_peaks", "{\"CPU\":" + peaks_json + "}");
  }

  const ProfilerOptions options;
  std::string peaks_json;  // this host's measured CPU peaks ("" when off)
  TraceStore store;
  ClockSync clocks;

  // Control state, guarded by mu. Collectors are created by the first start() and live as long
  // as the profiler, so pointers handed out (ProfilerAccess, FakeDevice) stay valid.
  mutable std::mutex mu;
  std::atomic<bool> running{false};
  std::vector<std::unique_ptr<Collector>> collectors;
  std::vector<std::string> notes;          // per collector: why it is not running ("" if it is)
  std::vector<Collector*> step_listeners;  // started collectors other than host
  recording::HostCollector* host = nullptr;
  FakeCollector* fake = nullptr;
  bool hook_installed = false;
};

Profiler::Profiler(ProfilerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Profiler::~Profiler() {
  stop();
  std::lock_guard<std::mutex> lock(g_global_mu);
  if (g_global == this) g_global = nullptr;
}

bool Profiler::start(std::string* error) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  auto fail = [&](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  if (d.running) return fail("profiler already running");
  if (d.collectors.empty()) {
    std::vector<std::unique_ptr<Collector>> made;
    for (const std::string& name : d.options.collectors) {
      auto c = make_collector(name, d.options);
      if (c == nullptr) {
        std::string known;
        for (const auto& n : collector_names()) known += (known.empty() ? "" : ", ") + n;
        return fail("unknown collector '" + name + "' (known: " + known + ")");
      }
      made.push_back(std::move(c));
    }
    d.collectors = std::move(made);
    for (auto& c : d.collectors) {
      if (c->name() == "host") d.host = static_cast<recording::HostCollector*>(c.get());
      if (c->name() == "fake") d.fake = static_cast<FakeCollector*>(c.get());
    }
  }
  bool global;
  {
    std::lock_guard<std::mutex> g(g_global_mu);
    if (g_global == nullptr) g_global = this;
    global = g_global == this;
  }
  const CollectorContext context{&d.store, &d.clocks};
  d.notes.assign(d.collectors.size(), "");
  d.step_listeners.clear();
  for (size_t i = 0; i < d.collectors.size(); ++i) {
    Collector* c = d.collectors[i].get();
    if (c == d.host && !global) {
      d.notes[i] = "standby: host events go to the global profiler";
      continue;
    }
    Status st = c->start(context);
    if (!st.ok()) {
      d.notes[i] = st.message();
      continue;
    }
    if (c != d.host) d.step_listeners.push_back(c);
  }
  if (global && !d.step_listeners.empty()) {
    recording::set_step_hook(&Impl::on_step, &d);
    d.hook_installed = true;
  }
  if (d.options.cpu_peaks && d.peaks_json.empty()) {
    const char* env = std::getenv("HUOYAN_CPU_PEAKS");
    if (env == nullptr || std::string_view(env) != "off")
      d.peaks_json = cpu_peaks_json(cpu_peaks());
  }
  d.write_metadata();
  d.running = true;
  return true;
}

void Profiler::stop() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  if (!d.running) return;
  if (d.hook_installed) {
    recording::set_step_hook(nullptr, nullptr);
    d.hook_installed = false;
  }
  for (size_t i = d.collectors.size(); i-- > 0;) {
    if (d.notes[i].empty()) d.collectors[i]->stop();
  }
  d.write_metadata();
  d.running = false;
}

bool Profiler::running() const { return impl_->running.load(); }

const ProfilerOptions& Profiler::options() const { return impl_->options; }

bool Profiler::set_global(Profiler* profiler) {
  std::lock_guard<std::mutex> lock(g_global_mu);
  if (g_global != nullptr && g_global != profiler && g_global->running()) return false;
  g_global = profiler;
  return true;
}

Profiler* Profiler::global() {
  std::lock_guard<std::mutex> lock(g_global_mu);
  return g_global;
}

ProfileSnapshot Profiler::snapshot(const SnapshotOptions& options) {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (options.flush && d.running) {
      for (size_t i = 0; i < d.collectors.size(); ++i) {
        if (d.notes[i].empty()) d.collectors[i]->flush();
      }
    }
    d.write_metadata();
  }
  return ProfilerAccess::make_snapshot(d.store, options);
}

ProfilerStats Profiler::stats() const {
  const Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  ProfilerStats s;
  s.running = d.running;
  s.global = global() == this;
  s.clock = d.host != nullptr && d.host->uses_tsc() ? "tsc" : "monotonic";
  s.capacity_events = d.store.capacity();
  s.held_events = d.store.held();
  s.evicted_events = d.store.dropped();
  s.store_bytes = d.store.memory_bytes();
  if (d.host != nullptr) {
    s.recorded_events = d.host->recorded();
    s.dropped_events = d.host->dropped();
    s.buffer_bytes = d.host->buffer_bytes();
    s.threads = d.host->thread_stats();
  }
  for (size_t i = 0; i < d.collectors.size(); ++i) {
    const CollectorState c = d.collectors[i]->state();
    CollectorStatus out{c.name, c.state, c.message, c.events, c.dropped};
    if (i < d.notes.size() && !d.notes[i].empty()) {
      out.state = d.notes[i].rfind("standby", 0) == 0 ? "standby" : "unavailable";
      out.message = d.notes[i];
    }
    s.collectors.push_back(std::move(out));
  }
  for (const auto& c : d.clocks.domains()) {
    s.clocks.push_back(ClockOffset{c.name, c.offset_ns, c.uncertainty_ns, c.ns_per_tick});
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// ProfilerAccess

TraceStore& ProfilerAccess::store(Profiler& p) { return p.impl_->store; }
ClockSync& ProfilerAccess::clocks(Profiler& p) { return p.impl_->clocks; }

std::vector<Collector*> ProfilerAccess::collectors(Profiler& p) {
  std::lock_guard<std::mutex> lock(p.impl_->mu);
  std::vector<Collector*> out;
  for (auto& c : p.impl_->collectors) out.push_back(c.get());
  return out;
}

Collector* ProfilerAccess::collector(Profiler& p, std::string_view name) {
  for (Collector* c : collectors(p)) {
    if (c->name() == name) return c;
  }
  return nullptr;
}

recording::HostCollector* ProfilerAccess::host(Profiler& p) {
  std::lock_guard<std::mutex> lock(p.impl_->mu);
  return p.impl_->host;
}

FakeCollector* ProfilerAccess::fake(Profiler& p) {
  std::lock_guard<std::mutex> lock(p.impl_->mu);
  return p.impl_->fake;
}

void ProfilerAccess::flush(Profiler& p) {
  Profiler::Impl& d = *p.impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  if (!d.running) return;
  for (size_t i = 0; i < d.collectors.size(); ++i) {
    if (d.notes[i].empty()) d.collectors[i]->flush();
  }
}

// ---------------------------------------------------------------------------------------------
// FakeDevice

FakeDevice::FakeDevice(Profiler& profiler) : device_(ProfilerAccess::fake(profiler)) {}

int FakeDevice::streams() const {
  return device_ != nullptr ? static_cast<FakeCollector*>(device_)->streams() : 0;
}

bool FakeDevice::launch(int64_t stream, std::string_view name, int64_t dur_ns) {
  return device_ != nullptr &&
         static_cast<FakeCollector*>(device_)->launch(stream, name, dur_ns, current_step());
}

void FakeDevice::synchronize() {
  if (device_ != nullptr) static_cast<FakeCollector*>(device_)->synchronize();
}

}  // namespace huoyan
