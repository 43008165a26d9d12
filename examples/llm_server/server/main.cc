// llm_server: the reference LLM inference server. A continuous-batching scheduler over the
// llm_model engine, an OpenAI-style completions endpoint, and with --profile the huoyan API and
// web UI on the same port. SIGINT/SIGTERM drain in-flight requests, then flush --profile-out.
#include <httplib.h>
#include <huoyan/huoyan.h>
#include <huoyan/server.h>
#include <signal.h>
#if LLM_SERVER_WITH_UI
#include <huoyan_web/server_assets.h>
#endif

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "model/engine.h"
#include "server/http_api.h"
#include "server/kernel_recorder.h"
#include "server/request_queue.h"
#include "server/scheduler.h"

namespace {

struct Flags {
  std::string host = "127.0.0.1";
  int port = 8080;
  int http_threads = 16;
  bool profile = false;
  std::string profile_out;
  std::string queue = "lockfree";
  int max_batch_tokens = 512;
  int max_queue = 256;
  std::string test_prompt;
  int test_requests = 0;
  int test_max_tokens = 32;
  llm::ModelConfig model;
};

// A random printable prompt of n bytes.
std::string random_prompt(std::mt19937_64& rng, int n) {
  static constexpr char kWords[] = "the quick brown fox jumps over a lazy dog while tokens stream ";
  std::string s;
  size_t at = rng() % (sizeof kWords - 1);
  for (int i = 0; i < n; ++i) s.push_back(kWords[(at + i) % (sizeof kWords - 1)]);
  return s;
}

// Blocks SIGINT/SIGTERM in every thread (call before any is started) so that main can take
// them synchronously with sigwait.
sigset_t block_stop_signals() {
  // A shell starts background jobs with SIGINT ignored; take it back.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"llm_server: a small CPU LLM inference server instrumented with huoyan"};
  app.add_option("--host", f.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", f.port, "Port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--http-threads", f.http_threads, "HTTP worker threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_flag("--profile", f.profile, "Record with huoyan; serve its API and web UI here too");
  app.add_option("--profile-out", f.profile_out,
                 "Write the profile (Chrome JSON, .gz: gzipped) at shutdown; implies recording");
  app.add_option("--queue", f.queue,
                 "Request hand-off: locked (one mutex and condition variable for the queue and "
                 "every response stream) or lockfree (moodycamel::ConcurrentQueue, a channel per "
                 "request)")
      ->check(CLI::IsMember({"locked", "lockfree"}))
      ->capture_default_str();
  app.add_option("--max-batch-tokens", f.max_batch_tokens, "Token budget of a step")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--max-queue", f.max_queue,
                 "Requests accepted but not yet scheduled; beyond it new ones get 503")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--group-size", f.model.group_size, "INT4 quantization group size (32-256)")
      ->capture_default_str();
  app.add_option("--block-size", f.model.block_size, "KV-cache block size in tokens")
      ->capture_default_str();
  app.add_option("--kv-blocks", f.model.num_kv_blocks, "KV-cache blocks")->capture_default_str();
  app.add_option("--devices", f.model.devices, "Tensor-parallel devices")->capture_default_str();
  app.add_option("--workers", f.model.workers_per_device,
                 "Worker threads (streams) per device; 0: hardware threads / devices")
      ->capture_default_str();
  app.add_option("--d-model", f.model.d_model, "Model width")->capture_default_str();
  app.add_option("--layers", f.model.n_layers, "Transformer layers")->capture_default_str();
  app.add_option("--heads", f.model.n_heads, "Attention heads")->capture_default_str();
  app.add_option("--head-dim", f.model.head_dim, "Head dimension")->capture_default_str();
  app.add_option("--ffn-dim", f.model.ffn_dim, "SwiGLU width")->capture_default_str();
  app.add_option("--max-seq-len", f.model.max_seq_len, "Longest sequence")->capture_default_str();
  app.add_option("--seed", f.model.seed, "Seed of the weights and of the test requests")
      ->capture_default_str();
  app.add_option("--test-prompt", f.test_prompt, "Submit this prompt at start-up");
  app.add_option("--test-requests", f.test_requests,
                 "Submit N more start-up requests of random lengths (seeded by --seed)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--test-max-tokens", f.test_max_tokens, "max_tokens of --test-prompt")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "llm_server: %s\n", e.what());
    return 2;
  }
  try {
    f.model.validate();
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "llm_server: bad model flags: %s\n", e.what());
    return 2;
  }
  llm_server::QueueKind queue_kind;
  llm_server::parse_queue_kind(f.queue, &queue_kind);

  const sigset_t stop_signals = block_stop_signals();

  std::unique_ptr<huoyan::Profiler> profiler;
  if (f.profile || !f.profile_out.empty()) {
    profiler = std::make_unique<huoyan::Profiler>(
        huoyan::ProfilerOptions{.collectors = {"host"}, .process_name = "llm_server"});
    std::string error;
    if (!profiler->start(&error)) {
      std::fprintf(stderr, "llm_server: cannot start the profiler: %s\n", error.c_str());
      return 1;
    }
  }
  huoyan::set_thread_name("main");

  llm::Engine engine(f.model);
  llm_server::KernelRecorder recorder(engine.config().n_layers);
  if (profiler) engine.set_observer(&recorder);

  auto queue = llm_server::make_request_queue(queue_kind);
  llm_server::Scheduler scheduler(engine, *queue, {.max_batch_tokens = f.max_batch_tokens});
  const llm::ModelConfig& mc = engine.config();
  llm_server::CompletionApi api(scheduler,
                                {.max_tokens = mc.max_seq_len - 1,
                                 .max_seq_len = mc.max_seq_len,
                                 .max_queue = f.max_queue,
                                 .kv_tokens = mc.num_kv_blocks * mc.block_size},
                                "huoyan-llm");

  std::atomic<bool> stop_scheduler{false};
  std::thread scheduler_thread([&] { scheduler.run(stop_scheduler); });

  // HTTP: through huoyan's server when profiling (its API and UI share the port), else plain.
  std::unique_ptr<huoyan::Server> hy_server;
  std::unique_ptr<httplib::Server> plain;
  std::thread plain_thread;
  int port = f.port;
  if (f.profile) {
    huoyan::ServerOptions so;
    so.host = f.host;
    so.port = f.port;
    so.threads = f.http_threads;
#if LLM_SERVER_WITH_UI
    so.assets = huoyan::web::server_assets();  // else the API alone (a HUOYAN_WEB=OFF build)
#endif
    so.extra_routes = [&api](httplib::Server& http) { api.register_routes(http); };
    hy_server = std::make_unique<huoyan::Server>(*profiler, so);
    std::string error;
    if (!hy_server->start(&error)) {
      std::fprintf(stderr, "llm_server: cannot listen on %s:%d: %s\n", f.host.c_str(), f.port,
                   error.c_str());
      stop_scheduler = true;
      queue->wake();
      scheduler_thread.join();
      return 1;
    }
    port = hy_server->port();
  } else {
    plain = std::make_unique<httplib::Server>();
    llm_server::configure_standalone(*plain, f.http_threads);
    api.register_routes(*plain);
    const bool bound = f.port == 0 ? (port = plain->bind_to_any_port(f.host)) > 0
                                   : plain->bind_to_port(f.host, f.port);
    if (!bound) {
      std::fprintf(stderr, "llm_server: cannot listen on %s:%d\n", f.host.c_str(), f.port);
      stop_scheduler = true;
      queue->wake();
      scheduler_thread.join();
      return 1;
    }
    plain_thread = std::thread([&] { plain->listen_after_bind(); });
  }
  std::printf("llm_server: listening on http://%s:%d/%s\n", f.host.c_str(), port,
              f.profile ? " (huoyan UI at /, API at /api/)" : "");
  std::fflush(stdout);

  // Start-up requests, submitted like HTTP ones; a reporter prints each as it finishes.
  std::vector<std::shared_ptr<llm_server::Request>> tests;
  {
    std::mt19937_64 rng(f.model.seed);
    std::vector<std::pair<llm_server::CompletionParams, std::string>> todo;
    if (!f.test_prompt.empty()) {
      todo.push_back({{.prompt = f.test_prompt, .max_tokens = f.test_max_tokens}, "test-0"});
    }
    for (int i = 0; i < f.test_requests; ++i) {
      const int in = 8 + static_cast<int>(rng() % 249), out = 8 + static_cast<int>(rng() % 121);
      todo.push_back({{.prompt = random_prompt(rng, std::min(in, mc.max_seq_len / 2)),
                       .max_tokens = std::min(out, mc.max_seq_len / 2 - 1)},
                      "test-" + std::to_string(i + 1)});
    }
    for (auto& [params, id] : todo) {
      std::string error;
      auto r = api.submit(params, id, &error);
      if (r == nullptr) {
        std::fprintf(stderr, "llm_server: %s not submitted: %s\n", id.c_str(), error.c_str());
      } else {
        tests.push_back(std::move(r));
      }
    }
  }
  std::thread reporter([&tests] {
    for (auto& r : tests) {
      std::vector<std::string> pieces;
      llm_server::FinishReason reason = llm_server::FinishReason::kNone;
      while (reason == llm_server::FinishReason::kNone) {
        reason = r->channel.wait(&pieces, std::chrono::milliseconds(200));
      }
      std::fprintf(stderr, "llm_server: %s finished (%s): %zu prompt tokens, %zu generated\n",
                   r->id.c_str(), llm_server::finish_reason_name(reason), r->prompt.size(),
                   r->output.size());
    }
  });

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "llm_server: %s, draining %d queued and %d running requests\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM", scheduler.queued(), scheduler.in_flight());
  api.start_draining();
  // In-flight requests finish; a client that stops reading its stream is not waited for
  // beyond a minute.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while ((scheduler.queued() > 0 || scheduler.in_flight() > 0 || api.active_responses() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  reporter.join();
  if (hy_server) hy_server->stop();
  if (plain) {
    plain->stop();
    plain_thread.join();
  }
  stop_scheduler = true;
  queue->wake();
  scheduler_thread.join();
  engine.set_observer(nullptr);

  int rc = 0;
  if (profiler) {
    profiler->stop();
    if (!f.profile_out.empty()) {
      std::string error;
      if (!profiler->snapshot().write_chrome_json(f.profile_out, &error)) {
        std::fprintf(stderr, "llm_server: cannot write %s: %s\n", f.profile_out.c_str(),
                     error.c_str());
        rc = 1;
      } else {
        std::fprintf(stderr, "llm_server: wrote %s\n", f.profile_out.c_str());
      }
    }
  }
  std::fprintf(stderr, "llm_server: stopped after %llu completions\n",
               static_cast<unsigned long long>(api.completed()));
  return rc;
}
