// huoyan command line: thin layer over the library. Each verb's options are declared here and
// its work is done by run_<verb>() (src/cli/cmd_<verb>.cc).
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/cli/commands_analysis.h"
#include "src/io/temp_files.h"

namespace {

constexpr const char* kDeviceHelp =
    "Device time is device work only: kernels, memory copies and sets, and collectives\n"
    "(NCCL/RCCL kernels, HCCL operators). Waits (stream/event sync, Notify Wait), device\n"
    "annotation ranges, host events and analysis pseudo-events (Overlap Analysis) are not. Kinds\n"
    "come from what produced each event (Kineto category, torch_npu/msprof process and task type,\n"
    "Nsight table); a slice of unknown producer is device work only on a process named like a\n"
    "device ('GPU 0', 'NPU 1', 'Ascend Hardware'). See docs/formats.md, 'Event kinds'.";

}  // namespace

int main(int argc, char** argv) {
  using namespace huoyan::cli;
  // Ctrl-C in the middle of `convert -o` or of spooling stdin leaves no temporary file behind.
  huoyan::remove_temp_files_on_signals();
  CLI::App app{"huoyan (火眼): request-scoped kernel profiling for LLM inference servers"};
  app.set_version_flag("--version", std::string("huoyan ") + HUOYAN_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  ConvertArgs convert;
  auto* c =
      app.add_subcommand("convert", "Convert a trace to Chrome JSON, folded stacks or speedscope");
  c->add_option("input", convert.input,
                "Input trace: any format of `huoyan formats` (file, folder, .gz; - = stdin)")
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
  auto* t =
      app.add_subcommand("top", "Per-kernel statistics: count, total, mean, p50, p99, max, share");
  t->footer(kDeviceHelp);
  t->add_option("inputs", top.inputs, "Input traces")->required();
  t->add_option("--by", top.by, "Group by kernel name, stream or device")
      ->check(CLI::IsMember({"name", "stream", "device"}));
  t->add_option("--limit", top.limit, "Rows to show (0 = all)")->check(CLI::NonNegativeNumber);
  t->add_option("--kind", top.kind,
                "Rows of these kinds: kernel, memcpy, memset, collective, wait, work (device "
                "work), all (device work and waits); comma-separated. Default: kernel by name, "
                "work by stream or device. Shares are always over device work.");
  t->add_flag("--json", top.json,
              "Print one JSON array of "
              "{name,kind,count,total_ns,mean_ns,p50_ns,p99_ns,max_ns,share}");
  t->add_option("--request-id", top.request_id, "Only kernels of this request");
  t->add_option("--mode", top.mode, "With --request-id: shared or apportioned time")
      ->check(CLI::IsMember({"shared", "apportioned"}));
  t->add_flag("--stream", top.stream,
              "One pass in memory independent of the trace's size: exact count, total, mean and "
              "max, p50/p99 within 1 %; by name or stream. Chosen by itself for inputs of 2 GiB "
              "or more (not with --request-id or --by device)");

  ServeArgs serve;
  auto* s = app.add_subcommand("serve", "Serve traces over HTTP: REST API and the web UI");
  s->add_option("inputs", serve.inputs, "Input traces (all merged into one store)")->required();
  s->add_option("--listen", serve.listen, "HOST:PORT to listen on (port 0 = any free port)");
  s->add_option("--token", serve.token,
                "Require 'Authorization: Bearer TOKEN' on /api and /metrics (better: env "
                "HUOYAN_TOKEN or --token-file, which other users cannot see in ps)")
      ->envname("HUOYAN_TOKEN");
  s->add_option("--token-file", serve.token_file, "Read the token from the first line of this file")
      ->check(CLI::ExistingFile);
  s->add_option("--allow-host", serve.allow_hosts,
                "Host name clients may use besides IP addresses and this machine's name (with "
                "--listen on a non-loopback address; repeatable)");
  s->add_option("--threads", serve.threads, "HTTP worker threads")->check(CLI::Range(1, 256));
  s->add_flag("--open", serve.open, "Open the UI in a browser (xdg-open)");
  s->add_option("--baseline", serve.baseline,
                "Baseline traces (merged): the flame graph can show the change against them "
                "(widths from INPUTS, colour by change)");

  AnalyzeArgs analyze;
  auto* a = app.add_subcommand(
      "analyze",
      "Diagnose traces and gate CI: expected kernels, time budgets, regression against a baseline");
  a->footer(analyze_help_footer() + "\n\n" + kDeviceHelp);
  a->add_option(
       "traces", analyze.inputs,
       "Traces to analyse (any format of `huoyan formats`: file, folder, .gz); each one is a run")
      ->required();
  a->add_option("--expect", analyze.expect,
                "Fail unless a kernel with this name exists; /regex/ matches a pattern "
                "(repeatable)")
      ->allow_extra_args(false);
  a->add_option("--threshold", analyze.threshold,
                "Fail if any kernel instance lasts longer than this (e.g. 50ms; units ns, us, ms, "
                "s)");
  a->add_option("--rules", analyze.rules,
                "Rules file (JSON): per-kernel budgets (max, p99, total, share) and diagnosis "
                "thresholds; see docs/rules.md");
  a->add_option("--baseline", analyze.baseline,
                "Baseline run(s) to compare throughput and kernel times with (several files = "
                "several runs; put TRACE before this option)");
  a->add_option("--max-regression", analyze.max_regression,
                "Largest tolerated throughput drop / kernel slowdown (default 5%); fails only "
                "when significant (see below)");
  a->add_option("--format", analyze.format,
                "Report format: text, json, junit, markdown, or html (one self-contained page "
                "with the flame graphs that opens offline)")
      ->check(CLI::IsMember({"text", "json", "junit", "markdown", "html"}));
  a->add_option("-o,--output", analyze.output, "Write the report to this file (default stdout)");
  a->add_option("--lang", analyze.lang, "Language of the diagnosis: en or zh")
      ->check(CLI::IsMember({"en", "zh"}));
  a->add_flag("--merge", analyze.merge,
              "The traces are parts (ranks, devices) of one run: read them into one store");
  a->add_flag("--no-diagnosis", analyze.no_diagnosis, "Only run the checks");

  DiffArgs diff;
  auto* d = app.add_subcommand("diff", "Per-kernel differences between two traces");
  d->footer(kDeviceHelp);
  d->add_option("base", diff.base, "Baseline trace")->required();
  d->add_option("new", diff.now, "New trace")->required();
  d->add_option("--format", diff.format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  d->add_option("--limit", diff.limit, "Rows to show (0 = all)")->check(CLI::NonNegativeNumber);

  FormatsArgs formats;
  auto* f = app.add_subcommand("formats", "List the input formats and folder layouts huoyan reads");
  f->add_flag("--json", formats.json, "Print one JSON array of {kind,name,description}");

  CalibrateArgs calibrate;
  auto* k = app.add_subcommand(
      "calibrate",
      "Measure this host's CPU peaks (memory bandwidth, fp32 FMA throughput) for the diagnosis' "
      "roofline, print them and cache them (the profiler records them with every profile)");
  k->add_flag("--json", calibrate.json, "Print the figures as one JSON object");
  k->add_flag("--cached", calibrate.cached,
              "Print the cached figures of this host if there are some, else measure");
  k->add_flag("--no-save", calibrate.no_save, "Do not write the cache");
  k->add_option("--threads", calibrate.threads, "Threads to measure with (default: all)")
      ->check(CLI::Range(1, 4096));

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
  if (a->parsed()) return run_analyze(analyze);
  if (d->parsed()) return run_diff(diff);
  if (f->parsed()) return run_formats(formats);
  if (k->parsed()) return run_calibrate(calibrate);
  return kExitUsage;
}
