// huoyan command line: thin layer over the library. Each verb's options are declared here and
// its work is done by run_<verb>() (src/cli/cmd_<verb>.cc).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "src/cli/cli_common.h"
#include "src/cli/commands.h"

namespace {

constexpr const char* kDeviceHelp =
    "Device time is the time of events on device tracks. An event is device activity when its\n"
    "'cat' is a kernel/memcpy/memset kind (kernel, Kernel, gpu_memcpy, gpu_memset, ...), or when\n"
    "it is a duration event on a track whose process is named like a device ('GPU 0', 'NPU 1',\n"
    "'CPU 0', 'MTIA 17', 'Ascend Hardware') or that carries kernel events.";

}  // namespace

int main(int argc, char** argv) {
  using namespace huoyan::cli;
  CLI::App app{"huoyan (火眼): request-scoped kernel profiling for LLM inference servers"};
  app.set_version_flag("--version", std::string("huoyan ") + HUOYAN_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  ConvertArgs convert;
  auto* c = app.add_subcommand("convert", "Convert a trace to Chrome JSON, folded stacks or speedscope");
  c->add_option("input", convert.input, "Input trace (Chrome/Kineto JSON, optionally .gz; - = stdin)")
      ->required();
  c->add_option("-o,--output", convert.output,
                "Output file (- = stdout); gzip-compressed when it ends in .gz")
      ->required();
  c->add_option("--to", convert.to,
                "Output format: chrome, folded or speedscope (default: from the output name: "
                "*.speedscope.json → speedscope, *.folded/*.txt → folded, else chrome)")
      ->check(CLI::IsMember({"chrome", "folded", "speedscope"}));
  c->add_option("--request-id", convert.request_id,
                "Only this request: its kernels (args request_id, step, batch_size, share) and "
                "host spans");
  c->add_option("--mode", convert.mode,
                "Attribution of shared kernels to a request: shared (whole kernel) or "
                "apportioned (by tokens; default)")
      ->check(CLI::IsMember({"shared", "apportioned"}));

  TopArgs top;
  auto* t = app.add_subcommand("top", "Per-kernel statistics: count, total, mean, p50, p99, max, share");
  t->footer(kDeviceHelp);
  t->add_option("inputs", top.inputs, "Input traces")->required();
  t->add_option("--by", top.by, "Group by kernel name, stream or device")
      ->check(CLI::IsMember({"name", "stream", "device"}));
  t->add_option("--limit", top.limit, "Rows to show (0 = all)")->check(CLI::NonNegativeNumber);
  t->add_flag("--json", top.json,
              "Print one JSON array of {name,count,total_ns,mean_ns,p50_ns,p99_ns,max_ns,share}");
  t->add_option("--request-id", top.request_id, "Only kernels of this request");
  t->add_option("--mode", top.mode, "With --request-id: shared or apportioned time")
      ->check(CLI::IsMember({"shared", "apportioned"}));

  ServeArgs serve;
  auto* s = app.add_subcommand("serve", "Serve traces over HTTP: REST API and the web UI");
  s->add_option("inputs", serve.inputs, "Input traces (all merged into one store)")->required();
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 = any free port)");
  s->add_option("--token", serve.token,
                "Require 'Authorization: Bearer TOKEN' on /api and /metrics (also env HUOYAN_TOKEN)")
      ->envname("HUOYAN_TOKEN");
  s->add_option("--threads", serve.threads, "HTTP worker threads")->check(CLI::Range(1, 256));
  s->add_flag("--open", serve.open, "Open the UI in a browser (xdg-open)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "huoyan: %s\nRun with --help for usage.\n", e.what());
    return kExitUsage;
  }
  if (c->parsed()) return run_convert(convert);
  if (t->parsed()) return run_top(top);
  if (s->parsed()) return run_serve(serve);
  return kExitUsage;
}
