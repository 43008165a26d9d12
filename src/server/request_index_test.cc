#include "src/server/request_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <random>
#include <utility>

#include "src/analysis/attribution.h"
#include "src/server/server_test_util.h"

namespace huoyan::server {
namespace {

TEST(RequestIndex, TotalsMatchTheAttributionFunctions) {
  TraceStore store;
  testing::SyntheticTrace o;
  o.steps = 120;
  o.batch = 5;
  o.kernels_per_step = 7;
  const auto info = testing::fill_synthetic(store, o);
  const Snapshot snap = store.snapshot();
  const auto index = RequestIndex::build(store);
  ASSERT_EQ(index->size(), info.request_ids.size());
  const auto page = index->query("", RequestSortKey::kId, false, 0, 100000);
  ASSERT_EQ(page.rows.size(), info.request_ids.size());
  for (const RequestRow* row : page.rows) {
    int64_t shared = 0, apportioned = 0;
    for (const auto& a : request_device_events(store, snap, row->id, AttributionMode::kShared)) {
      shared += a.ns;
    }
    for (const auto& a :
         request_device_events(store, snap, row->id, AttributionMode::kApportioned)) {
      apportioned += a.ns;
    }
    EXPECT_EQ(row->device_shared, shared) << row->id_text;
    EXPECT_EQ(row->device_apportioned, apportioned) << row->id_text;
    // Own spans: tokenize (50 µs) then queue (400 µs), adjacent on the frontend thread.
    EXPECT_EQ(row->host, 450'000) << row->id_text;
    const auto req = store.request(row->id);
    ASSERT_TRUE(req);
    EXPECT_EQ(row->steps, req->steps.size());
    EXPECT_EQ(row->arrival, req->arrival);
    EXPECT_NE(row->arrival, kNoTime);
  }
}

TEST(RequestIndex, ApportionedTimesOfAStepAddUpToItsDeviceTime) {
  // Random token counts, including zero-token members and a request listed twice.
  TraceStore store;
  std::mt19937_64 rng(7);
  const StringId kernel = store.intern("k");
  std::vector<StringId> ids;
  for (int i = 0; i < 9; ++i) ids.push_back(store.intern("r" + std::to_string(i)));
  {
    auto w = store.writer();
    const TrackId t = w.device_track(DeviceType::kGpu, 0, 7);
    for (uint64_t s = 1; s <= 50; ++s) {
      Step step;
      step.id = s;
      for (int m = 0; m < 1 + static_cast<int>(rng() % 6); ++m) {
        step.members.push_back({ids[rng() % ids.size()], static_cast<uint32_t>(rng() % 4)});
      }
      w.add_step(step);
      for (int k = 0; k < 5; ++k) {
        Event e;
        e.kind = EventKind::kKernel;
        e.name = kernel;
        e.track = t;
        e.step = s;
        e.ts = static_cast<int64_t>(s * 1000 + k * 100);
        e.dur = static_cast<int64_t>(rng() % 1000);
        w.append(e);
      }
    }
  }
  const Snapshot snap = store.snapshot();
  const auto index = RequestIndex::build(store);
  const auto page = index->query("", RequestSortKey::kId, false, 0, 100);
  for (const RequestRow* row : page.rows) {
    int64_t apportioned = 0;
    for (const auto& a :
         request_device_events(store, snap, row->id, AttributionMode::kApportioned)) {
      apportioned += a.ns;
    }
    EXPECT_EQ(row->device_apportioned, apportioned) << row->id_text;
  }
}

// Every page of every prefix, key and direction equals the brute-force answer. `steps` decides
// the row count: above 4096 matches the index walks its prebuilt orders instead of sorting.
void check_pages_against_brute_force(size_t steps, size_t min_rows) {
  TraceStore store;
  testing::SyntheticTrace o;
  o.steps = steps;
  o.batch = 8;
  o.steps_per_request = 3;
  testing::fill_synthetic(store, o);
  const auto index = RequestIndex::build(store);
  std::vector<const RequestRow*> all =
      index->query("", RequestSortKey::kId, false, 0, 1 << 20).rows;
  ASSERT_GT(all.size(), min_rows);
  for (std::string prefix : {"", "req-0001", "req-00012", "nope", "req-"}) {
    for (auto key : {RequestSortKey::kId, RequestSortKey::kArrival, RequestSortKey::kDevice,
                     RequestSortKey::kSteps, RequestSortKey::kHost, RequestSortKey::kTokensOut}) {
      for (bool desc : {false, true}) {
        for (auto [offset, limit] :
             std::initializer_list<std::pair<size_t, size_t>>{{0, 0},
                                                              {0, 1},
                                                              {0, 7},
                                                              {0, 50},
                                                              {0, 100000},
                                                              {3, 7},
                                                              {49, 50},
                                                              {1000, 100},
                                                              {all.size() - 2, 50},
                                                              {all.size(), 10},
                                                              {all.size() + 5, 10}}) {
          std::vector<const RequestRow*> want;
          for (const RequestRow* r : all) {
            if (r->id_text.starts_with(prefix)) want.push_back(r);
          }
          auto value = [&](const RequestRow* r) -> int64_t {
            switch (key) {
              case RequestSortKey::kArrival:
                return r->arrival;
              case RequestSortKey::kDevice:
                return r->device_shared;
              case RequestSortKey::kSteps:
                return static_cast<int64_t>(r->steps);
              case RequestSortKey::kHost:
                return r->host;
              case RequestSortKey::kTokensOut:
                return static_cast<int64_t>(r->tokens_out);
              case RequestSortKey::kId:
                return 0;
            }
            return 0;
          };
          std::stable_sort(want.begin(), want.end(), [&](const RequestRow* a, const RequestRow* b) {
            if (key == RequestSortKey::kId) {
              return desc ? a->id_text > b->id_text : a->id_text < b->id_text;
            }
            return desc ? value(a) > value(b) : value(a) < value(b);
          });
          const size_t total = want.size();
          want.erase(want.begin(), want.begin() + static_cast<ptrdiff_t>(std::min(offset, total)));
          if (want.size() > limit) want.resize(limit);
          const auto page = index->query(prefix, key, desc, offset, limit);
          EXPECT_EQ(page.total, total) << prefix;
          ASSERT_EQ(page.rows.size(), want.size()) << prefix;
          for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_EQ(page.rows[i]->id_text, want[i]->id_text)
                << "prefix '" << prefix << "' key " << static_cast<int>(key) << " desc " << desc
                << " offset " << offset << " at " << i;
          }
        }
      }
    }
  }
}

TEST(RequestIndex, PagesAgreeWithBruteForce) { check_pages_against_brute_force(400, 1000); }

TEST(RequestIndex, PagesOfManyRowsAgreeWithBruteForce) {
  check_pages_against_brute_force(1600, 4096);
}

TEST(RequestIndex, SortKeys) {
  RequestSortKey key;
  bool desc;
  EXPECT_TRUE(parse_request_sort("-device_ns", &key, &desc));
  EXPECT_EQ(key, RequestSortKey::kDevice);
  EXPECT_TRUE(desc);
  EXPECT_TRUE(parse_request_sort("arrival_ns", &key, &desc));
  EXPECT_FALSE(desc);
  EXPECT_FALSE(parse_request_sort("--id", &key, &desc));
  EXPECT_FALSE(parse_request_sort("device_ns_shared", &key, &desc));
  EXPECT_FALSE(parse_request_sort("", &key, &desc));
}

}  // namespace
}  // namespace huoyan::server
