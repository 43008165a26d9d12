// GET /api/timeline: events per device stream and host thread in a time window, reduced to
// what `width` pixels can show (see timeline.h for the level of detail).
#include "src/analysis/attribution.h"
#include "src/server/api_context.h"

namespace huoyan::server {
namespace {

void handle_timeline(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  constexpr int64_t kMinNs = kNoTime + 1;
  int64_t start = q.integer("start_ns", kNoTime, kMinNs, INT64_MAX);
  int64_t end = q.integer("end_ns", kNoTime, kMinNs, INT64_MAX);
  const auto width = static_cast<uint32_t>(q.integer("width", 1600, 1, 20000));
  if (!check_query(q, res)) return;
  StringId request = 0;
  if (!resolve_request(ctx, q, res, &request)) return;

  std::shared_ptr<const TimelineIndex> index;
  if (request != 0) {
    // One request: its steps' device events and its host spans (small; not cached).
    Snapshot snapshot = ctx.store.snapshot();
    std::vector<EventSeq> seqs = request_host_events(ctx.store, snapshot, request);
    for (const auto& a :
         request_device_events(ctx.store, snapshot, request, AttributionMode::kShared)) {
      seqs.push_back(a.seq);
    }
    index = TimelineIndex::build(std::move(snapshot), seqs);
  } else {
    index = ctx.timeline_index();
  }

  // Default window: everything selected.
  const bool explicit_window = start != kNoTime || end != kNoTime;
  if (start == kNoTime) start = index->empty() ? 0 : index->start();
  if (end == kNoTime) end = index->empty() ? start : index->end();
  if (end <= start) {
    if (explicit_window) return send_error(res, 400, "end_ns must be greater than start_ns");
    end = start + 1;  // nothing, or a single instant: a 1 ns window
  }
  int64_t span = 0;
  if (__builtin_sub_overflow(end, start, &span)) {
    return send_error(res, 400, "start_ns..end_ns: window too large");
  }
  send_json(res, build_json([&](BufferedOut& out) {
              index->write_json({start, end, width}, out);
            }));
}

}  // namespace

void register_timeline_routes(httplib::Server& http, ApiContext& ctx) {
  http.Get("/api/timeline",
           [&ctx](const httplib::Request& q, httplib::Response& r) { handle_timeline(ctx, q, r); });
}

}  // namespace huoyan::server
