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
  // Non-empty: /api/… and /metrics need "Authorization: Bearer <token>" (scheme in any case,
  // or the cookie that opening "/?token=<token>" in a browser sets), else 401.
  std::string token;
  // Workers; each serves one request at a time. Connections waiting for a request (idle
  // keep-alive, slow senders) are held by one event thread and cost no worker.
  int threads = 8;
  // Deadline for a whole request (request line, headers and body) from its first byte; a
  // client slower than this gets 408 and is disconnected.
  int read_timeout_ms = 5000;
  int write_timeout_ms = 30000;  // a client that takes no response bytes for this long is dropped
  int keep_alive_timeout_s = 2;  // idle keep-alive connections close after this
  size_t payload_max_bytes = size_t{1} << 20;  // larger request bodies get 413
  // Request line + headers larger than this, or more header fields, get 431.
  size_t header_max_bytes = size_t{16} << 10;
  int header_max_fields = 100;
  // Open connections beyond this are answered 503 and closed. start() raises the soft
  // RLIMIT_NOFILE towards the hard limit to make room, and lowers the cap if it cannot.
  int max_connections = 4096;
  // Empty (default): no CORS headers, so browsers refuse cross-origin reads. "*" or an origin
  // ("http://localhost:5173") to allow one. A POST whose Origin header is neither this nor the
  // server itself (same host:port as its Host) gets 403: a cross-site page cannot start a
  // capture on a token-less server.
  std::string cors_origin;
  // Answer 403 to requests whose Host is not allowed, so a web page cannot read the API through
  // DNS rebinding. On a loopback address: loopback names and addresses only. On any other
  // address: also IP literals, this machine's host name and `allowed_hosts`.
  bool check_host = true;
  std::vector<std::string> allowed_hosts;  // extra Host names ("profiler.internal"), no port
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
  AssetLookup assets;                         // the web UI; empty: "/" answers 404 with a hint
  // Routes of the embedding application served on the same port (an inference server's
  // /v1/completions, /health). Called once by start(), after huoyan's /api routes and before
  // the web UI's catch-all GET, with the cpp-httplib server (include <httplib.h> to use it).
  // These routes pass the Host and Origin checks but not the token check, which guards /api and
  // /metrics only. Their handlers run on the same worker pool, under the same limits. Register
  // routes and handlers only: huoyan owns the sockets, so the server's own listen, timeouts and
  // task queue are not used.
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
  // Stops accepting, lets in-flight requests finish for up to a second (streams are cut), then
  // disconnects every client; joins every thread. Slow clients do not hold it.
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
