// The serving endpoints: POST /v1/completions (an OpenAI-style subset, optionally streamed as
// server-sent events) and GET /health. Handlers run on the HTTP server's workers: they parse
// and tokenize, submit to the scheduler and wait on the request's channel.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/request.h"
#include "server/scheduler.h"

namespace httplib {
class Server;
}

namespace llm_server {

// A parsed POST /v1/completions body.
struct CompletionParams {
  std::string prompt;
  int max_tokens = 16;
  double temperature = 0.0;
  int top_k = 0;
  uint64_t seed = 0;
  bool stream = false;
};

struct ApiLimits {
  int max_tokens = 2048;    // largest accepted max_tokens
  int max_seq_len = 2048;   // prompt tokens (with BOS) + max_tokens
  int max_queue = 256;      // accepted and not yet admitted; beyond: 503
  int kv_tokens = 1 << 30;  // KV-cache capacity in tokens (blocks x block size)
};

// Parses and validates a request body. Returns an empty string on success, else the message
// for a 400 ("invalid JSON: …", "missing field: prompt", "max_tokens must be …").
std::string parse_completion(std::string_view body, const ApiLimits& limits, CompletionParams* out);

// A request id from a client's X-Request-Id must be 1-128 printable ASCII characters other
// than quotes and backslashes (it is echoed in headers and JSON).
bool valid_request_id(std::string_view id);

// JSON string literal of bytes: ASCII as is (escaped as needed), every byte >= 0x80 as the code
// point of the same value. The synthetic model emits arbitrary bytes, which are rarely UTF-8.
std::string json_string(std::string_view bytes);

// Settings of a server that is not huoyan's (no --profile): `threads` workers, a 1 MiB body
// limit (413) and JSON bodies for the statuses httplib produces itself (404, 413, 400).
void configure_standalone(httplib::Server& http, int threads);
inline constexpr size_t kMaxBodyBytes = size_t{1} << 20;

class CompletionApi {
 public:
  CompletionApi(Scheduler& scheduler, ApiLimits limits, std::string model_name);

  // Adds /v1/completions and /health (and 405s for other methods on them).
  void register_routes(httplib::Server& http);

  // Builds and submits a request as the HTTP handler does (start-up test prompts). Returns
  // nullptr when the queue is full or the server drains; *error says why.
  std::shared_ptr<Request> submit(const CompletionParams& params, std::string id,
                                  std::string* error);

  // After this, new completions get 503; in-flight ones finish.
  void start_draining() { draining_.store(true, std::memory_order_release); }
  // Responses still being produced (waiting or streaming).
  int active_responses() const { return active_.load(std::memory_order_acquire); }
  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }

 private:
  friend struct ApiHandlers;
  std::string next_id();

  Scheduler& scheduler_;
  ApiLimits limits_;
  std::string model_name_;
  std::atomic<bool> draining_{false};
  std::atomic<int> active_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace llm_server
