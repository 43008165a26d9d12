// What every route handler shares: the store, the optional live source, the options and the
// whole-store caches. Owned by the Server; handlers run on worker threads and only read it
// (the caches synchronize themselves).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "huoyan/server.h"
#include "src/analysis/diagnosis_stability.h"
#include "src/core/trace_store.h"
#include "src/server/generation_cache.h"
#include "src/server/http_util.h"
#include "src/server/request_index.h"
#include "src/server/serving_metrics.h"
#include "src/server/timeline.h"

namespace huoyan::server {

struct ApiContext {
  ApiContext(const TraceStore& s, const ServerOptions& o, LiveSource* l)
      : store(s), options(o), live(l), started(std::chrono::steady_clock::now()) {}

  std::chrono::milliseconds refresh() const {
    return std::chrono::milliseconds(options.index_refresh_ms);
  }
  std::shared_ptr<const RequestIndex> request_index() {
    return requests.get(store, refresh(), [&] { return RequestIndex::build(store); });
  }
  std::shared_ptr<const TimelineIndex> timeline_index() {
    return timeline.get(store, refresh(), [&] { return TimelineIndex::build(store.snapshot()); });
  }

  const TraceStore& store;
  const ServerOptions& options;
  LiveSource* const live;
  const std::chrono::steady_clock::time_point started;
  std::atomic<bool> stopping{false};  // set by Server::stop(): streams end early

  // TraceStore::memory_bytes() walks every index (tens of ms on big stores): cached too.
  uint64_t memory_bytes() {
    return *memory.get(store, refresh(),
                       [&] { return std::make_shared<const uint64_t>(store.memory_bytes()); });
  }

  GenerationCache<uint64_t> memory;
  GenerationCache<RequestIndex> requests;
  // GET /metrics histograms, accumulated scrape after scrape.
  std::mutex metrics_mu;
  ServingMetrics serving_metrics;
  // Live diagnosis: findings kept stable between refreshes (hysteresis), one tracker per window.
  std::mutex diagnosis_mu;
  std::map<uint64_t, StableDiagnosis> diagnosis_trackers;
  GenerationCache<TimelineIndex> timeline;
  ResponseCache responses;
};

// Shared parameter checks. Each returns false after sending the error response.

// `request_id` when present: its interned id in *request (0 when absent). 404 when the store
// does not know the request.
bool resolve_request(const ApiContext& ctx, Query& q, httplib::Response& res, StringId* request);
// The same for parameter `name` in any store; a non-empty `where` ("the baseline") is named in
// the message.
bool resolve_request(const TraceStore& store, const char* name, std::string_view where, Query& q,
                     httplib::Response& res, StringId* request);
// `device` when present: must be a device label of the snapshot ("NPU 0"), else 404.
bool resolve_device(const Snapshot& snapshot, Query& q, httplib::Response& res,
                    std::string* device);
// 400 with the query's first error, if any.
bool check_query(const Query& q, httplib::Response& res);

// Builds the whole-store answers the web UI asks first (flame graph, request list, kernel
// table; the timeline index on a second thread), so that they are cached before the first
// visit. Long; returns early once ctx.stopping is set.
void warm_caches(ApiContext& ctx);

void register_profile_routes(httplib::Server& http, ApiContext& ctx);   // profile, flamegraph,
                                                                        // kernels, devices
void register_request_routes(httplib::Server& http, ApiContext& ctx);   // requests, event
void register_timeline_routes(httplib::Server& http, ApiContext& ctx);  // timeline
void register_status_routes(httplib::Server& http, ApiContext& ctx);    // status, metrics,
                                                                        // capture
void register_analysis_routes(httplib::Server& http, ApiContext& ctx);  // diagnosis,
                                                                        // flamegraph/diff
// GET of everything else: the embedded web UI (and JSON 404s under /api/).
void register_static_routes(httplib::Server& http, ApiContext& ctx);

}  // namespace huoyan::server
