// GET /api/requests (the request list, prefix search) and /api/event (one event, its args and
// the requests it served).
#include <cstdint>
#include <string>
#include <unordered_set>

#include "src/analysis/attribution.h"
#include "src/server/api_context.h"
#include "src/writers/json_out.h"

namespace huoyan::server {
namespace {

void json_time_or_null(BufferedOut& out, int64_t ns) {
  if (ns == kNoTime) {
    out.put("null");
  } else {
    json_int(out, ns);
  }
}

void handle_requests(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  const std::string prefix = q.text("prefix");
  const auto offset = static_cast<size_t>(q.integer("offset", 0, 0, INT32_MAX));
  const auto limit = static_cast<size_t>(q.integer("limit", 50, 0, 10000));
  RequestSortKey key = RequestSortKey::kId;
  bool descending = false;
  if (q.has("sort") && !parse_request_sort(q.text("sort"), &key, &descending)) {
    q.fail(
        "sort: expected id, arrival_ns, steps, device_ns, host_ns or tokens_out (with an "
        "optional leading '-'), got '" +
        q.text("sort").substr(0, 64) + "'");
  }
  if (!check_query(q, res)) return;
  const std::shared_ptr<const RequestIndex> index = ctx.request_index();
  const RequestIndex::Page page = index->query(prefix, key, descending, offset, limit);
  send_json(res, build_json([&](BufferedOut& out) {
              out.put("{\"total\":");
              json_uint(out, page.total);
              out.put(",\"offset\":");
              json_uint(out, offset);
              out.put(",\"requests\":[");
              for (size_t i = 0; i < page.rows.size(); ++i) {
                const RequestRow& r = *page.rows[i];
                out.put(i == 0 ? "\n{\"id\":" : ",\n{\"id\":");
                json_string(out, r.id_text);
                out.put(",\"arrival_ns\":");
                json_time_or_null(out, r.arrival);
                out.put(",\"first_token_ns\":");
                json_time_or_null(out, r.first_token);
                out.put(",\"finish_ns\":");
                json_time_or_null(out, r.finish);
                write_request_totals_json(out, r);
                out.put('}');
              }
              out.put(page.rows.empty() ? "]}\n" : "\n]}\n");
            }));
}

void write_arg_value(BufferedOut& out, const ArgValue& v) {
  switch (v.type) {
    case ArgType::kNull:
      out.put("null");
      break;
    case ArgType::kBool:
      out.put(v.b ? "true" : "false");
      break;
    case ArgType::kInt:
      json_int(out, v.i);
      break;
    case ArgType::kUint:
      json_uint(out, v.u);
      break;
    case ArgType::kDouble:
      json_double(out, v.d);
      break;
    case ArgType::kString:
      json_string(out, v.s);
      break;
    case ArgType::kJson:
      out.put(v.s);
      break;  // verbatim nested JSON from the input
  }
}

void handle_event(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  if (!q.has("id")) q.fail("id: required (an event id from /api/timeline)");
  const int64_t id = q.integer("id", 0, 0, INT64_MAX);
  const AttributionMode mode = q.mode("mode", AttributionMode::kApportioned);
  if (!check_query(q, res)) return;
  const Snapshot snapshot = ctx.store.snapshot();
  const auto seq = static_cast<EventSeq>(id);
  if (!snapshot.contains(seq)) {
    return send_error(
        res, 404,
        "unknown event id '" + std::to_string(id) + "' (never recorded, or evicted since)");
  }
  const EventView ev = snapshot.at(seq);
  const std::vector<RequestShare> shares = event_requests(ctx.store, snapshot, seq, mode);
  send_json(res, build_json([&](BufferedOut& out) {
              out.put("{\"id\":");
              json_uint(out, seq);
              out.put(",\"name\":");
              json_string(out, snapshot.str(ev->name));
              out.put(",\"cat\":");
              json_string(out, snapshot.str(ev->cat));
              out.put(",\"kind\":");
              json_string(out, kind_name(snapshot.kind_of(*ev)));
              out.put(",\"track\":");
              json_string(out, snapshot.track_label(ev->track));
              out.put(",\"track_id\":");
              json_uint(out, ev->track);
              out.put(",\"ts_ns\":\"");
              json_int(out, ev->ts);
              out.put("\",\"dur_ns\":");
              json_int(out, ev->dur);
              out.put(",\"step\":");
              if (ev->step == 0) {
                out.put("null");
              } else {
                json_uint(out, ev->step);
              }
              out.put(",\"request_id\":");
              if (ev->request == 0) {
                out.put("null");
              } else {
                json_string(out, snapshot.str(ev->request));
              }
              // Stored args; a key that occurs again later is written once (the last wins).
              out.put(",\"args\":{");
              const auto args = ev.args();
              std::unordered_set<StringId> seen;
              std::vector<size_t> keep;
              for (size_t i = args.size(); i-- > 0;) {
                if (seen.insert(args[i].key).second) keep.push_back(i);
              }
              bool first = true;
              for (size_t k = keep.size(); k-- > 0;) {
                const StoredArg& a = args[keep[k]];
                if (!first) out.put(',');
                first = false;
                json_string(out, snapshot.str(a.key));
                out.put(':');
                write_arg_value(out, a.value());
              }
              out.put("},\"mode\":");
              json_string(out, attribution_mode_name(mode));
              out.put(",\"requests\":[");
              for (size_t i = 0; i < shares.size(); ++i) {
                if (i > 0) out.put(',');
                out.put("{\"id\":");
                json_string(out, snapshot.str(shares[i].request));
                out.put(",\"share\":");
                json_double(out, shares[i].share);
                out.put(",\"ns\":");
                json_int(out, shares[i].ns);
                out.put('}');
              }
              out.put("]}\n");
            }));
}

}  // namespace

void register_request_routes(httplib::Server& http, ApiContext& ctx) {
  using httplib::Request;
  using httplib::Response;
  http.Get("/api/requests", [&ctx](const Request& q, Response& r) { handle_requests(ctx, q, r); });
  http.Get("/api/event", [&ctx](const Request& q, Response& r) { handle_event(ctx, q, r); });
}

}  // namespace huoyan::server
