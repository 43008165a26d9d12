// The HTTP server: the REST API (/api/…), Prometheus metrics (/metrics) and the embedded web UI
// over one TraceStore — a store loaded from files (`huoyan serve trace.json`) or the live store
// of a profiler (an embedder's `huoyan::Server`). docs/api.md documents every endpoint.
//
// The server only reads the store. What a store cannot tell by itself (collector states, clock
// offsets, capture windows) comes from an optional LiveSource; without one the server reports
// mode "files" and answers capture requests with 503.
//
// Threading: start()/stop()/wait() from any one thread; requests are served by a pool of
// `threads` workers that read the store concurrently with its writer. Every handler works on a
// Snapshot taken when it starts, so a response is consistent even while events are evicted.
//
// Public: an embedder includes "huoyan/server.h" and links huoyan::huoyan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
class Server;
}

namespace huoyan {

class Profiler;
class TraceStore;

// One file of the embedded web UI. `data` is static (never freed); gzip: `data` is gzipped.
struct WebAsset {
  std::string_view path;  // "/index.html", "/assets/index-3f2a.js"
  std::string_view content_type;
  std::string_view data;
  bool gzip = false;
};
// Looks an asset up by its exact path; returns false when there is none. Never touches the
// filesystem, which is what makes path traversal impossible.
using AssetLookup = std::function<bool(std::string_view path, WebAsset* out)>;

// What a live profiler tells the server beyond its store. Called from worker threads
// concurrently: implementations must be thread-safe and must not block for long.
class LiveSource {
 public:
  struct Collector {
    std::string name;
    std::string state;    // "running", "stopped", "unavailable", "error", "standby"
    std::string message;  // why unavailable, or the last error
  };
  // How one clock domain's times were mapped onto the store's time base:
  // store_ns = offset_ns + domain time (in ns; tick domains are converted at ns_per_tick first).
  struct Clock {
    std::string domain;  // "tsc", "cupti", "mspti", …
    int64_t offset_ns = 0;
    int64_t uncertainty_ns = -1;  // bound on the residual error; -1: not known
    double ns_per_tick = 1.0;     // 1 for ns domains; the measured rate of tick domains
  };
  struct Capture {
    bool running = false;
    int64_t ends_in_ms = 0;  // when running
  };
  enum class CaptureResult { kOk, kBusy, kNotRunning, kUnsupported };

  virtual ~LiveSource() = default;
  virtual std::vector<std::string> sources() const { return {}; }
  virtual std::vector<Collector> collectors() const = 0;
  virtual std::vector<Clock> clocks() const { return {}; }
  virtual Capture capture() const { return {}; }
  // Opens an on-demand capture window of `duration_ms` (> 0). kBusy when one is running,
  // kUnsupported when this source has no capture windows. *message may explain a failure.
  virtual CaptureResult start_capture(int64_t /*duration_ms*/, std::string* /*message*/) {
    return CaptureResult::kUnsupported;
  }
  // Ends the running window now; kNotRunning when none runs.
  virtual CaptureResult stop_capture(std::string* /*message*/) {
    return CaptureResult::kUnsupported;
  }
  // Moves buffered records into the store (before /api/profile, so a request that just
  // finished is complete). May be a no-op.
  virtual void flush() {}
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port, see Server::port()
  // Non-empty: /api/… and /metrics need "Authorization: Bearer <token>" (or the cookie that
  // opening "/?token=<token>" in a browser sets), else 401.
  std::string token;
  int threads = 8;  // workers; each serves one connection at a time (keep-alive included)
  int read_timeout_ms = 5000;    // a client slower than this to send a request is dropped
  int write_timeout_ms = 30000;  // … or to accept response bytes
  // Idle keep-alive connections close after this; stop() may wait for them that long.
  int keep_alive_timeout_s = 2;
  size_t payload_max_bytes = size_t{1} << 20;  // larger request bodies get 413
  // Empty (default): no CORS headers, so browsers refuse cross-origin reads. "*" or an origin
  // ("http://localhost:5173") to allow one.
  std::string cors_origin;
  // On a loopback address, answer 403 to requests whose Host is not a loopback name: a web
  // page cannot then read the API through DNS rebinding.
  bool check_host = true;
  // Whole-store indexes (request list, timeline, flame graph) are rebuilt when the store has
  // changed and the index is older than this; in between, answers may lag the store by up to
  // this long. 0: always fresh (each change costs a rebuild, O(events)).
  int index_refresh_ms = 1000;
  // Without a live source, build those indexes in the background right after start().
  bool prewarm = true;
  std::vector<std::string> sources;  // input files, shown by /api/status
  // A second store to compare against (`huoyan serve NEW --baseline BASE`): the base of
  // /api/flamegraph/diff. Must outlive the server; null: diffs compare two requests of `store`.
  const TraceStore* baseline = nullptr;
  std::vector<std::string> baseline_sources;  // shown by /api/status
  AssetLookup assets;                // the web UI; empty: "/" answers 404 with a hint
  // Routes of the embedding application served on the same port (an inference server's
  // /v1/completions, /health). Called once by start(), after huoyan's /api routes and before
  // the web UI's catch-all GET, with the cpp-httplib server (include <httplib.h> to use it).
  // These routes pass the Host check but not the token check, which guards /api and /metrics
  // only. Their handlers run on the same worker pool.
  std::function<void(httplib::Server&)> extra_routes;
};

// Parses "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT" (host 127.0.0.1). False on bad input.
bool parse_listen_address(std::string_view text, std::string* host, int* port);

class Server {
 public:
  // An embedder's server: the profiler's store, collectors and capture windows. The profiler
  // must outlive the server.
  Server(Profiler& profiler, ServerOptions options);
  // `store` and `live` (may be null: a file-backed server) must outlive the server.
  Server(const TraceStore& store, ServerOptions options, LiveSource* live = nullptr);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a background thread; connections are accepted once it
  // returns true. False with *error when the address cannot be bound or it already runs.
  bool start(std::string* error = nullptr);
  // Stops accepting, lets in-flight requests finish (streams are cut), joins every thread.
  void stop();
  // Blocks until stop() is called from another thread.
  void wait();
  bool running() const;
  int port() const;         // the bound port (useful with port 0); 0 before start()
  std::string url() const;  // "http://127.0.0.1:8080/"

 private:
  Server(const TraceStore& store, ServerOptions options, std::unique_ptr<LiveSource> live);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huoyan
