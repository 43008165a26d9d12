// The HTTP layer under abuse (http_front.h): endless and numerous headers, slow senders, idle
// connections by the hundred, a connection cap, shutdown with slow clients still connected, and
// the request-level checks (body-less POST, Origin, nosniff, bearer scheme, Host allow-list).
// tests/abuse/ runs the same probes at full scale against the real binaries.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "src/server/server_test_harness.h"

namespace huoyan::server::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

SyntheticTrace tiny() {
  SyntheticTrace t;
  t.steps = 5;
  return t;
}

bool send_all(int fd, const std::string& data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Reads until the peer closes or `timeout` passes.
std::string read_reply(int fd, milliseconds timeout = milliseconds(5000)) {
  std::string out;
  const auto end = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left))) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One request on a fresh connection ("Connection: close"); the reply and how long it took.
std::string request(int port, const std::string& head, milliseconds* took = nullptr) {
  const auto start = Clock::now();
  const int fd = connect_loopback(port);
  if (fd < 0) return "";
  send_all(fd, head);
  std::string out = read_reply(fd);
  ::close(fd);
  if (took) *took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return out;
}

std::string get(int port, const std::string& path, const std::string& extra = "") {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                           extra + "\r\n");
}

int status_of(const std::string& reply) {
  return reply.size() > 12 ? std::atoi(reply.c_str() + 9) : 0;
}

TEST(ServerAbuse, EndlessHeadersAre431) {
  TestServer s({}, tiny());
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const std::string line = "X-Filler: " + std::string(100, 'a') + "\r\n";
  size_t sent = 0;
  while (sent < (size_t{8} << 20) && send_all(fd, line)) sent += line.size();
  const std::string reply = read_reply(fd);
  ::close(fd);
  EXPECT_LT(sent, size_t{8} << 20) << "the server kept reading";
  EXPECT_EQ(status_of(reply), 431) << reply.substr(0, 200);
  EXPECT_EQ(status_of(get(s.port(), "/api/status")), 200);
}

TEST(ServerAbuse, TooManyHeaderFieldsAre431) {
  TestServer s({}, tiny());
  std::string head = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (int i = 0; i < 150; ++i) head += "X-" + std::to_string(i) + ": 1\r\n";
  EXPECT_EQ(status_of(request(s.port(), head + "\r\n")), 431);
  EXPECT_EQ(status_of(get(s.port(), "/api/status")), 200);
}

TEST(ServerAbuse, SlowSendersGet408AndStarveNobody) {
  ServerOptions o;
  o.threads = 2;
  o.read_timeout_ms = 1500;
  TestServer s(o, tiny());
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) {
    const int fd = connect_loopback(s.port());
    ASSERT_GE(fd, 0);
    send_all(fd, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    slow.push_back(fd);
  }
  for (int round = 0; round < 5; ++round) {
    for (int fd : slow) send_all(fd, "X");
    milliseconds took{};
    EXPECT_EQ(status_of(request(s.port(),
                                "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                                "close\r\n\r\n",
                                &took)),
              200);
    EXPECT_LT(took.count(), 1000);
    std::this_thread::sleep_for(milliseconds(100));
  }
  // The whole request had 1.5 s: past it, the server answers 408 and hangs up.
  for (int fd : slow) {
    EXPECT_EQ(status_of(read_reply(fd, milliseconds(5000))), 408);
    ::close(fd);
  }
}

TEST(ServerAbuse, IdleConnectionsCostNoWorker) {
  ServerOptions o;
  o.threads = 2;
  TestServer s(o, tiny());
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(connect_loopback(s.port()));
  // Half of them start a request and stop (headers never end): still no worker taken.
  for (size_t i = 0; i < idle.size(); i += 2) send_all(idle[i], "GET / HTTP/1.1\r\n");
  milliseconds took{};
  const std::string reply = request(
      s.port(), "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", &took);
  EXPECT_EQ(status_of(reply), 200);
  EXPECT_LT(took.count(), 1000);
  for (int fd : idle) ::close(fd);
}

TEST(ServerAbuse, ConnectionsBeyondTheCapGet503) {
  ServerOptions o;
  o.max_connections = 20;
  TestServer s(o, tiny());
  std::vector<int> held;
  for (int i = 0; i < 20; ++i) held.push_back(connect_loopback(s.port()));
  std::this_thread::sleep_for(milliseconds(200));  // accepted by the event thread
  const std::string refused = get(s.port(), "/api/status");
  EXPECT_EQ(status_of(refused), 503) << refused.substr(0, 200);
  EXPECT_NE(refused.find("Retry-After"), std::string::npos);
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(status_of(get(s.port(), "/api/status")), 200);
}

TEST(ServerAbuse, StopIsQuickWithSlowClients) {
  SyntheticTrace big;
  big.steps = 3000;  // a /api/profile of several MB: its worker blocks on the reader below
  auto s = std::make_unique<TestServer>(ServerOptions{}, big);
  std::vector<int> fds;
  for (int i = 0; i < 32; ++i) {
    const int fd = connect_loopback(s->port());
    send_all(fd, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    fds.push_back(fd);
  }
  // And one reader that takes no bytes of a large body.
  const int reader = connect_loopback(s->port());
  const int tiny_buffer = 1024;
  ::setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &tiny_buffer, sizeof tiny_buffer);
  send_all(reader, "GET /api/profile HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::this_thread::sleep_for(milliseconds(500));
  const auto start = Clock::now();
  s->server().stop();
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  s.reset();
  for (int fd : fds) ::close(fd);
  ::close(reader);
}

TEST(ServerAbuse, KeepAlivePipeliningAndSplitBodies) {
  TestServer s({}, tiny());
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  // Two requests in one packet, then a third whose header and body arrive in pieces.
  send_all(fd,
           "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/devices "
           "HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string got;
  const auto wait_for = [&](size_t replies) {
    const auto end = Clock::now() + milliseconds(3000);
    size_t n = 0;
    while (Clock::now() < end) {
      n = 0;
      for (size_t at = got.find("HTTP/1.1 "); at != std::string::npos;
           at = got.find("HTTP/1.1 ", at + 1)) {
        ++n;
      }
      if (n >= replies) break;
      got += read_reply(fd, milliseconds(100));
    }
    return n;
  };
  EXPECT_EQ(wait_for(2), 2u) << got;
  send_all(fd, "POST /api/capture HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le");
  std::this_thread::sleep_for(milliseconds(50));
  send_all(fd, "ngth: 4\r\nConnection: close\r\n\r\n{}");
  std::this_thread::sleep_for(milliseconds(50));
  send_all(fd, "  ");
  EXPECT_EQ(wait_for(3), 3u) << got;
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;  // files mode: no captures
  ::close(fd);
}

TEST(ServerAbuse, BodylessPostIsAnEmptyBody) {
  TestServer s({}, tiny());
  milliseconds took{};
  const std::string reply = request(s.port(),
                                    "POST /api/capture?duration_ms=5000 HTTP/1.1\r\nHost: "
                                    "127.0.0.1\r\nConnection: close\r\n\r\n",
                                    &took);
  // A file-backed server has no capture windows: 503 at once, not 400 after a timeout.
  EXPECT_EQ(status_of(reply), 503) << reply.substr(0, 300);
  EXPECT_LT(took.count(), 1000);
}

TEST(ServerAbuse, ExpectContinueIsNotHeldForItsBody) {
  TestServer s({}, tiny());
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  send_all(fd,
           "POST /api/capture HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nExpect: "
           "100-continue\r\nConnection: close\r\n\r\n");
  // The client sends its body only after "100 Continue".
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  char buf[64] = {};
  ASSERT_GT(::recv(fd, buf, sizeof buf - 1, 0), 0);
  EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 100", 0), 0u) << buf;
  send_all(fd, "{}");
  EXPECT_EQ(status_of(read_reply(fd)), 503);
  ::close(fd);
}

TEST(ServerAbuse, CrossSitePostsAreRefused) {
  TestServer s({}, tiny());
  const std::string port = std::to_string(s.port());
  const auto post = [&](const std::string& origin) {
    return status_of(request(s.port(), "POST /api/capture HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                                           "\r\nOrigin: " + origin +
                                           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  };
  EXPECT_EQ(post("http://evil.example"), 403);
  EXPECT_EQ(post("null"), 403);
  EXPECT_EQ(post("http://127.0.0.1:" + port + "0"), 403);
  EXPECT_EQ(post("http://127.0.0.1:" + port), 503);  // the UI itself: reaches the handler
  // Reads stay open to any origin (CORS decides what a page may see).
  EXPECT_EQ(status_of(get(s.port(), "/api/status", "Origin: http://evil.example\r\n")), 200);
}

TEST(ServerAbuse, EveryReplyIsNosniff) {
  TestServer s({}, tiny());
  for (const char* path : {"/api/status", "/api/nope", "/metrics"}) {
    const std::string reply = get(s.port(), path);
    EXPECT_NE(reply.find("X-Content-Type-Options: nosniff"), std::string::npos) << path;
  }
}

TEST(ServerAbuse, BearerSchemeIsCaseInsensitive) {
  ServerOptions o;
  o.token = "t0k";
  TestServer s(o, tiny());
  for (const char* auth : {"Bearer t0k", "bearer t0k", "BEARER  t0k"}) {
    EXPECT_EQ(
        status_of(get(s.port(), "/api/status", "Authorization: " + std::string(auth) + "\r\n")),
        200)
        << auth;
  }
  EXPECT_EQ(status_of(get(s.port(), "/api/status", "Authorization: bearer t0K\r\n")), 401);
  EXPECT_EQ(status_of(get(s.port(), "/api/status", "Authorization: bearert0k\r\n")), 401);
}

TEST(ServerAbuse, WildcardListenStillChecksHost) {
  ServerOptions o;
  o.host = "0.0.0.0";
  o.allowed_hosts = {"Profiler.Internal"};
  TestServer s(o, tiny());
  const auto with_host = [&](const std::string& host) {
    return status_of(request(
        s.port(), "GET /api/status HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"));
  };
  EXPECT_EQ(with_host("evil.example"), 403);
  EXPECT_EQ(with_host("evil.example:" + std::to_string(s.port())), 403);
  EXPECT_EQ(with_host("127.0.0.1:" + std::to_string(s.port())), 200);
  EXPECT_EQ(with_host("10.1.2.3:8080"), 200);
  EXPECT_EQ(with_host("[fe80::1]:8080"), 200);
  EXPECT_EQ(with_host("profiler.internal:8080"), 200);
  char name[256] = "";
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(with_host(name), 200);
}

}  // namespace
}  // namespace huoyan::server::testing
