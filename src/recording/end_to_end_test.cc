// End to end: a small multi-threaded serving loop (continuous batching of random requests, fake
// device kernels, CPU kernels from worker threads), snapshots taken while it runs, then the final
// snapshot → Chrome JSON → read back → per-request totals, which must equal what the loop itself
// launched, in both attribution modes.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "huoyan/fake_device.h"
#include "huoyan/huoyan.h"
#include "src/analysis/attribution.h"
#include "src/readers/chrome_json_reader.h"
#include "src/recording/recording_test_util.h"

namespace huoyan {
namespace {

struct Expected {
  int64_t shared = 0;
  int64_t apportioned = 0;
  uint64_t kernels = 0;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
};

struct CpuWork {
  uint64_t step;
  int64_t dur;
  int stream;
};

class Server {
 public:
  Server(Profiler& profiler, uint64_t seed) : device_(profiler), rng_(seed) {}

  // The scheduler loop: runs until every request has finished.
  void serve(int requests) {
    set_thread_name("scheduler");
    std::vector<Request> waiting, running;
    for (int i = 0; i < requests; ++i) {
      waiting.push_back({"r-" + std::to_string(i), 1 + static_cast<uint32_t>(rng_() % 64),
                         1 + static_cast<int>(rng_() % 12), 0, false});
    }
    for (auto& r : waiting) {
      r.arrival = now_ns();
      request_arrival(r.id, r.prompt);
      expected_[r.id].tokens_in = r.prompt;
    }
    while (!waiting.empty() || !running.empty()) {
      // Admit up to 3 new requests per iteration (continuous batching).
      for (int k = 0; k < 3 && !waiting.empty(); ++k) {
        Request r = waiting.front();
        waiting.erase(waiting.begin());
        record_request_span(r.id, "queue_wait", r.arrival, now_ns());
        { HUOYAN_REQUEST_SCOPE("tokenize", r.id); }
        running.push_back(r);
      }
      std::vector<StepEntry> entries;
      for (const auto& r : running) entries.push_back({r.id, r.prefilled ? 1u : r.prompt});
      {
        StepScope step(entries);
        HUOYAN_SCOPE("forward");
        launch_kernels(step.id(), entries);
      }
      for (auto& r : running) {
        if (!r.prefilled) request_first_token(r.id);
        r.prefilled = true;
        --r.decode_left;
        ++expected_[r.id].tokens_out;
      }
      for (auto it = running.begin(); it != running.end();) {
        if (it->decode_left <= 0) {
          request_finish(it->id, expected_[it->id].tokens_out);
          it = running.erase(it);
        } else {
          ++it;
        }
      }
    }
    close_workers();
  }

  void worker(int index) {
    set_thread_name("worker-" + std::to_string(index));
    while (true) {
      CpuWork work;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return closed_ || !work_.empty(); });
        if (work_.empty()) return;
        work = work_.front();
        work_.pop_front();
      }
      const int64_t start = now_ns();
      record_kernel({.name = "cpu_matmul",
                     .device_type = DeviceKind::kCpu,
                     .stream = work.stream,
                     .start_ns = start,
                     .end_ns = start + work.dur,
                     .step = work.step,
                     .attrs = {{"flops", 1.5e9}, {"group_size", 32}}});
    }
  }

  FakeDevice& device() { return device_; }
  const std::map<std::string, Expected>& expected() const { return expected_; }

 private:
  struct Request {
    std::string id;
    uint32_t prompt;
    int decode_left;
    int64_t arrival;
    bool prefilled;
  };

  void launch_kernels(uint64_t step, const std::vector<StepEntry>& entries) {
    std::vector<StepMember> members;
    for (const auto& e : entries) members.push_back({0, e.tokens});
    auto account = [&](int64_t dur) {
      const std::vector<int64_t> parts = apportion(dur, members);
      for (size_t i = 0; i < entries.size(); ++i) {
        Expected& x = expected_[std::string(entries[i].request_id)];
        x.shared += dur;
        x.apportioned += parts[i];
        ++x.kernels;
      }
    };
    const int device_kernels = 1 + static_cast<int>(rng_() % 3);
    for (int k = 0; k < device_kernels; ++k) {
      const int64_t dur = 1000 + static_cast<int64_t>(rng_() % 50000);
      ASSERT_TRUE(
          device_.launch(static_cast<int64_t>(rng_() % 4), k == 0 ? "attention" : "ffn", dur));
      account(dur);
    }
    const int cpu_kernels = static_cast<int>(rng_() % 3);
    for (int k = 0; k < cpu_kernels; ++k) {
      const int64_t dur = 500 + static_cast<int64_t>(rng_() % 20000);
      {
        std::lock_guard<std::mutex> lock(mu_);
        work_.push_back({step, dur, k});
      }
      cv_.notify_one();
      account(dur);
    }
  }

  void close_workers() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  FakeDevice device_;
  std::mt19937_64 rng_;
  std::map<std::string, Expected> expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CpuWork> work_;
  bool closed_ = false;
};

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "huoyan_e2e_" + std::to_string(getpid()) + "_" + name;
}

TEST(EndToEnd, PerRequestTotalsSurviveChromeJsonRoundTrip) {
  ProfilerOptions o = testing_util::test_options({"host", "fake"});
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());
  Server server(profiler, 7);
  std::thread w0([&] { server.worker(0); });
  std::thread w1([&] { server.worker(1); });
  std::thread scheduler([&] { server.serve(40); });
  // Live snapshots while the loop runs: collection does not stop.
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      ProfileSnapshot live = profiler.snapshot({.window = std::chrono::milliseconds(10)});
      EXPECT_FALSE(live.chrome_json().empty());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  scheduler.join();
  w0.join();
  w1.join();
  server.device().synchronize();
  done = true;
  watcher.join();
  EXPECT_TRUE(profiler.running());

  const ProfileSnapshot snap = profiler.snapshot();
  ASSERT_EQ(profiler.stats().dropped_events, 0u);
  const auto& expected = server.expected();
  ASSERT_EQ(snap.requests().size(), expected.size());
  for (const auto& [id, x] : expected) {
    const RequestTotals* t = snap.request(id);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_GT(x.kernels, 0u) << id;
    EXPECT_EQ(t->device_shared_ns, x.shared) << id;
    EXPECT_EQ(t->device_apportioned_ns, x.apportioned) << id;
    EXPECT_EQ(t->device_events, x.kernels) << id;
    EXPECT_EQ(t->tokens_in, x.tokens_in) << id;
    EXPECT_EQ(t->tokens_out, x.tokens_out) << id;
    EXPECT_NE(t->arrival_ns, kNoTimestamp) << id;
    EXPECT_GE(t->first_token_ns, t->arrival_ns) << id;
    EXPECT_GE(t->finish_ns, t->first_token_ns) << id;
    EXPECT_GT(t->host_ns, 0) << id;  // queue_wait + tokenize
  }

  // Through the file and back.
  const std::string path = temp_path("all.json");
  std::string error;
  ASSERT_TRUE(snap.write_chrome_json(path, &error)) << error;
  TraceStore back;
  auto read = read_chrome_json_file(path, back);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const Snapshot back_snap = back.snapshot();
  for (const auto& [id, x] : expected) {
    StringId rid = 0;
    ASSERT_TRUE(back.strings()->find(id, &rid)) << id;
    int64_t shared = 0, apportioned = 0;
    uint64_t kernels = 0;
    for (const auto& a : request_device_events(back, back_snap, rid, AttributionMode::kShared)) {
      shared += a.ns;
      ++kernels;
    }
    for (const auto& a :
         request_device_events(back, back_snap, rid, AttributionMode::kApportioned)) {
      apportioned += a.ns;
    }
    EXPECT_EQ(shared, x.shared) << id;
    EXPECT_EQ(apportioned, x.apportioned) << id;
    EXPECT_EQ(kernels, x.kernels) << id;
    auto info = back.request(rid);
    ASSERT_TRUE(info.has_value()) << id;
    EXPECT_EQ(info->tokens_in, x.tokens_in) << id;
    EXPECT_EQ(info->tokens_out, x.tokens_out) << id;
  }
  std::remove(path.c_str());

  // One request's trace carries its attribution in args.
  const ProfileSnapshot one = profiler.snapshot({.request_id = "r-3"});
  EXPECT_EQ(one.requests().size(), 1u);
  const std::string json = one.chrome_json();
  EXPECT_NE(json.find("\"request_id\""), std::string::npos);
  EXPECT_NE(json.find("\"share\""), std::string::npos);
  EXPECT_NE(json.find("\"batch_size\""), std::string::npos);
  ASSERT_NE(one.request("r-3"), nullptr);
  EXPECT_EQ(one.request("r-3")->device_apportioned_ns, expected.at("r-3").apportioned);
}

}  // namespace
}  // namespace huoyan
