#include "src/server/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/server/http_util.h"

namespace huoyan::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// In-flight requests get this long to finish after shutdown() before their sockets are cut.
constexpr milliseconds kStopGrace(1000);
constexpr milliseconds kScanEvery(100);

// One client connection. The event thread owns it while it waits for a request; a worker owns
// it (busy) while httplib serves one request, then hands it back.
struct Conn {
  int fd = -1;
  std::string buf;  // bytes received and not yet consumed by httplib (from pos)
  size_t pos = 0;
  size_t scanned = 0;  // bytes from pos known not to end the header block (no rescans)
  Clock::time_point deadline;
  bool started = false;  // a byte of the current request has arrived
  bool eof = false;      // the client half-closed: serve what is buffered, then close
  bool busy = false;
  bool keep = false;  // the worker's verdict: keep-alive
  size_t requests = 0;
};

// A response written by the front itself (the request never reached httplib). Best effort:
// one non-blocking send, then the connection is closed.
void send_canned(int fd, int status, std::string_view reason, std::string_view message) {
  std::string body = "{\"error\":\"";
  body.append(message);
  body += "\"}\n";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out.append(reason);
  out += "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n";
  if (status == 503) out += "Retry-After: 1\r\n";
  out += "\r\n" + body;
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool wait_fd(int fd, short events, int timeout_ms, short* revents = nullptr) {
  pollfd p{fd, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, std::max(0, timeout_ms));
    if (r < 0 && errno == EINTR) continue;
    if (revents) *revents = p.revents;
    return r > 0 && (p.revents & events) != 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) return;
  char text[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

// httplib's view of a connection: the bytes the event thread buffered first, then the socket,
// every read bounded by the request's deadline.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(Conn& c, Clock::time_point read_deadline, int write_timeout_ms)
      : c_(c), deadline_(read_deadline), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override {
    return c_.pos < c_.buf.size() || wait_fd(c_.fd, POLLIN, remaining_ms());
  }
  bool is_writable() const override {
    short rev = 0;
    if (!wait_fd(c_.fd, POLLOUT, write_timeout_ms_, &rev)) return false;
    if (rev & (POLLERR | POLLHUP)) return false;
    // A client that went away: readable with nothing to read (EOF).
    char byte;
    return !(wait_fd(c_.fd, POLLIN, 0) && ::recv(c_.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0);
  }
  ssize_t read(char* ptr, size_t size) override {
    if (c_.pos < c_.buf.size()) {
      const size_t n = std::min(size, c_.buf.size() - c_.pos);
      std::memcpy(ptr, c_.buf.data() + c_.pos, n);
      c_.pos += n;
      if (c_.pos == c_.buf.size()) {
        c_.buf.clear();
        c_.pos = 0;
      }
      return static_cast<ssize_t>(n);
    }
    while (true) {
      const ssize_t r = ::recv(c_.fd, ptr, size, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      const int ms = remaining_ms();
      if (ms <= 0 || !wait_fd(c_.fd, POLLIN, ms)) return -1;  // past the request's deadline
    }
  }
  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      const ssize_t w = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL);
      if (w > 0) {
        done += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait_fd(c_.fd, POLLOUT, write_timeout_ms_)) return -1;
      } else {
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(c_.fd, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(c_.fd, false, ip, port);
  }
  socket_t socket() const override { return c_.fd; }

 private:
  int remaining_ms() const {
    return static_cast<int>(
        std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()).count());
  }

  Conn& c_;
  Clock::time_point deadline_;
  int write_timeout_ms_;
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

// The value of header field `name` (lower case, with its colon) in a complete header block,
// false when it is absent.
bool field_value(std::string_view head, std::string_view name, std::string_view* value) {
  for (size_t at = head.find('\n'); at != std::string_view::npos; at = head.find('\n', at + 1)) {
    std::string_view line = head.substr(at + 1);
    if (!iequals_prefix(line, name)) continue;
    line = line.substr(name.size(), line.find('\r') - name.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    *value = line;
    return true;
  }
  return false;
}

// The Content-Length of a complete header block, or -1 when absent or not a plain number
// (httplib then decides: chunked, 400, …).
int64_t content_length(std::string_view head) {
  std::string_view v;
  if (!field_value(head, "content-length:", &v) || v.empty()) return -1;
  int64_t n = 0;
  for (const char c : v) {
    if (c == ' ' || c == '\t') break;
    if (c < '0' || c > '9' || n > (int64_t{1} << 50)) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

struct HttpFront::Loop {
  Loop(HttpFront& f, FrontLimits l) : front(f), lim(l) {}
  ~Loop() {
    for (int fd : {listen_fd, epfd, wake_fd, spare_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void run();
  void wake() {
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }
  void accept_all();
  void on_readable(Conn* c);
  void check_ready(Conn* c);
  void dispatch(Conn* c);
  void serve(Conn* c);  // on a worker
  void take_returned();
  void expire();
  void reject(Conn* c, int status, std::string_view reason, std::string_view message) {
    send_canned(c->fd, status, reason, message);
    close_conn(c);
  }
  void close_conn(Conn* c) {
    if (!c->busy) ::epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    const int fd = c->fd;
    ::close(fd);
    conns.erase(fd);
  }
  bool watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    return ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  HttpFront& front;
  const FrontLimits lim;
  int listen_fd = -1;
  int epfd = -1;
  int wake_fd = -1;
  int spare_fd = -1;  // given up when out of descriptors, to answer 503 instead of spinning
  int max_conns = 0;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;  // event thread only
  int busy = 0;
  std::unique_ptr<httplib::TaskQueue> pool;

  std::mutex mu;
  std::vector<Conn*> returned;  // guarded by mu: connections workers are done with
  std::atomic<bool> stop{false};
};

void HttpFront::Loop::accept_all() {
  for (int i = 0; i < 1024; ++i) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
        ::close(spare_fd);
        fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          send_canned(fd, 503, "Service Unavailable", "too many connections");
          ::close(fd);
        }
        spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      return;  // EAGAIN, or an error the next readiness will retry
    }
    if (static_cast<int>(conns.size()) >= max_conns) {
      send_canned(fd, 503, "Service Unavailable", "too many connections");
      ::close(fd);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->deadline = Clock::now() + milliseconds(lim.request_timeout_ms);
    if (!watch(fd)) {
      ::close(fd);
      continue;
    }
    conns.emplace(fd, std::move(c));
  }
}

void HttpFront::Loop::on_readable(Conn* c) {
  char tmp[16384];
  const size_t cap = lim.header_max_bytes + lim.body_prebuffer_max;
  while (c->buf.size() - c->pos <= cap) {
    const ssize_t r = ::recv(c->fd, tmp, sizeof tmp, 0);
    if (r == 0) {
      c->eof = true;
      break;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(c);
      return;
    }
    if (!c->started) {
      c->started = true;
      c->deadline = Clock::now() + milliseconds(lim.request_timeout_ms);
    }
    c->buf.append(tmp, static_cast<size_t>(r));
  }
  check_ready(c);
}

// Dispatches `c` when its request is complete enough for a worker to serve it without waiting
// on the client; answers 431 when its header block breaks the limits; else keeps waiting.
void HttpFront::Loop::check_ready(Conn* c) {
  const std::string_view data(c->buf.data() + c->pos, c->buf.size() - c->pos);
  const size_t end = data.find("\r\n\r\n", c->scanned > 3 ? c->scanned - 3 : 0);
  if (end == std::string_view::npos) c->scanned = data.size();
  if (end == std::string_view::npos || end + 4 > lim.header_max_bytes) {
    if (data.size() > lim.header_max_bytes) {
      return reject(
          c, 431, "Request Header Fields Too Large",
          "request headers larger than " + std::to_string(lim.header_max_bytes) + " bytes");
    }
    if (c->eof) close_conn(c);
    return;
  }
  const std::string_view head = data.substr(0, end + 4);
  const auto lines = std::count(head.begin(), head.end(), '\n');
  if (lines - 2 > lim.header_max_fields) {
    return reject(c, 431, "Request Header Fields Too Large",
                  "more than " + std::to_string(lim.header_max_fields) + " header fields");
  }
  const int64_t length = content_length(head);
  std::string_view expect;
  // A client that sent "Expect: 100-continue" waits for httplib's 100 before its body.
  const bool waits_for_100 = field_value(head, "expect:", &expect);
  if (length > 0 && static_cast<size_t>(length) <= lim.body_prebuffer_max && !waits_for_100 &&
      data.size() < head.size() + static_cast<size_t>(length)) {
    if (c->eof) close_conn(c);
    return;  // the body is still coming
  }
  dispatch(c);
}

void HttpFront::Loop::dispatch(Conn* c) {
  ::epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
  c->scanned = 0;  // the worker consumes from pos: the next request is scanned afresh
  c->busy = true;
  ++busy;
  ++c->requests;
  pool->enqueue([this, c] { serve(c); });
}

void HttpFront::Loop::serve(Conn* c) {
  ConnStream stream(*c, c->deadline, lim.write_timeout_ms);
  const bool last = stop.load() || c->eof || c->requests >= lim.keep_alive_max_requests;
  bool closed = false;
  static const std::function<void(httplib::Request&)> setup = [](httplib::Request& req) {
    // A POST without Content-Length or Transfer-Encoding has an empty body (RFC 9112 §6.3);
    // httplib would read until the client closes.
    if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
         req.method == "DELETE") &&
        !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      req.set_header("Content-Length", "0");
    }
    // gzip, never httplib's slow brotli (see response_encoding).
    auto it = req.headers.find("Accept-Encoding");
    if (it != req.headers.end()) it->second = response_encoding(it->second);
  };
  const bool ok = front.process_request(stream, last, closed, setup);
  c->keep = ok && !closed && !last;
  std::lock_guard<std::mutex> lock(mu);
  returned.push_back(c);
  wake();
}

void HttpFront::Loop::take_returned() {
  std::vector<Conn*> back;
  {
    std::lock_guard<std::mutex> lock(mu);
    back.swap(returned);
  }
  for (Conn* c : back) {
    c->busy = false;
    --busy;
    if (!c->keep || stop.load() || !watch(c->fd)) {
      close_conn(c);
      continue;
    }
    c->started = c->pos < c->buf.size();
    c->deadline = Clock::now() +
                  milliseconds(c->started ? lim.request_timeout_ms : lim.keep_alive_timeout_ms);
    if (c->started) check_ready(c);  // a pipelined request already buffered
  }
}

void HttpFront::Loop::expire() {
  const auto now = Clock::now();
  std::vector<Conn*> late;
  for (auto& [fd, c] : conns) {
    if (!c->busy && now >= c->deadline) late.push_back(c.get());
  }
  for (Conn* c : late) {
    if (c->started) {
      reject(c, 408, "Request Timeout",
             "request not received within " + std::to_string(lim.request_timeout_ms) + " ms");
    } else {
      close_conn(c);  // idle: nothing to answer
    }
  }
}

void HttpFront::Loop::run() {
  pool = std::make_unique<httplib::ThreadPool>(static_cast<size_t>(std::max(1, lim.threads)));
  epoll_event events[256];
  auto next_scan = Clock::now() + kScanEvery;
  bool stopping = false;
  bool cut = false;
  Clock::time_point cut_at;
  while (true) {
    const int n = ::epoll_wait(epfd, events, 256, static_cast<int>(kScanEvery.count()));
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) {
        uint64_t v;
        (void)!::read(wake_fd, &v, sizeof v);
      } else if (fd == listen_fd) {
        if (!stopping) accept_all();
      } else if (auto it = conns.find(fd); it != conns.end() && !it->second->busy) {
        on_readable(it->second.get());
      }
    }
    take_returned();
    const auto now = Clock::now();
    if (stop.load() && !stopping) {
      stopping = true;
      cut_at = now + kStopGrace;
      // Streamed bodies (httplib's content providers) end at their next chunk.
      front.svr_sock_ = INVALID_SOCKET;
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, nullptr);
      ::close(listen_fd);
      listen_fd = -1;
      std::vector<Conn*> idle;
      for (auto& [fd, c] : conns) {
        if (!c->busy) idle.push_back(c.get());
      }
      for (Conn* c : idle) close_conn(c);
    }
    if (stopping) {
      if (busy == 0) break;
      if (!cut && now >= cut_at) {
        // Slow clients do not hold shutdown: their reads and writes fail from now on.
        for (auto& [fd, c] : conns) ::shutdown(fd, SHUT_RDWR);
        cut = true;
      }
      continue;
    }
    if (now >= next_scan) {
      expire();
      next_scan = now + kScanEvery;
    }
  }
  pool->shutdown();
  pool.reset();
}

HttpFront::HttpFront(FrontLimits limits) : limits_(limits) {}

HttpFront::~HttpFront() = default;

int HttpFront::bind_and_listen(const std::string& host, int port, std::string* error) {
  auto loop = std::make_unique<Loop>(*this, limits_);
  // Every connection is a descriptor: make room for the cap when the hard limit allows.
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    const rlim_t want = static_cast<rlim_t>(limits_.max_connections) + 256;
    if (rl.rlim_cur < want && rl.rlim_cur != RLIM_INFINITY) {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &rl);
      ::getrlimit(RLIMIT_NOFILE, &rl);
    }
    const int room = rl.rlim_cur == RLIM_INFINITY ? limits_.max_connections
                                                  : static_cast<int>(rl.rlim_cur) - 128;
    loop->max_conns = std::max(16, std::min(limits_.max_connections, room));
  } else {
    loop->max_conns = limits_.max_connections;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    if (error) *error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR for quick restarts; never SO_REUSEPORT, which would let a second server
    // bind the same port and silently take half the connections.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      last_errno = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    if (error) *error = std::strerror(last_errno);
    return -1;
  }
  loop->listen_fd = fd;
  loop->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  loop->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop->spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (loop->epfd < 0 || loop->wake_fd < 0 || !loop->watch(fd) || !loop->watch(loop->wake_fd)) {
    if (error) *error = std::string("cannot set up the event loop: ") + std::strerror(errno);
    return -1;
  }
  svr_sock_ = fd;  // httplib's content providers check it to know the server runs
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  loop_ = std::move(loop);
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void HttpFront::run() {
  if (loop_) loop_->run();
}

void HttpFront::shutdown() {
  if (!loop_) return;
  loop_->stop = true;
  loop_->wake();
}

}  // namespace huoyan::server
