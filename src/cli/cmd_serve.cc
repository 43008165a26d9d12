// huoyan serve FILE…: loads traces into a store and serves the REST API and the web UI until
// SIGINT/SIGTERM.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "huoyan/server.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"

// The web UI is a separate library (web/); a CLI built without it serves the API only.
#if __has_include(<huoyan_web/server_assets.h>)
#include <huoyan_web/server_assets.h>
#define HUOYAN_HAS_WEB_ASSETS 1
#endif

extern char** environ;

namespace huoyan::cli {
namespace {

AssetLookup web_assets() {
#ifdef HUOYAN_HAS_WEB_ASSETS
  return web::server_assets();
#else
  return {};
#endif
}

// Best effort: xdg-open (Linux desktops) or open (macOS); the URL is printed anyway.
void open_browser(const std::string& url) {
  for (const char* tool : {"xdg-open", "open"}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    char* argv[] = {const_cast<char*>(tool), const_cast<char*>(url.c_str()), nullptr};
    const int rc = posix_spawnp(&pid, tool, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc == 0) {
      std::thread([pid] { waitpid(pid, nullptr, 0); }).detach();
      return;
    }
  }
  std::fprintf(stderr, "huoyan: cannot start a browser; open %s yourself\n", url.c_str());
}

}  // namespace

int run_serve(const ServeArgs& args) {
  ServerOptions options;
  if (!parse_listen_address(args.listen, &options.host, &options.port)) {
    return fail(
        fmt::format("--listen: expected HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, "
                    ":8080), got '{}'",
                    args.listen));
  }
  options.token = args.token;
  if (options.token.empty()) {
    if (const char* env = std::getenv("HUOYAN_TOKEN")) options.token = env;
  }
  if (!args.token_file.empty()) {
    if (!args.token.empty()) return fail("--token and --token-file: give one of them");
    std::ifstream in(args.token_file);
    std::getline(in, options.token);
    while (!options.token.empty() &&
           std::isspace(static_cast<unsigned char>(options.token.back()))) {
      options.token.pop_back();
    }
    if (!in && !in.eof()) return fail(args.token_file + ": cannot read the token");
    if (options.token.empty()) return fail(args.token_file + ": empty token (its first line)");
  }
  options.allowed_hosts = args.allow_hosts;
  options.threads = static_cast<int>(args.threads);
  options.sources = args.inputs;
  options.assets = web_assets();

  TraceStore store(StoreOptions{.capacity_events = SIZE_MAX / 2});
  if (Status st = load_inputs(args.inputs, store, /*report_clocks=*/true); !st.ok()) {
    return fail(st.message());
  }
  if (const std::string s = skipped_summary(store); !s.empty()) {
    std::fprintf(stderr, "huoyan: %s\n", s.c_str());
  }
  std::unique_ptr<TraceStore> baseline;
  if (!args.baseline.empty()) {
    baseline = std::make_unique<TraceStore>(StoreOptions{.capacity_events = SIZE_MAX / 2});
    if (Status st = load_inputs(args.baseline, *baseline); !st.ok()) {
      return fail("--baseline: " + st.message());
    }
    if (const std::string s = skipped_summary(*baseline); !s.empty()) {
      std::fprintf(stderr, "huoyan: baseline: %s\n", s.c_str());
    }
    options.baseline = baseline.get();
    options.baseline_sources = args.baseline;
  }

  // Signals are taken by sigwait() below; block them before any server thread exists so that
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Server server(store, options);
  std::string error;
  if (!server.start(&error)) return fail(error);
  const std::string url = server.url();
  const std::string open_url = options.token.empty() ? url : url + "?token=" + options.token;
  // The token never goes to stdout (often a log file): the URL is printed without it.
  std::printf("huoyan: serving %llu events, %zu requests at %s (Ctrl-C stops)\n",
              static_cast<unsigned long long>(store.held()), store.request_count(), url.c_str());
  if (!options.token.empty()) {
    std::printf("huoyan: the API needs the token: open %s?token=<token> once in the browser\n",
                url.c_str());
  }
  if (!options.assets) {
    std::printf("huoyan: this build has no web UI; the REST API is under %sapi/\n", url.c_str());
  }
  const bool loopback =
      options.host.rfind("127.", 0) == 0 || options.host == "::1" || options.host == "localhost";
  if (options.token.empty() && !loopback) {
    std::fprintf(stderr,
                 "huoyan: warning: listening on %s without --token: anyone who can reach this "
                 "port can read the traces\n",
                 options.host.c_str());
  }
  std::fflush(stdout);
  if (args.open) open_browser(open_url);

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "huoyan: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
  server.stop();
  return kExitOk;
}

}  // namespace huoyan::cli
