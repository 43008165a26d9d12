// GET /api/profile, /api/flamegraph, /api/kernels, /api/devices: traces, flame graphs and
// kernel tables of the whole store or of one request. Thin: decode, call src/analysis, encode.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "src/analysis/flame_tree.h"
#include "src/analysis/kernel_stats.h"
#include "src/analysis/trace_export.h"
#include "src/server/api_context.h"
#include "src/writers/json_out.h"
#include "src/writers/speedscope_writer.h"

namespace huoyan::server {
namespace {

constexpr int64_t kMinNs = kNoTime + 1;  // kNoTime itself means "no bound"
constexpr int64_t kMaxNs = INT64_MAX;

void handle_profile(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  const std::string format = q.one_of("format", "chrome", {"chrome", "folded", "speedscope"});
  const AttributionMode mode = q.mode("mode", AttributionMode::kApportioned);
  const int64_t start = q.integer("start_ns", kNoTime, kMinNs, kMaxNs);
  const int64_t end = q.integer("end_ns", kNoTime, kMinNs, kMaxNs);
  if (!check_query(q, res)) return;
  if (start != kNoTime && end != kNoTime && end <= start) {
    return send_error(res, 400, "end_ns must be greater than start_ns");
  }
  if (format != "chrome" && (start != kNoTime || end != kNoTime)) {
    return send_error(res, 400, "start_ns/end_ns: only with format=chrome");
  }
  // A request that just finished may still sit in a collector's buffer.
  if (ctx.live != nullptr) ctx.live->flush();
  StringId request = 0;
  if (!resolve_request(ctx, q, res, &request)) return;
  auto snapshot = std::make_shared<const Snapshot>(ctx.store.snapshot());
  std::string device;
  if (!resolve_device(*snapshot, q, res, &device)) return;
  if (format == "speedscope" && (request != 0 || !device.empty())) {
    return send_error(res, 400, "request_id/device: only with format=chrome or folded");
  }

  std::string filename = "huoyan";
  if (request != 0) filename += "-" + safe_filename_part(ctx.store.str(request));
  if (!device.empty()) filename += "-" + safe_filename_part(device);
  const TraceStore& store = ctx.store;
  BodyWriter writer;
  const char* type = kJsonType;
  if (format == "chrome") {
    filename += ".json";
    ExportFilter filter;
    filter.request = request;
    filter.start_ns = start;
    filter.end_ns = end;
    filter.device = device;
    filter.mode = mode;
    writer = [&store, snapshot, filter](Sink& sink) {
      return write_filtered_chrome_trace(store, *snapshot, filter, sink);
    };
  } else if (format == "folded") {
    filename += ".folded.txt";
    type = "text/plain; charset=utf-8";
    FlameOptions options;
    options.request = request;
    options.mode = mode;
    options.device = device;
    options.max_nodes = 0;  // a download keeps every frame
    writer = [&store, snapshot, options](Sink& sink) {
      return write_folded(build_flame_tree(store, *snapshot, options), sink);
    };
  } else {
    filename += ".speedscope.json";
    writer = [snapshot](Sink& sink) {
      auto r = write_speedscope(*snapshot, sink, "huoyan");
      return r.ok() ? OkStatus() : r.status();
    };
  }
  res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  send_stream(res, type, std::move(writer), &ctx.stopping);
}

std::shared_ptr<const std::string> flame_json(ApiContext& ctx, const FlameOptions& options) {
  // The snapshot is taken inside: a cached answer must not predate its store generation.
  auto build = [&] {
    const Snapshot snapshot = ctx.store.snapshot();
    FlameTree tree = build_flame_tree(ctx.store, snapshot, options);
    // The root is "all" whatever the selection: the UI's breadcrumbs start there.
    tree.nodes[0].name = "all";
    return build_json([&](BufferedOut& out) {
      write_flame_json(tree, out);
      out.put('\n');
    });
  };
  if (options.request != 0) return std::make_shared<const std::string>(build());  // cheap
  // Everything: O(events), so cached per store generation. The mode does not apply.
  const std::string key = "flame|" + options.device + "|" + std::to_string(options.max_nodes);
  return ctx.responses.get(key, ctx.store, ctx.refresh(), build);
}

void handle_flamegraph(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  FlameOptions options;
  options.mode = q.mode("mode", AttributionMode::kShared);
  options.max_nodes = static_cast<size_t>(q.integer("max_nodes", 20000, 0, 1000000));
  if (!check_query(q, res)) return;
  if (!resolve_request(ctx, q, res, &options.request)) return;
  if (!resolve_device(ctx.store.snapshot(), q, res, &options.device)) return;
  send_json(res, *flame_json(ctx, options));
}

std::shared_ptr<const std::string> kernels_json(ApiContext& ctx, StringId request,
                                                AttributionMode mode, GroupBy group,
                                                const std::string& device, KindSet kinds,
                                                const std::string& kind_text) {
  auto build = [&] {
    const Snapshot snapshot = ctx.store.snapshot();
    std::vector<TimedEvent> events;
    if (request != 0) {
      for (const auto& a : request_device_events(ctx.store, snapshot, request, mode)) {
        events.push_back({a.seq, a.ns});
      }
    } else {
      events = device_events(snapshot);
    }
    if (!device.empty()) {
      std::erase_if(events, [&](const TimedEvent& te) {
        return snapshot.device_label(snapshot.at(te.seq)->track) != device;
      });
    }
    const std::vector<KernelStat> rows = kernel_stats(snapshot, events, group, kinds);
    return build_json([&](BufferedOut& out) { write_kernel_stats_json(rows, out, group); });
  };
  if (request != 0) return std::make_shared<const std::string>(build());
  const std::string key =
      "kernels|" + device + "|" + std::to_string(static_cast<int>(group)) + "|" + kind_text;
  return ctx.responses.get(key, ctx.store, ctx.refresh(), build);
}

void handle_kernels(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  const AttributionMode mode = q.mode("mode", AttributionMode::kShared);
  const GroupBy group = q.group("group", GroupBy::kName);
  // Default: every device-side row (kernels, copies, sets, collectives, waits), each with its
  // kind; shares over device work whatever the filter.
  const KindSet kinds = q.kinds("kind", KindSet::device_side());
  if (!check_query(q, res)) return;
  StringId request = 0;
  if (!resolve_request(ctx, q, res, &request)) return;
  std::string device;
  if (!resolve_device(ctx.store.snapshot(), q, res, &device)) return;
  send_json(res, *kernels_json(ctx, request, mode, group, device, kinds, q.text("kind")));
}

void handle_devices(ApiContext& ctx, const httplib::Request&, httplib::Response& res) {
  const Snapshot snapshot = ctx.store.snapshot();
  // Device processes in their display order, each with the streams seen on it.
  struct Device {
    std::string id;
    std::string kind;
    std::vector<int64_t> streams;
    std::tuple<int32_t, int64_t> order;
  };
  std::map<uint32_t, Device> by_process;
  for (TrackId t = 0; t < snapshot.tracks().size(); ++t) {
    if (!snapshot.is_device_track(t)) continue;
    const uint32_t pi = snapshot.track(t).process;
    auto [it, inserted] = by_process.try_emplace(pi);
    Device& d = it->second;
    if (inserted) {
      const Process& p = snapshot.processes()[pi];
      d.id = snapshot.device_label(t);
      d.kind = p.device_type == DeviceType::kNpu   ? "npu"
               : p.device_type == DeviceType::kGpu ? "gpu"
               : p.device_type == DeviceType::kCpu ? "cpu"
                                                   : "device";
      d.order = {p.has_sort_index ? p.sort_index : INT32_MAX, p.pid};
    }
    d.streams.push_back(snapshot.track(t).tid);
  }
  std::vector<Device*> devices;
  for (auto& [pi, d] : by_process) {
    std::sort(d.streams.begin(), d.streams.end());
    devices.push_back(&d);
  }
  std::sort(devices.begin(), devices.end(),
            [](const Device* a, const Device* b) { return a->order < b->order; });
  send_json(res, build_json([&](BufferedOut& out) {
              out.put('[');
              for (size_t i = 0; i < devices.size(); ++i) {
                out.put(i == 0 ? "\n{\"id\":" : ",\n{\"id\":");
                json_string(out, devices[i]->id);
                out.put(",\"kind\":");
                json_string(out, devices[i]->kind);
                out.put(",\"streams\":[");
                for (size_t k = 0; k < devices[i]->streams.size(); ++k) {
                  if (k > 0) out.put(',');
                  json_int(out, devices[i]->streams[k]);
                }
                out.put("]}");
              }
              out.put(devices.empty() ? "]\n" : "\n]\n");
            }));
}

}  // namespace

void warm_caches(ApiContext& ctx) {
  // In the order a first visit needs them: the flame graph is the page that opens; the request
  // list and kernel table serve later clicks. The timeline index, the next tab and the longest
  // build (about a second at 10 M events), starts at once beside them rather than after. A
  // request that comes while its answer is being built here waits for that build only.
  std::thread timeline([&ctx] {
    if (!ctx.stopping) ctx.timeline_index();
  });
  if (!ctx.stopping) flame_json(ctx, FlameOptions{});
  if (!ctx.stopping) ctx.request_index();
  if (!ctx.stopping) {
    kernels_json(ctx, 0, AttributionMode::kShared, GroupBy::kName, "", KindSet::device_side(), "");
  }
  timeline.join();
}

void register_profile_routes(httplib::Server& http, ApiContext& ctx) {
  using httplib::Request;
  using httplib::Response;
  http.Get("/api/profile", [&ctx](const Request& q, Response& r) { handle_profile(ctx, q, r); });
  http.Get("/api/flamegraph",
           [&ctx](const Request& q, Response& r) { handle_flamegraph(ctx, q, r); });
  http.Get("/api/kernels", [&ctx](const Request& q, Response& r) { handle_kernels(ctx, q, r); });
  http.Get("/api/devices", [&ctx](const Request& q, Response& r) { handle_devices(ctx, q, r); });
}

}  // namespace huoyan::server
