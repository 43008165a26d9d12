// Property test of request attribution over the whole recording path: thousands of random
// batches (members, token counts, kernels recorded by the scheduler thread and by worker
// threads with the step they were handed), then for every kernel:
//  - its apportioned shares add up exactly to its duration;
//  - it is attributed to exactly the members of the step that launched it, and to no one else.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "huoyan/huoyan.h"
#include "src/analysis/attribution.h"
#include "src/recording/recording_test_util.h"

namespace huoyan {
namespace {

// Kernels handed from the scheduler to worker threads, with the step captured at hand-off.
class WorkQueue {
 public:
  struct Item {
    uint64_t step;
    int64_t dur;
  };
  void push(Item item) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(item);
    cv_.notify_one();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool pop(Item* item) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    *item = items_.front();
    items_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  bool closed_ = false;
};

int64_t random_duration(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return static_cast<int64_t>(rng() % 7);
    case 3:
      return int64_t{1} << 40;  // larger than any realistic kernel: exercises the 128-bit path
    default:
      return static_cast<int64_t>(rng() % 2000000);
  }
}

TEST(AttributionProperty, SharesAddUpAndStayWithinTheStep) {
  ProfilerOptions o = testing_util::test_options();
  o.thread_buffer_events = size_t{1} << 16;
  Profiler profiler(o);
  ASSERT_TRUE(profiler.start());

  std::mt19937_64 rng(20260601);
  std::vector<std::string> pool;
  for (int i = 0; i < 48; ++i) pool.push_back("req-" + std::to_string(i));

  WorkQueue queue;
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&queue, w] {
      WorkQueue::Item item;
      while (queue.pop(&item)) {
        const int64_t t = now_ns();
        record_kernel({.name = "worker_kernel",
                       .stream = w,
                       .start_ns = t,
                       .end_ns = t + item.dur,
                       .step = item.step,
                       .attrs = {{"launched_in", static_cast<int64_t>(item.step)}}});
      }
    });
  }

  std::map<uint64_t, std::set<std::string>> members_of;  // step → its requests
  constexpr int kSteps = 3000;
  for (int s = 0; s < kSteps; ++s) {
    std::vector<StepEntry> entries;
    std::set<std::string> chosen;
    const size_t n = 1 + rng() % 12;
    const bool no_tokens = rng() % 10 == 0;  // then kernels are split equally
    while (chosen.size() < n) chosen.insert(pool[rng() % pool.size()]);
    for (const auto& r : chosen) {
      entries.push_back({r, no_tokens ? 0u : static_cast<uint32_t>(rng() % 512)});
    }
    StepScope step(entries);
    ASSERT_NE(step.id(), 0u);
    members_of[step.id()] = chosen;
    const int kernels = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < kernels; ++k) {
      const int64_t dur = random_duration(rng);
      if (rng() % 2 == 0) {
        const int64_t t = now_ns();
        record_kernel({.name = "scheduler_kernel",
                       .start_ns = t,
                       .end_ns = t + dur,
                       .attrs = {{"launched_in", static_cast<int64_t>(step.id())}}});
      } else {
        queue.push({current_step(), dur});
      }
    }
  }
  queue.close();
  for (auto& w : workers) w.join();
  profiler.stop();
  ASSERT_EQ(profiler.stats().dropped_events, 0u);

  TraceStore& store = ProfilerAccess::store(profiler);
  const Snapshot snap = store.snapshot();
  size_t kernels = 0;
  int64_t kernel_ns = 0;
  snap.for_each([&](const EventView& ev) {
    if (ev->kind != EventKind::kKernel) return;
    ++kernels;
    kernel_ns += ev->dur;
    // Tagged with the step it was launched in.
    ASSERT_EQ(ev.args().size(), 1u);
    ASSERT_EQ(ev->step, static_cast<uint64_t>(ev.args()[0].value().i));
    const auto& members = members_of.at(ev->step);
    const auto shares = event_requests(store, snap, ev.seq, AttributionMode::kApportioned);
    ASSERT_EQ(shares.size(), members.size());
    int64_t sum = 0;
    std::set<std::string> seen;
    for (const RequestShare& s : shares) {
      ASSERT_GE(s.ns, 0);
      sum += s.ns;
      const std::string id(snap.str(s.request));
      ASSERT_TRUE(members.count(id)) << id << " is not a member of step " << ev->step;
      seen.insert(id);
    }
    ASSERT_EQ(sum, ev->dur);
    ASSERT_EQ(seen, members);
    for (const RequestShare& s : event_requests(store, snap, ev.seq, AttributionMode::kShared)) {
      ASSERT_EQ(s.ns, ev->dur);
    }
  });
  EXPECT_GT(kernels, size_t{kSteps});

  // request → kernels: only kernels of steps it was in; apportioned totals conserve time.
  int64_t apportioned_total = 0;
  for (const auto& id : pool) {
    StringId rid = 0;
    if (!store.strings()->find(id, &rid)) continue;
    for (const auto& a : request_device_events(store, snap, rid, AttributionMode::kApportioned)) {
      ASSERT_TRUE(members_of.at(a.step).count(id));
      ASSERT_EQ(snap.at(a.seq)->step, a.step);
      apportioned_total += a.ns;
    }
  }
  EXPECT_EQ(apportioned_total, kernel_ns);
}

}  // namespace
}  // namespace huoyan
