// GET /api/status and /metrics (the same figures, JSON and Prometheus text), and the capture
// windows of a live profiler (POST /api/capture, /api/capture/stop).
#include <cstdlib>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "src/server/api_context.h"
#include "src/writers/json_out.h"

#ifndef HUOYAN_VERSION
#define HUOYAN_VERSION "0.0.0"
#endif

namespace huoyan::server {
namespace {

// Every figure of both formats, gathered once per request.
struct StatusFigures {
  bool live = false;
  double uptime_s = 0;
  std::vector<std::string> sources;
  std::vector<LiveSource::Collector> collectors;
  uint64_t held = 0, dropped = 0, appended = 0, memory_bytes = 0;
  uint64_t capacity = 0;
  bool bounded = true;  // a file-backed store may have no real capacity
  std::vector<std::pair<std::string, uint64_t>> skipped;
  std::vector<LiveSource::Clock> clocks;
  // Merged inputs and how their clocks were aligned ("clock.input<i>.*" metadata).
  struct Input {
    std::string rank, file, clock, basis, unaligned;
    bool aligned = false;
    int64_t offset_ns = 0;
  };
  std::vector<Input> inputs;
  std::string timeline;  // "clock.timeline": the common time base, when every input had one
  uint64_t requests = 0, steps = 0;
  LiveSource::Capture capture;
};

StatusFigures gather(ApiContext& ctx) {
  StatusFigures f;
  f.live = ctx.live != nullptr;
  f.uptime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
  f.sources = ctx.options.sources;
  const TraceStore& s = ctx.store;
  f.held = s.held();
  f.dropped = s.dropped();
  f.appended = s.appended();
  f.memory_bytes = ctx.memory_bytes();
  f.capacity = s.capacity();
  f.bounded = f.capacity < (uint64_t{1} << 53);  // else JSON readers could not hold it
  f.skipped = s.skips().all();
  f.requests = s.request_count();
  f.steps = s.step_count();
  // Clock offsets as the store's metadata records them ("clock.<domain>.offset_ns"), unless
  // the live source reports them itself.
  const std::map<std::string, std::string> metadata = [&] {
    auto entries = s.metadata();
    return std::map<std::string, std::string>(std::make_move_iterator(entries.begin()),
                                              std::make_move_iterator(entries.end()));
  }();
  for (const auto& [k, v] : metadata) {
    constexpr std::string_view kPrefix = "clock.", kSuffix = ".offset_ns";
    if (k.size() > kPrefix.size() + kSuffix.size() && k.starts_with(kPrefix) &&
        k.ends_with(kSuffix) && !k.starts_with("clock.input")) {
      LiveSource::Clock c;
      c.domain = k.substr(kPrefix.size(), k.size() - kPrefix.size() - kSuffix.size());
      c.offset_ns = std::strtoll(v.c_str(), nullptr, 10);
      const std::string base = "clock." + c.domain + ".";
      if (auto u = metadata.find(base + "uncertainty_ns"); u != metadata.end()) {
        char* end = nullptr;
        const long long n = std::strtoll(u->second.c_str(), &end, 10);
        if (end != u->second.c_str() && *end == '\0' && n >= 0) c.uncertainty_ns = n;
      }
      if (auto r = metadata.find(base + "ns_per_tick"); r != metadata.end()) {
        char* end = nullptr;
        const double rate = std::strtod(r->second.c_str(), &end);
        if (end != r->second.c_str() && *end == '\0' && rate > 0) c.ns_per_tick = rate;
      }
      f.clocks.push_back(c);
    }
    constexpr std::string_view kInput = "clock.input";
    if (k.starts_with(kInput)) {
      const size_t dot = k.find('.', kInput.size());
      const std::string digits = k.substr(kInput.size(), dot - kInput.size());
      if (dot == std::string::npos || digits.empty() || digits.size() > 6 ||
          digits.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      const size_t i = std::stoul(digits);
      if (i >= f.inputs.size()) f.inputs.resize(i + 1);
      StatusFigures::Input& in = f.inputs[i];
      const std::string_view field = std::string_view(k).substr(dot + 1);
      if (field == "rank") in.rank = v;
      if (field == "file") in.file = v;
      if (field == "clock") in.clock = v;
      if (field == "basis") in.basis = v;
      if (field == "unaligned") in.unaligned = v;
      if (field == "offset_ns") {
        in.aligned = true;
        in.offset_ns = std::strtoll(v.c_str(), nullptr, 10);
      }
    }
    if (k == "clock.timeline") f.timeline = v;
  }
  if (ctx.live != nullptr) {
    for (std::string& src : ctx.live->sources()) f.sources.push_back(std::move(src));
    f.collectors = ctx.live->collectors();
    if (auto clocks = ctx.live->clocks(); !clocks.empty()) f.clocks = std::move(clocks);
    f.capture = ctx.live->capture();
  }
  return f;
}

void write_capture(BufferedOut& out, const LiveSource::Capture& c) {
  out.put(c.running ? "{\"running\":true,\"ends_in_ms\":" : "{\"running\":false,\"ends_in_ms\":");
  if (c.running) {
    json_int(out, c.ends_in_ms);
  } else {
    out.put("null");
  }
  out.put('}');
}

void handle_status(ApiContext& ctx, const httplib::Request&, httplib::Response& res) {
  const StatusFigures f = gather(ctx);
  send_json(res, build_json([&](BufferedOut& out) {
              out.put("{\"version\":");
              json_string(out, HUOYAN_VERSION);
              out.put(f.live ? ",\"mode\":\"live\"" : ",\"mode\":\"files\"");
              out.put(",\"uptime_s\":");
              json_double(out, static_cast<double>(static_cast<int64_t>(f.uptime_s * 1000)) / 1000);
              out.put(",\"sources\":[");
              for (size_t i = 0; i < f.sources.size(); ++i) {
                if (i > 0) out.put(',');
                json_string(out, f.sources[i]);
              }
              out.put("],\"collectors\":[");
              for (size_t i = 0; i < f.collectors.size(); ++i) {
                out.put(i == 0 ? "{\"name\":" : ",{\"name\":");
                json_string(out, f.collectors[i].name);
                out.put(",\"state\":");
                json_string(out, f.collectors[i].state);
                out.put(",\"message\":");
                json_string(out, f.collectors[i].message);
                out.put('}');
              }
              out.put("],\"events\":{\"held\":");
              json_uint(out, f.held);
              out.put(",\"dropped\":");
              json_uint(out, f.dropped);
              out.put(",\"capacity\":");
              if (f.bounded) {
                json_uint(out, f.capacity);
              } else {
                out.put("null");
              }
              out.put(",\"appended\":");
              json_uint(out, f.appended);
              out.put("},\"memory_bytes\":");
              json_uint(out, f.memory_bytes);
              out.put(",\"skipped\":{");
              for (size_t i = 0; i < f.skipped.size(); ++i) {
                if (i > 0) out.put(',');
                json_string(out, f.skipped[i].first);
                out.put(':');
                json_uint(out, f.skipped[i].second);
              }
              out.put("},\"clock\":[");
              for (size_t i = 0; i < f.clocks.size(); ++i) {
                out.put(i == 0 ? "{\"domain\":" : ",{\"domain\":");
                json_string(out, f.clocks[i].domain);
                out.put(",\"offset_ns\":");
                json_int(out, f.clocks[i].offset_ns);
                out.put(",\"uncertainty_ns\":");
                if (f.clocks[i].uncertainty_ns >= 0) {
                  json_int(out, f.clocks[i].uncertainty_ns);
                } else {
                  out.put("null");
                }
                out.put(",\"ns_per_tick\":");
                json_double(out, f.clocks[i].ns_per_tick);
                out.put('}');
              }
              out.put("],\"inputs\":[");
              for (size_t i = 0; i < f.inputs.size(); ++i) {
                const StatusFigures::Input& in = f.inputs[i];
                out.put(i == 0 ? "{\"index\":" : ",{\"index\":");
                json_uint(out, i);
                out.put(",\"rank\":");
                json_string(out, in.rank);
                out.put(",\"file\":");
                json_string(out, in.file);
                out.put(",\"clock\":");
                json_string(out, in.clock);
                out.put(",\"offset_ns\":");
                if (in.aligned) {
                  json_int(out, in.offset_ns);
                } else {
                  out.put("null");
                }
                out.put(",\"basis\":");
                json_string(out, in.basis);
                out.put(",\"unaligned\":");
                if (in.aligned) {
                  out.put("null");
                } else {
                  json_string(out, in.unaligned);
                }
                out.put('}');
              }
              out.put("],\"timeline\":");
              if (f.timeline.empty()) {
                out.put("null");
              } else {
                json_string(out, f.timeline);
              }
              out.put(",\"requests\":");
              json_uint(out, f.requests);
              out.put(",\"steps\":");
              json_uint(out, f.steps);
              out.put(",\"capture\":");
              write_capture(out, f.capture);
              // The store of `huoyan serve NEW --baseline BASE` (null without one).
              out.put(",\"baseline\":");
              if (const TraceStore* b = ctx.options.baseline) {
                out.put("{\"sources\":[");
                for (size_t i = 0; i < ctx.options.baseline_sources.size(); ++i) {
                  if (i > 0) out.put(',');
                  json_string(out, ctx.options.baseline_sources[i]);
                }
                out.put("],\"events\":");
                json_uint(out, b->held());
                out.put(",\"requests\":");
                json_uint(out, b->request_count());
                out.put('}');
              } else {
                out.put("null");
              }
              out.put("}\n");
            }));
}

void handle_metrics(ApiContext& ctx, const httplib::Request&, httplib::Response& res) {
  const StatusFigures f = gather(ctx);
  std::string m;
  auto family = [&](const char* name, const char* type, const char* help) {
    m += "# HELP ";
    m += name;
    m += ' ';
    m += help;
    m += "\n# TYPE ";
    m += name;
    m += ' ';
    m += type;
    m += '\n';
  };
  auto sample = [&](const std::string& series, const std::string& value) {
    m += series;
    m += ' ';
    m += value;
    m += '\n';
  };
  family("huoyan_info", "gauge", "Version and mode (live or files) of this huoyan server.");
  sample("huoyan_info{version=\"" + prometheus_label(HUOYAN_VERSION) + "\",mode=\"" +
             (f.live ? "live" : "files") + "\"}",
         "1");
  family("huoyan_uptime_seconds", "gauge", "Seconds since the server started.");
  sample("huoyan_uptime_seconds", std::to_string(f.uptime_s));
  family("huoyan_events_held", "gauge", "Events held in the store.");
  sample("huoyan_events_held", std::to_string(f.held));
  if (f.bounded) {
    family("huoyan_events_capacity", "gauge", "Events the store holds before evicting.");
    sample("huoyan_events_capacity", std::to_string(f.capacity));
  }
  family("huoyan_events_appended_total", "counter", "Events ever appended to the store.");
  sample("huoyan_events_appended_total", std::to_string(f.appended));
  family("huoyan_events_dropped_total", "counter",
         "Events evicted from the store to stay within its capacity.");
  sample("huoyan_events_dropped_total", std::to_string(f.dropped));
  family("huoyan_skipped_events_total", "counter",
         "Malformed input events skipped or repaired, by reason.");
  for (const auto& [reason, n] : f.skipped) {
    sample("huoyan_skipped_events_total{reason=\"" + prometheus_label(reason) + "\"}",
           std::to_string(n));
  }
  family("huoyan_store_bytes", "gauge", "Memory held by the store's events, args and strings.");
  sample("huoyan_store_bytes", std::to_string(f.memory_bytes));
  family("huoyan_requests", "gauge", "Requests known to the store.");
  sample("huoyan_requests", std::to_string(f.requests));
  family("huoyan_steps", "gauge", "Scheduler steps known to the store.");
  sample("huoyan_steps", std::to_string(f.steps));
  if (!f.collectors.empty()) {
    family("huoyan_collector_up", "gauge", "1 for a running collector, else 0; by name and state.");
    for (const auto& c : f.collectors) {
      sample("huoyan_collector_up{collector=\"" + prometheus_label(c.name) + "\",state=\"" +
                 prometheus_label(c.state) + "\"}",
             c.state == "running" ? "1" : "0");
    }
  }
  if (!f.clocks.empty()) {
    family("huoyan_clock_offset_ns", "gauge",
           "Offset added to each clock domain's times to reach the store's time base.");
    for (const auto& c : f.clocks) {
      sample("huoyan_clock_offset_ns{domain=\"" + prometheus_label(c.domain) + "\"}",
             std::to_string(c.offset_ns));
    }
  }
  if (f.live) {
    family("huoyan_capture_running", "gauge", "1 while an on-demand capture window is open.");
    sample("huoyan_capture_running", f.capture.running ? "1" : "0");
  }
  {
    if (ctx.live != nullptr) ctx.live->flush();
    const std::shared_ptr<const RequestIndex> requests = ctx.request_index();
    std::lock_guard<std::mutex> lock(ctx.metrics_mu);
    ctx.serving_metrics.update(ctx.store, requests.get());
    ctx.serving_metrics.write(&m);
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(m), "text/plain; version=0.0.4; charset=utf-8");
}

constexpr std::string_view kNoLive =
    "no live profiler: this server serves files; capture windows need a server embedded in a "
    "running profiler";

void handle_capture(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  const int64_t duration = q.integer("duration_ms", 10000, 1, 3600 * 1000);
  if (!check_query(q, res)) return;
  if (ctx.live == nullptr) return send_error(res, 503, kNoLive);
  std::string message;
  switch (ctx.live->start_capture(duration, &message)) {
    case LiveSource::CaptureResult::kOk:
      break;
    case LiveSource::CaptureResult::kBusy:
      return send_error(res, 409,
                        message.empty() ? "a capture is already running; POST "
                                          "/api/capture/stop first"
                                        : message);
    case LiveSource::CaptureResult::kNotRunning:
    case LiveSource::CaptureResult::kUnsupported:
      return send_error(res, 503,
                        message.empty() ? "this profiler has no capture windows" : message);
  }
  send_json(res, build_json([&](BufferedOut& out) {
              write_capture(out, ctx.live->capture());
              out.put('\n');
            }));
}

void handle_capture_stop(ApiContext& ctx, const httplib::Request&, httplib::Response& res) {
  if (ctx.live == nullptr) return send_error(res, 503, kNoLive);
  std::string message;
  switch (ctx.live->stop_capture(&message)) {
    case LiveSource::CaptureResult::kOk:
      break;
    case LiveSource::CaptureResult::kNotRunning:
      return send_error(res, 409, message.empty() ? "no capture is running" : message);
    case LiveSource::CaptureResult::kBusy:
    case LiveSource::CaptureResult::kUnsupported:
      return send_error(res, 503,
                        message.empty() ? "this profiler has no capture windows" : message);
  }
  send_json(res, build_json([&](BufferedOut& out) {
              write_capture(out, ctx.live->capture());
              out.put('\n');
            }));
}

}  // namespace

void register_status_routes(httplib::Server& http, ApiContext& ctx) {
  using httplib::Request;
  using httplib::Response;
  http.Get("/api/status", [&ctx](const Request& q, Response& r) { handle_status(ctx, q, r); });
  http.Get("/metrics", [&ctx](const Request& q, Response& r) { handle_metrics(ctx, q, r); });
  http.Post("/api/capture", [&ctx](const Request& q, Response& r) { handle_capture(ctx, q, r); });
  http.Post("/api/capture/stop",
            [&ctx](const Request& q, Response& r) { handle_capture_stop(ctx, q, r); });
}

}  // namespace huoyan::server
