#include <cstdio>

#include <fmt/format.h>

#include "src/analysis/flame_tree.h"
#include "src/analysis/trace_export.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/io/sink.h"
#include "src/writers/chrome_json_writer.h"
#include "src/writers/speedscope_writer.h"

namespace huoyan::cli {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string format_from_name(std::string name) {
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  if (ends_with(name, ".speedscope.json")) return "speedscope";
  if (ends_with(name, ".folded") || ends_with(name, ".txt") || ends_with(name, ".collapsed")) {
    return "folded";
  }
  return "chrome";
}

}  // namespace

int run_convert(const ConvertArgs& args) {
  const std::string to = args.to.empty() ? format_from_name(args.output) : args.to;
  AttributionMode mode;
  if (!parse_attribution_mode(args.mode, &mode)) {
    return fail(fmt::format("--mode: expected shared or apportioned, got '{}'", args.mode));
  }
  TraceStore store(StoreOptions{.capacity_events = SIZE_MAX / 2});
  if (Status st = load_inputs({args.input}, store); !st.ok()) return fail(st.message());
  StringId request = 0;
  if (!args.request_id.empty()) {
    if (!store.strings()->find(args.request_id, &request) || !store.has_request(request)) {
      return fail(fmt::format("{}: no request with id '{}'", args.input, args.request_id));
    }
  }
  auto sink = open_file_sink(args.output);
  if (!sink.ok()) return fail(sink.status().message());
  const Snapshot snapshot = store.snapshot();
  Status st;
  if (to == "chrome") {
    ExportFilter filter;
    filter.request = request;
    filter.mode = mode;
    st = write_filtered_chrome_trace(store, snapshot, filter, **sink);
  } else if (to == "folded") {
    FlameOptions options;
    options.request = request;
    options.mode = mode;
    options.max_nodes = 0;  // a file keeps every frame
    st = write_folded(build_flame_tree(store, snapshot, options), **sink);
  } else if (to == "speedscope") {
    if (request != 0) {
      return fail("--request-id is supported with --to chrome or folded, not speedscope");
    }
    auto r = write_speedscope(snapshot, **sink, args.input);
    st = r.ok() ? OkStatus() : r.status();
  } else {
    return fail(fmt::format("--to: expected chrome, folded or speedscope, got '{}'", to));
  }
  if (st.ok()) st = (*sink)->finish();
  if (!st.ok()) return fail(st.message());
  if (const std::string s = skipped_summary(store); !s.empty()) {
    std::fprintf(stderr, "huoyan: %s\n", s.c_str());
  }
  return kExitOk;
}

}  // namespace huoyan::cli
