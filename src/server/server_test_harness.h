// An in-process server on an ephemeral port over a synthetic store, and JSON parsing for the
// HTTP tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

#include "huoyan/server.h"
#include "src/server/http_util.h"
#include "src/server/server_test_util.h"

namespace huoyan::server::testing {

// A raw TCP connection to 127.0.0.1:port (for requests no HTTP client would send), or -1.
inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}, SyntheticTrace trace = {},
                      StoreOptions store_options = {}, LiveSource* live = nullptr)
      : store_(store_options) {
    info_ = fill_synthetic(store_, trace);
    options.port = 0;
    options.index_refresh_ms = 0;  // tests append and expect to see it at once
    options.keep_alive_timeout_s = 1;
    server_ = std::make_unique<Server>(store_, options, live);
    std::string error;
    started_ = server_->start(&error);
    EXPECT_TRUE(started_) << error;
  }

  TraceStore& store() { return store_; }
  const SyntheticInfo& info() const { return info_; }
  Server& server() { return *server_; }
  int port() const { return server_->port(); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) const {
    return client().Get(path.c_str(), headers);
  }

 private:
  TraceStore store_;
  SyntheticInfo info_;
  std::unique_ptr<Server> server_;
  bool started_ = false;
};

// Parses `body` (the DOM keeps its own copy). Fails the test on malformed JSON.
inline simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& body) {
  simdjson::dom::element doc;
  const auto error = parser.parse(body).get(doc);
  EXPECT_EQ(error, simdjson::SUCCESS) << "malformed JSON: " << body.substr(0, 300);
  return doc;
}

inline std::string error_of(const httplib::Result& r) {
  if (!r) return "(no response)";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) return "(not JSON) " + r->body;
  std::string_view msg;
  if (doc["error"].get(msg) != simdjson::SUCCESS) return "(no error field) " + r->body;
  return std::string(msg);
}

}  // namespace huoyan::server::testing
