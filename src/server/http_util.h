// Plumbing shared by the route handlers: strict query-parameter decoding, JSON bodies and
// errors, streamed bodies, and the small security helpers. Nothing here knows an endpoint.
#pragma once

// The compiled cpp-httplib of Debian is built with zlib, brotli and OpenSSL support; the
// declarations seen here must match (class layouts differ), so the build passes the same
// CPPHTTPLIB_*_SUPPORT definitions (target huoyan_httplib). Without zlib, responses would
// silently go uncompressed.
#if !defined(CPPHTTPLIB_ZLIB_SUPPORT)
#error "build with the huoyan_httplib target: it defines CPPHTTPLIB_ZLIB_SUPPORT & co."
#endif
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "src/analysis/attribution.h"
#include "src/analysis/kernel_stats.h"
#include "src/core/status.h"
#include "src/io/sink.h"

namespace huoyan::server {

// Content types cpp-httplib compresses must match its list exactly ("application/json", not
// "application/json; charset=utf-8"): JSON is UTF-8 by definition anyway.
inline constexpr const char* kJsonType = "application/json";

// Decodes query parameters. An absent or empty parameter takes its default; a malformed or
// out-of-range one records an error (the first wins) that the handler turns into a 400.
class Query {
 public:
  explicit Query(const httplib::Request& req) : req_(req) {}

  bool has(const char* name) const;
  std::string text(const char* name) const;  // "" when absent
  int64_t integer(const char* name, int64_t def, int64_t min, int64_t max);
  AttributionMode mode(const char* name, AttributionMode def);
  GroupBy group(const char* name, GroupBy def);
  KindSet kinds(const char* name, KindSet def);  // parse_kind_set() words
  // One of `allowed` (e.g. {"chrome","folded","speedscope"}); `def` when absent.
  std::string one_of(const char* name, std::string_view def,
                     std::initializer_list<std::string_view> allowed);

  void fail(std::string message);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const httplib::Request& req_;
  std::string error_;
};

// A Prometheus label value: backslash, quote and newline escaped, other control characters as
// spaces.
std::string prometheus_label(std::string_view v);

// Builds a small JSON body in memory (bounded by the request's parameters, not the store).
template <typename F>
std::string build_json(F&& write) {
  StringSink sink;
  {
    BufferedOut out(&sink, size_t{64} << 10);
    write(out);
    out.flush();
  }
  return std::move(sink.str());
}

void send_json(httplib::Response& res, std::string body, int status = 200);
// {"error": message}. Messages name the parameter and echo the bad value (escaped).
void send_error(httplib::Response& res, int status, std::string_view message);

// Streams a body produced by `write` through a CallbackSink: memory stays bounded by one
// buffer whatever the size. The writer runs on the worker thread once headers are sent; if it
// fails (or `stopping` becomes true, or the client goes away) the connection is closed before
// the last chunk, so the client sees a truncated transfer rather than a bad file.
using BodyWriter = std::function<Status(Sink& sink)>;
void send_stream(httplib::Response& res, const char* content_type, BodyWriter write,
                 const std::atomic<bool>* stopping);

// The Accept-Encoding httplib should see: "gzip" when the client takes gzip, else "" (identity).
// httplib picks brotli whenever a client offers "br" (every browser does), and the Debian build
// compresses it at quality 11: about 1 MB/s, 0.3-0.5 s for a 260 KB timeline answer and seconds
// for a profile download, against milliseconds with gzip (level 6). Stripping "br" (and codings
// httplib cannot produce) leaves gzip or nothing.
std::string response_encoding(std::string_view accept_encoding);

// Equality that takes the same time wherever the first difference is (tokens).
bool constant_time_equals(std::string_view a, std::string_view b);

// `text` reduced to [A-Za-z0-9._-] (others become '_'), at most 80 characters: safe inside a
// Content-Disposition filename whatever a request id contains.
std::string safe_filename_part(std::string_view text);

// Value of cookie `name` in a Cookie header, "" when absent.
std::string cookie_value(std::string_view header, std::string_view name);

// True for "localhost", "127.x.y.z", "::1" and "[::1]" (with or without ":port").
bool is_loopback_host(std::string_view host_header);

// The name of a Host header without its port and brackets ("[::1]:80" → "::1"), lower case.
std::string host_name(std::string_view host_header);
// True for an IPv4 or IPv6 address literal (no port, no brackets).
bool is_ip_literal(std::string_view name);
// The token of "Authorization: Bearer <token>", scheme in any case (RFC 9110 §11.1); false
// when the header carries another scheme or no token.
bool bearer_token(std::string_view authorization, std::string_view* token);
// True when `origin` ("http://host:port") names the server a request was sent to (its Host).
bool same_origin(std::string_view origin, std::string_view host_header);

}  // namespace huoyan::server
