// What the server refuses: missing tokens, oversized bodies, unknown routes, foreign Host
// headers, cross-origin reads, path traversal on the embedded assets, slow clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "src/server/server_test_harness.h"

namespace huoyan::server::testing {
namespace {

SyntheticTrace tiny() {
  SyntheticTrace t;
  t.steps = 5;
  return t;
}

void expect_json_error(const httplib::Result& r, int status) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(error_of(r), "") << r->body;
  EXPECT_EQ(r->body.find("what()"), std::string::npos);
}

TEST(ServerSecurity, TokenGuardsApiAndMetrics) {
  ServerOptions o;
  o.token = "s3cret-token";
  TestServer s(o, tiny());
  for (const char* path : {"/api/status", "/api/requests", "/metrics", "/api/nope"}) {
    auto r = s.get(path);
    expect_json_error(r, 401);
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"huoyan\"");
    expect_json_error(s.get(path, {{"Authorization", "Bearer wrong-token!"}}), 401);
    expect_json_error(s.get(path, {{"Authorization", "Bearer s3cret-toke"}}), 401);
    expect_json_error(s.get(path, {{"Authorization", "Bearer s3cret-token2"}}), 401);
    expect_json_error(s.get(path, {{"Authorization", "s3cret-token"}}), 401);
    expect_json_error(s.get(path, {{"Authorization", "Basic czNjcmV0LXRva2Vu"}}), 401);
  }
  auto ok = s.get("/api/status", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(s.get("/metrics", {{"Authorization", "Bearer s3cret-token"}})->status, 200);
  // POST endpoints too, before the body is even read.
  httplib::Client c = s.client();
  expect_json_error(c.Post("/api/capture", "", "text/plain"), 401);
}

TEST(ServerSecurity, TokenInTheUrlBecomesACookie) {
  ServerOptions o;
  o.token = "abc123";
  TestServer s(o, tiny());
  httplib::Client c = s.client();
  auto r = c.Get("/?token=abc123");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->get_header_value("Location"), "/");
  EXPECT_EQ(r->get_header_value("Set-Cookie"),
            "huoyan_token=abc123; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(s.get("/api/status", {{"Cookie", "x=1; huoyan_token=abc123"}})->status, 200);
  EXPECT_EQ(s.get("/api/status", {{"Cookie", "huoyan_token=abc124"}})->status, 401);
  // A wrong token in the URL sets nothing.
  auto bad = c.Get("/?token=nope");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->has_header("Set-Cookie"));
}

TEST(ServerSecurity, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("abc", "abcabc"));
  EXPECT_FALSE(constant_time_equals("abc", ""));
  EXPECT_FALSE(constant_time_equals("", "a"));
}

TEST(ServerSecurity, OversizedBodyIs413) {
  TestServer s({}, tiny());
  httplib::Client c = s.client();
  c.set_write_timeout(60, 0);
  const std::string body(100u << 20, 'x');
  // httplib drains the body before answering. (Under ThreadSanitizer the server can be slow
  // enough to answer and close while the client still sends, which the client reports as a
  // failed request: this test is meant for regular builds.)
  auto r = c.Post("/api/capture?duration_ms=10", body, "application/octet-stream");
  expect_json_error(r, 413);
  EXPECT_EQ(error_of(r), "request body too large (limit 1048576 bytes)");
  // The server is still fine.
  EXPECT_EQ(s.get("/api/status")->status, 200);
}

TEST(ServerSecurity, UnknownRoutesAreJson404) {
  TestServer s({}, tiny());
  expect_json_error(s.get("/api/nope"), 404);
  EXPECT_EQ(error_of(s.get("/api/nope")), "no such endpoint: GET /api/nope");
  expect_json_error(s.get("/api"), 404);
  httplib::Client c = s.client();
  expect_json_error(c.Post("/api/nope", "", "text/plain"), 404);
  expect_json_error(c.Delete("/api/status"), 404);
  expect_json_error(c.Put("/x", "", "text/plain"), 404);
  auto get_capture = s.get("/api/capture");
  expect_json_error(get_capture, 405);
  EXPECT_EQ(get_capture->get_header_value("Allow"), "POST");
  // No web UI in this server: "/" explains instead of a bare 404.
  auto root = s.get("/");
  expect_json_error(root, 404);
  EXPECT_NE(error_of(root).find("no web UI"), std::string::npos);
}

TEST(ServerSecurity, ForeignHostHeaderIsRefusedOnLoopback) {
  TestServer s({}, tiny());
  expect_json_error(s.get("/api/status", {{"Host", "evil.example"}}), 403);
  expect_json_error(s.get("/api/status", {{"Host", "127.0.0.1.evil.example:80"}}), 403);
  EXPECT_EQ(s.get("/api/status", {{"Host", "localhost:8080"}})->status, 200);
  EXPECT_EQ(s.get("/api/status", {{"Host", "[::1]:8080"}})->status, 200);
  EXPECT_TRUE(is_loopback_host("127.1.2.3:9"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1x"));
  EXPECT_FALSE(is_loopback_host("[::2]:80"));
  EXPECT_FALSE(is_loopback_host(""));
}

TEST(ServerSecurity, CorsIsOffByDefault) {
  TestServer off({}, tiny());
  auto r = off.get("/api/status", {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));

  ServerOptions o;
  o.cors_origin = "http://localhost:5173";
  TestServer on(o, tiny());
  auto a = on.get("/api/status", {{"Origin", "http://localhost:5173"}});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");
  httplib::Client c = on.client();
  auto pre = c.Options("/api/capture", {{"Origin", "http://localhost:5173"},
                                        {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
}

std::string gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class StaticAssets : public ::testing::Test {
 protected:
  StaticAssets() {
    files_["/index.html"] = {"text/html; charset=utf-8", "<!doctype html><title>huoyan</title>",
                             false};
    js_ = "console.log('huoyan');\n" + std::string(2000, ' ');
    files_["/assets/app-1234.js"] = {"text/javascript", gzip(js_), true};
    ServerOptions o;
    o.assets = [this](std::string_view path, WebAsset* out) {
      auto it = files_.find(std::string(path));
      if (it == files_.end()) return false;
      *out = {it->first, it->second.type, it->second.data, it->second.gzip};
      return true;
    };
    server_ = std::make_unique<TestServer>(o, tiny());
  }
  struct File {
    std::string type, data;
    bool gzip;
  };
  std::map<std::string, File> files_;
  std::string js_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(StaticAssets, IndexSpaRoutesAndMissingFiles) {
  auto root = server_->get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_EQ(root->body, files_["/index.html"].data);
  EXPECT_EQ(root->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(root->get_header_value("X-Content-Type-Options"), "nosniff");
  auto spa = server_->get("/flame/some/route");
  ASSERT_TRUE(spa);
  EXPECT_EQ(spa->status, 200);
  EXPECT_EQ(spa->body, files_["/index.html"].data);
  expect_json_error(server_->get("/assets/missing.js"), 404);
  expect_json_error(server_->get("/favicon.ico"), 404);
}

TEST_F(StaticAssets, GzippedAssetsAreSentAsIsOrInflated) {
  httplib::Client raw = server_->client();
  raw.set_decompress(false);
  auto z = raw.Get("/assets/app-1234.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->status, 200);
  EXPECT_EQ(z->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(z->body, files_["/assets/app-1234.js"].data);  // not compressed twice
  EXPECT_EQ(z->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto plain = raw.Get("/assets/app-1234.js", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  EXPECT_FALSE(plain->has_header("Content-Encoding"));
  EXPECT_EQ(plain->body, js_);
}

// Sends a raw request line (no client-side normalization) and returns the response.
std::string raw_get(int port, const std::string& target) {
  const int fd = connect_loopback(port);
  if (fd < 0) return "";
  const std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_F(StaticAssets, PathTraversalIsImpossible) {
  for (const char* target :
       {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/assets/..%2f..%2f..%2fetc%2fpasswd", "/assets%2f..%2f..%2fetc%2fpasswd",
        "/..%5c..%5cetc%5cpasswd", "/assets/../index.html", "/./index.html", "/%00/etc/passwd",
        "//etc/passwd", "/etc/passwd", "/.env"}) {
    const std::string resp = raw_get(server_->port(), target);
    ASSERT_FALSE(resp.empty()) << target;
    EXPECT_EQ(resp.find("root:"), std::string::npos) << target;
    const bool refused = resp.rfind("HTTP/1.1 404", 0) == 0 || resp.rfind("HTTP/1.1 400", 0) == 0;
    // Plain SPA routes without dot segments may get index.html; nothing else is served.
    const bool spa = resp.rfind("HTTP/1.1 200", 0) == 0 &&
                     resp.find("<!doctype html><title>huoyan</title>") != std::string::npos;
    EXPECT_TRUE(refused || spa) << target << "\n" << resp.substr(0, 200);
    if (std::string(target).find("..") != std::string::npos ||
        std::string(target).find("%2e") != std::string::npos ||
        std::string(target).find("%2E") != std::string::npos) {
      EXPECT_TRUE(refused) << target;
    }
  }
}

TEST(ServerSecurity, SlowClientIsDropped) {
  ServerOptions o;
  o.read_timeout_ms = 200;
  TestServer s(o, tiny());
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  const std::string partial = "GET /api/status HTTP/1.1\r\nHo";
  ASSERT_EQ(::write(fd, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  const auto start = std::chrono::steady_clock::now();
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof(buf));  // returns when the server gives up
  const auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_LE(n, static_cast<ssize_t>(sizeof(buf)));
  EXPECT_LT(waited, std::chrono::seconds(3));
  EXPECT_EQ(s.get("/api/status")->status, 200);
}

TEST(ServerSecurity, ListenAddressParsing) {
  std::string host;
  int port = -1;
  EXPECT_TRUE(parse_listen_address("0.0.0.0:9000", &host, &port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9000);
  EXPECT_TRUE(parse_listen_address(":0", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  EXPECT_TRUE(parse_listen_address("8081", &host, &port));
  EXPECT_EQ(port, 8081);
  EXPECT_TRUE(parse_listen_address("[::1]:8080", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(parse_listen_address("::1:8080", &host, &port));
  EXPECT_FALSE(parse_listen_address("host:", &host, &port));
  EXPECT_FALSE(parse_listen_address("host:65536", &host, &port));
  EXPECT_FALSE(parse_listen_address("host:-1", &host, &port));
  EXPECT_FALSE(parse_listen_address("host:80x", &host, &port));
}

TEST(ServerSecurity, StartFailsCleanlyOnABusyPort) {
  TestServer first({}, tiny());
  TraceStore store;
  ServerOptions o;
  o.port = first.port();
  Server second(store, o);
  std::string error;
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("cannot listen"), std::string::npos);
  EXPECT_FALSE(second.running());
}

}  // namespace
}  // namespace huoyan::server::testing
