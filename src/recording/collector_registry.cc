#include "src/recording/collector_registry.h"

#include <map>
#include <mutex>

#include "src/collect/cann/cann_collector.h"
#include "src/collect/cupti/cupti_collector.h"
#include "src/recording/fake_collector.h"
#include "src/recording/host_collector.h"

namespace huoyan {
namespace {

std::unique_ptr<Collector> make_host(const ProfilerOptions& o, std::string_view settings) {
  if (!settings.empty()) return nullptr;
  recording::HostCollector::Options options;
  options.clock = o.clock;
  options.buffer_slots = o.thread_buffer_events;
  options.drain_interval = o.drain_interval;
  options.process_name = o.process_name;
  return std::make_unique<recording::HostCollector>(options);
}

std::unique_ptr<Collector> make_fake(const ProfilerOptions&, std::string_view settings) {
  if (!settings.empty()) return nullptr;
  return std::make_unique<FakeCollector>(FakeCollector::Options{});
}

struct Table {
  std::mutex mu;
  std::map<std::string, CollectorFactory, std::less<>> factories{
      {"host", &make_host},
      {"fake", &make_fake},
      // Device backends load their vendor library at start(); absent → a clear error there.
      {"cupti",
       [](const ProfilerOptions&, std::string_view settings) -> std::unique_ptr<Collector> {
         if (!settings.empty()) return nullptr;
         return make_cupti_collector();
       }},
      // "cann:aclprof,msprof=…": settings parsed by parse_cann_settings (cann_collector.h).
      {"cann",
       [](const ProfilerOptions&, std::string_view settings) -> std::unique_ptr<Collector> {
         return make_cann_collector(settings);
       }},
  };
};

Table& table() {
  static Table* t = new Table();  // leaked: profilers may start during static destruction
  return *t;
}

}  // namespace

void register_collector_factory(std::string name, CollectorFactory factory) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.factories[std::move(name)] = std::move(factory);
}

std::unique_ptr<Collector> make_collector(std::string_view name, const ProfilerOptions& options) {
  const size_t colon = name.find(':');
  const std::string_view settings =
      colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
  CollectorFactory factory;
  {
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    auto it = t.factories.find(name.substr(0, colon));
    if (it == t.factories.end()) return nullptr;
    factory = it->second;
  }
  return factory(options, settings);
}

std::vector<std::string> collector_names() {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  std::vector<std::string> out;
  for (const auto& [name, f] : t.factories) out.push_back(name);
  return out;
}

}  // namespace huoyan
