// GET /api/diagnosis and /api/flamegraph/diff: the findings of src/analysis/diagnosis and the
// differential flame graph of src/analysis/diff. Thin: decode, call src/analysis, encode.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "src/analysis/diagnosis.h"
#include "src/analysis/diagnosis_context.h"
#include "src/analysis/diagnosis_json.h"
#include "src/analysis/diff.h"
#include "src/analysis/flame_tree.h"
#include "src/server/api_context.h"

namespace huoyan::server {
namespace {

// Live stores are diagnosed over their last steps (the window the UI shows), offline ones whole.
constexpr int64_t kLiveWindowSteps = 2000;

void handle_diagnosis(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  const std::string lang_text = q.one_of("lang", "en", {"en", "zh"});
  const bool live = ctx.live != nullptr;
  const auto window = static_cast<uint64_t>(
      q.integer("window_steps", live ? kLiveWindowSteps : 0, 0, int64_t{1} << 40));
  if (!check_query(q, res)) return;
  Lang lang = Lang::kEn;
  parse_lang(lang_text, &lang);
  if (live) ctx.live->flush();
  // Findings are bilingual: the encoded answer is cached per language and window, per store
  // generation. On a live store a tracker per window keeps them from flipping between refreshes.
  auto build = [&] {
    const Snapshot snapshot = ctx.store.snapshot();
    const DiagnosisConfig config;
    ContextOptions options;
    options.window_steps = window;
    const DiagnosisContext dc = build_diagnosis_context(ctx.store, snapshot, options);
    DiagnosisView view;
    view.window = dc.window;
    view.live = live;
    view.peaks = peaks_in_use(dc, config);
    if (live) {
      std::lock_guard<std::mutex> lock(ctx.diagnosis_mu);
      view.findings = ctx.diagnosis_trackers[window].update(dc, config);
    } else {
      view.findings = diagnose(dc, config);
    }
    view.quiet = quiet_knob_rules(dc, config, view.findings);
    return build_json([&](BufferedOut& out) {
      write_diagnosis_json(view, lang, out);
      out.put('\n');
    });
  };
  send_json(res, *ctx.responses.get(fmt::format("diagnosis|{}|{}", lang_text, window), ctx.store,
                                    ctx.refresh(), build));
}

// Widths from NEW (the served store, or its request `request_id`), colours from the change
// against BASE: the baseline store when the server has one, else the served store; either
// narrowed to `baseline_request_id`.
void handle_flame_diff(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Query q(req);
  FlameOptions options;
  options.mode = q.mode("mode", AttributionMode::kShared);
  const size_t max_nodes = static_cast<size_t>(q.integer("max_nodes", 20000, 0, 1000000));
  if (!check_query(q, res)) return;
  const TraceStore* base_store = ctx.options.baseline;
  if (base_store == nullptr && !q.has("baseline_request_id")) {
    return send_error(res, 404,
                      "no baseline: start the server with --baseline BASE, or pass "
                      "baseline_request_id to compare two requests of this trace");
  }
  if (base_store == nullptr) base_store = &ctx.store;
  StringId new_request = 0;
  StringId base_request = 0;
  const bool two_stores = base_store != &ctx.store;
  if (!resolve_request(ctx, q, res, &new_request)) return;
  if (!resolve_request(*base_store, "baseline_request_id", two_stores ? "the baseline" : "", q, res,
                       &base_request)) {
    return;
  }
  const Snapshot new_snapshot = ctx.store.snapshot();
  const Snapshot base_snapshot = base_store->snapshot();
  std::string device;
  if (!resolve_device(new_snapshot, q, res, &device)) return;

  // Both trees in full: folding each side first would compare different "(other)" sets.
  options.max_nodes = 0;
  options.device = device;
  options.request = new_request;
  FlameTree new_tree = build_flame_tree(ctx.store, new_snapshot, options);
  options.request = base_request;
  FlameTree base_tree = build_flame_tree(*base_store, base_snapshot, options);
  new_tree.nodes[0].name = "all";
  base_tree.nodes[0].name = "all";
  DiffFlameTree diff = build_diff_flame_tree(base_tree, new_tree);
  fold_small_diff_nodes(&diff, max_nodes);
  send_json(res, build_json([&](BufferedOut& out) {
              write_diff_flame_json(diff, out);
              out.put('\n');
            }));
}

}  // namespace

void register_analysis_routes(httplib::Server& http, ApiContext& ctx) {
  using httplib::Request;
  using httplib::Response;
  http.Get("/api/diagnosis",
           [&ctx](const Request& q, Response& r) { handle_diagnosis(ctx, q, r); });
  http.Get("/api/flamegraph/diff",
           [&ctx](const Request& q, Response& r) { handle_flame_diff(ctx, q, r); });
}

}  // namespace huoyan::server
