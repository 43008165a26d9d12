// Many clients against a store that a writer keeps appending to (and evicting from): every
// answer is a 200 with a well-formed body. Bounded in requests and time; meant to run under
// ThreadSanitizer too (HUOYAN_SANITIZE=thread).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "src/server/server_test_harness.h"

namespace huoyan::server::testing {
namespace {

TEST(ServerConcurrency, ClientsWhileTheStoreGrowsAndEvicts) {
  ServerOptions o;
  o.threads = 8;
  SyntheticTrace trace;
  trace.steps = 100;
  // Small capacity: the writer below makes the store evict continuously.
  TestServer s(o, trace, StoreOptions{.capacity_events = 20'000});
  const int64_t t0 = trace.t0;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended_steps{0};
  std::thread writer([&] {
    SyntheticTrace more = trace;
    more.steps = 20;
    for (int round = 1; !stop && round < 100000; ++round) {
      more.t0 = trace.t0 + static_cast<int64_t>(round * more.steps) * more.step_ns;
      more.first_step = trace.steps + 1 + static_cast<uint64_t>(round) * more.steps;
      more.first_request = 100'000 * static_cast<size_t>(round);
      fill_synthetic(s.store(), more);
      appended_steps += more.steps;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  const std::vector<std::string> paths = {
      "/api/status",
      "/metrics",
      "/api/devices",
      "/api/requests?limit=20&sort=-device_ns",
      "/api/requests?prefix=req-00&limit=5",
      "/api/flamegraph?max_nodes=200",
      "/api/kernels?group=stream",
      "/api/timeline?width=400",
      "/api/profile?start_ns=" + std::to_string(t0) + "&end_ns=" + std::to_string(t0 + 2'000'000),
      "/api/profile?format=folded",
  };
  constexpr int kClients = 16;
  constexpr int kRequestsEach = 24;
  std::atomic<int> ok{0};
  std::atomic<int> sent{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  // Clients keep asking until the store has evicted under them (bounded): how many requests
  // that takes depends on the machine, not on the test.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cli = s.client();
      simdjson::dom::parser parser;
      for (int i = 0; i < kRequestsEach ||
                      (s.store().dropped() == 0 && std::chrono::steady_clock::now() < give_up);
           ++i) {
        ++sent;
        const std::string& path = paths[static_cast<size_t>(c + i) % paths.size()];
        auto r = cli.Get(path.c_str());
        if (!r || r->status != 200) {
          if (failures[c].empty()) {
            failures[c] =
                path + " -> " + (r ? std::to_string(r->status) + " " + r->body : "no response");
          }
          continue;
        }
        const bool json = r->get_header_value("Content-Type") == "application/json";
        simdjson::dom::element doc;
        if (json && parser.parse(r->body).get(doc) != simdjson::SUCCESS) {
          if (failures[c].empty()) failures[c] = path + " -> malformed JSON";
          continue;
        }
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  writer.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
  EXPECT_GE(sent, kClients * kRequestsEach);
  EXPECT_EQ(ok, sent);
  EXPECT_GT(appended_steps.load(), 0u);
  EXPECT_GT(s.store().dropped(), 0u);  // eviction really happened under the readers
}

TEST(ServerConcurrency, StopWhileStreaming) {
  SyntheticTrace trace;
  trace.steps = 3000;
  auto s = std::make_unique<TestServer>(ServerOptions{}, trace);
  std::thread reader([&] {
    httplib::Client c = s->client();
    // Each may complete, be cut by stop(), or fail to connect: none may crash or hang.
    for (int i = 0; i < 5; ++i) (void)c.Get("/api/profile");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  s->server().stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(s->server().running());
  reader.join();
  s.reset();
}

}  // namespace
}  // namespace huoyan::server::testing
