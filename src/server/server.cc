// Server: owns the HTTP front (http_front.h: connections, limits, workers) and its event thread,
// and the checks every request passes before routing (Host, Origin, CORS, token). Routes live
// in routes_*.cc.
#include "huoyan/server.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "src/server/api_context.h"
#include "src/server/http_front.h"

namespace huoyan {

using server::ApiContext;
using server::send_error;

namespace server {

bool check_query(const Query& q, httplib::Response& res) {
  if (q.ok()) return true;
  send_error(res, 400, q.error());
  return false;
}

bool resolve_request(const TraceStore& store, const char* name, std::string_view where, Query& q,
                     httplib::Response& res, StringId* request) {
  *request = 0;
  if (!q.has(name)) return true;
  const std::string id = q.text(name);
  StringId sid = 0;
  if (!store.strings()->find(id, &sid) || !store.has_request(sid)) {
    send_error(res, 404,
               "unknown " + std::string(name) + " '" + id.substr(0, 128) +
                   (id.size() > 128 ? "…'" : "'") +
                   (where.empty() ? std::string() : " in " + std::string(where)));
    return false;
  }
  *request = sid;
  return true;
}

bool resolve_request(const ApiContext& ctx, Query& q, httplib::Response& res, StringId* request) {
  return resolve_request(ctx.store, "request_id", "", q, res, request);
}

bool resolve_device(const Snapshot& snapshot, Query& q, httplib::Response& res,
                    std::string* device) {
  device->clear();
  if (!q.has("device")) return true;
  const std::string want = q.text("device");
  for (TrackId t = 0; t < snapshot.tracks().size(); ++t) {
    if (snapshot.is_device_track(t) && snapshot.device_label(t) == want) {
      *device = want;
      return true;
    }
  }
  send_error(res, 404, "unknown device '" + want.substr(0, 128) + "' (see /api/devices)");
  return false;
}

}  // namespace server

bool parse_listen_address(std::string_view text, std::string* host, int* port) {
  std::string_view h = "127.0.0.1";
  std::string_view p = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return false;  // a bare IPv6 address needs brackets
    if (colon > 0) h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  int value = -1;
  const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (h.empty() || p.empty() || ec != std::errc() || end != p.data() + p.size() || value < 0 ||
      value > 65535) {
    return false;
  }
  *host = std::string(h);
  *port = value;
  return true;
}

struct Server::Impl {
  Impl(const TraceStore& store, ServerOptions o, LiveSource* live,
       std::unique_ptr<LiveSource> owned)
      : owned_live(std::move(owned)), options(std::move(o)), ctx(store, options, live) {}

  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res);
  bool authorized(const httplib::Request& req) const;
  bool host_allowed(const std::string& host_header) const;
  bool origin_allowed(const httplib::Request& req) const;
  void configure();

  std::unique_ptr<LiveSource> owned_live;  // first member: destroyed after everything using it
  ServerOptions options;
  ApiContext ctx;
  std::unique_ptr<server::HttpFront> http;
  std::thread thread;
  std::thread warmer;  // file-backed stores: builds the whole-store caches after start()
  std::atomic<int> port{0};
  bool loopback = false;
  std::vector<std::string> host_names;  // besides IP literals, on a non-loopback address

  std::mutex mu;  // guards started/stopped
  std::condition_variable cv;
  bool started = false;
  bool stopped = false;
};

bool Server::Impl::authorized(const httplib::Request& req) const {
  std::string_view token;
  const std::string auth = req.get_header_value("Authorization");
  if (server::bearer_token(auth, &token)) return server::constant_time_equals(options.token, token);
  // The browser UI cannot add headers to every fetch: it carries the cookie set by /?token=.
  const std::string cookie = server::cookie_value(req.get_header_value("Cookie"), "huoyan_token");
  return !cookie.empty() && server::constant_time_equals(options.token, cookie);
}

bool Server::Impl::host_allowed(const std::string& host_header) const {
  if (server::is_loopback_host(host_header)) return true;
  const std::string name = server::host_name(host_header);
  if (!name.empty() && std::find(host_names.begin(), host_names.end(), name) != host_names.end()) {
    return true;
  }
  // A DNS-rebinding page reaches the server under its own domain name, never an IP literal.
  return !loopback && server::is_ip_literal(name);
}

bool Server::Impl::origin_allowed(const httplib::Request& req) const {
  if (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") return true;
  if (!req.has_header("Origin")) return true;  // not a browser, or a same-origin navigation
  const std::string origin = req.get_header_value("Origin");
  if (options.cors_origin == "*" ||
      (!options.cors_origin.empty() && origin == options.cors_origin)) {
    return true;
  }
  return server::same_origin(origin, req.get_header_value("Host"));
}

httplib::Server::HandlerResponse Server::Impl::pre_route(const httplib::Request& req,
                                                         httplib::Response& res) {
  using HR = httplib::Server::HandlerResponse;
  if (options.check_host && !host_allowed(req.get_header_value("Host"))) {
    send_error(res, 403,
               "Host '" + req.get_header_value("Host").substr(0, 128) + "' not allowed: " +
                   (loopback ? "this server listens on a loopback address (use localhost or "
                               "127.0.0.1)"
                             : "use an IP address of this machine, its host name, or a name "
                               "given with --allow-host"));
    return HR::Handled;
  }
  if (!origin_allowed(req)) {
    send_error(res, 403,
               "Origin '" + req.get_header_value("Origin").substr(0, 128) +
                   "' not allowed: cross-site requests that change state are refused");
    return HR::Handled;
  }
  if (!options.cors_origin.empty()) {
    res.set_header("Access-Control-Allow-Origin", options.cors_origin);
    res.set_header("Vary", "Origin");
    if (req.method == "OPTIONS") {
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "600");
      res.status = 204;
      return HR::Handled;
    }
  }
  const std::string& path = req.path;
  const bool guarded = path == "/api" || path.starts_with("/api/") || path == "/metrics";
  if (guarded && !options.token.empty() && !authorized(req)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"huoyan\"");
    send_error(res, 401, "missing or wrong token: send the header 'Authorization: Bearer <token>'");
    return HR::Handled;
  }
  return HR::Unhandled;
}

void Server::Impl::configure() {
  using httplib::Request;
  using httplib::Response;
  http = std::make_unique<server::HttpFront>(server::FrontLimits{
      .threads = std::max(1, options.threads),
      .max_connections = std::max(1, options.max_connections),
      .header_max_bytes = options.header_max_bytes,
      .header_max_fields = options.header_max_fields,
      .body_prebuffer_max = std::min<size_t>(options.payload_max_bytes, size_t{64} << 10),
      .request_timeout_ms = options.read_timeout_ms,
      .write_timeout_ms = options.write_timeout_ms,
      .keep_alive_timeout_ms = options.keep_alive_timeout_s * 1000,
  });
  http->set_payload_max_length(options.payload_max_bytes);
  // Only for the Keep-Alive header httplib writes; the front enforces both.
  http->set_keep_alive_timeout(options.keep_alive_timeout_s);
  http->set_keep_alive_max_count(1000);
  // Browsers must not guess a type from the content (an error echoing input, a trace): set on
  // every reply, those of extra_routes included.
  http->set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  http->set_pre_routing_handler([this](const Request& q, Response& r) { return pre_route(q, r); });
  // Statuses produced outside the handlers (404 of an unknown route, 413 of a large body, 400
  // of a malformed request line) get a JSON body too; handlers' own bodies are kept.
  const size_t payload_max = options.payload_max_bytes;
  http->set_error_handler(
      httplib::Server::HandlerWithResponse([payload_max](const Request& req, Response& res) {
        if (!res.body.empty() || res.content_provider_) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        const int status = res.status;
        switch (status) {
          case 404:
            send_error(res, 404, "no such endpoint: " + req.method + " " + req.path);
            break;
          case 413:
            send_error(res, 413,
                       "request body too large (limit " + std::to_string(payload_max) + " bytes)");
            break;
          default:
            send_error(res, status, "HTTP error " + std::to_string(status));
            break;
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  // Never a stack trace or an exception text to the client (httplib would put what() in a
  // header); the operator sees it on stderr.
  http->set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "huoyan server: %s %s failed: %s\n", req.method.c_str(), req.path.c_str(),
                 what.c_str());
    res.headers.clear();
    res.set_header("X-Content-Type-Options", "nosniff");
    send_error(res, 500, "internal error");
  });
  server::register_profile_routes(*http, ctx);
  server::register_request_routes(*http, ctx);
  server::register_timeline_routes(*http, ctx);
  server::register_status_routes(*http, ctx);
  server::register_analysis_routes(*http, ctx);
  if (options.extra_routes) options.extra_routes(*http);
  server::register_static_routes(*http, ctx);  // last: it takes every other GET
}

Server::Server(const TraceStore& store, ServerOptions options, LiveSource* live)
    : impl_(std::make_unique<Impl>(store, std::move(options), live, nullptr)) {}

Server::Server(const TraceStore& store, ServerOptions options, std::unique_ptr<LiveSource> live)
    : impl_(std::make_unique<Impl>(store, std::move(options), live.get(), std::move(live))) {}

Server::~Server() { stop(); }

bool Server::start(std::string* error) {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.started) {
      if (error) *error = "the server was already started";
      return false;
    }
  }
  s.configure();
  s.loopback = server::is_loopback_host(s.options.host);
  for (const std::string& h : s.options.allowed_hosts) s.host_names.push_back(server::host_name(h));
  if (!s.loopback) {
    s.host_names.push_back(server::host_name(s.options.host));
    char name[256] = "";
    if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') {
      s.host_names.push_back(server::host_name(name));
    }
  }
  std::string why;
  const int bound = s.http->bind_and_listen(s.options.host, s.options.port, &why);
  if (bound <= 0) {
    if (error) {
      *error = "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + " (" +
               why + ")";
    }
    s.http.reset();
    return false;
  }
  s.port = bound;
  // Connections queue in the kernel from here; the event thread accepts them.
  s.thread = std::thread([&s] { s.http->run(); });
  // A file-backed store does not change: its whole-store answers can be built before anyone
  // asks. A live store changes too often for that to pay.
  if (s.ctx.live == nullptr && s.options.prewarm) {
    s.warmer = std::thread([&s] { server::warm_caches(s.ctx); });
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.started = true;
  return true;
}

void Server::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.started || s.stopped) return;
    s.stopped = true;
  }
  s.ctx.stopping = true;
  s.http->shutdown();
  if (s.thread.joinable()) s.thread.join();
  if (s.warmer.joinable()) s.warmer.join();  // finishes the cache it is building
  s.cv.notify_all();
}

void Server::wait() {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return !s.started || s.stopped; });
}

bool Server::running() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->started && !impl_->stopped;
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const std::string& h = impl_->options.host;
  const bool v6 = h.find(':') != std::string::npos;
  // A wildcard address is not something to open in a browser: show the loopback instead.
  const std::string shown = h == "0.0.0.0" ? "127.0.0.1"
                            : h == "::"    ? "[::1]"
                            : v6           ? "[" + h + "]"
                                           : h;
  return "http://" + shown + ":" + std::to_string(impl_->port) + "/";
}

}  // namespace huoyan
