// HttpFront: the connection layer under cpp-httplib's routing, built to survive abuse.
//
// cpp-httplib's own accept loop gives every connection a worker for its whole life (idle
// keep-alive included), reads headers without a bound on their number and has no deadline for a
// whole request: a few slow or idle clients starve every worker. HttpFront keeps httplib's
// parser, routing and handlers (it *is* an httplib::Server, so `extra_routes` keep working) and
// owns the sockets instead:
//  - one event thread (epoll) accepts and holds every connection while it waits for a request;
//    an idle or slow connection costs a few hundred bytes, never a worker;
//  - a request goes to a worker only once its header block is complete (within the byte and
//    field limits, else 431) and, for a small body with a Content-Length, once the body is in;
//  - every request has a deadline from its first byte (408 after it), applied to the reads of
//    the worker too; writes have a per-wait timeout;
//  - beyond `max_connections` a new connection is answered 503 and closed;
//  - shutdown() gives in-flight requests a short grace, then cuts every connection: it returns
//    in about a second whatever the clients do (handlers themselves are not interrupted).
// HTTP parsing stays httplib's: the front only looks for the end of the header block, counts
// lines and reads Content-Length to know how much to wait for.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace huoyan::server {

struct FrontLimits {
  int threads = 8;
  int max_connections = 4096;
  size_t header_max_bytes = size_t{16} << 10;  // request line + headers + blank line
  int header_max_fields = 100;
  // Bodies up to this are read before dispatch; bounds what waiting connections hold in memory
  // (max_connections × (header_max_bytes + this)).
  size_t body_prebuffer_max = size_t{64} << 10;
  int request_timeout_ms = 5000;     // first byte → whole request read
  int write_timeout_ms = 30000;      // per wait for the client to take bytes
  int keep_alive_timeout_ms = 2000;  // idle between requests
  size_t keep_alive_max_requests = 1000;
};

class HttpFront : public httplib::Server {
 public:
  explicit HttpFront(FrontLimits limits);
  ~HttpFront() override;

  // Binds and listens; the bound port (useful with port 0), or -1 with *error.
  int bind_and_listen(const std::string& host, int port, std::string* error);
  // Serves until shutdown(); call once, after bind_and_listen(), on its own thread.
  void run();
  // From any thread: stops accepting, lets in-flight requests finish for a short grace, cuts
  // the rest; run() returns once every worker is joined.
  void shutdown();

  struct Loop;

 private:
  FrontLimits limits_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace huoyan::server
