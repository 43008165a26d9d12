#include "server/http_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <huoyan/huoyan.h>
#include <huoyan/server.h>
#include <simdjson.h>

#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/engine.h"
#include "server/kernel_recorder.h"
#include "server/request_queue.h"
#include "server/scheduler.h"

namespace llm_server {
namespace {

llm::ModelConfig tiny_config() {
  llm::ModelConfig c;
  c.d_model = 64;
  c.n_layers = 1;
  c.n_heads = 2;
  c.head_dim = 32;
  c.ffn_dim = 128;
  c.group_size = 32;
  c.block_size = 8;
  c.num_kv_blocks = 128;
  c.max_seq_len = 256;
  c.workers_per_device = 2;
  return c;
}

// The API over a tiny engine, served either by a plain httplib server or, like --profile, by
// huoyan's server with the API as extra routes.
class LlmHttp : public ::testing::TestWithParam<bool> {
 protected:
  bool profiled() const { return GetParam(); }

  void start(bool run_scheduler = true, int max_queue = 64) {
    engine_ = std::make_unique<llm::Engine>(tiny_config());
    queue_ = make_request_queue(QueueKind::kLocked);
    scheduler_ = std::make_unique<Scheduler>(*engine_, *queue_, SchedulerOptions{});
    api_ = std::make_unique<CompletionApi>(
        *scheduler_, ApiLimits{.max_tokens = 200, .max_seq_len = 256, .max_queue = max_queue},
        "test-model");
    if (profiled()) {
      profiler_ = std::make_unique<huoyan::Profiler>(huoyan::ProfilerOptions{});
      ASSERT_TRUE(profiler_->start());
      engine_->set_observer(&recorder_);
      huoyan::ServerOptions so;
      so.port = 0;
      so.extra_routes = [this](httplib::Server& http) { api_->register_routes(http); };
      hy_ = std::make_unique<huoyan::Server>(*profiler_, so);
      std::string error;
      ASSERT_TRUE(hy_->start(&error)) << error;
      port_ = hy_->port();
    } else {
      plain_ = std::make_unique<httplib::Server>();
      configure_standalone(*plain_, 8);
      api_->register_routes(*plain_);
      port_ = plain_->bind_to_any_port("127.0.0.1");
      ASSERT_GT(port_, 0);
      plain_thread_ = std::thread([this] { plain_->listen_after_bind(); });
    }
    if (run_scheduler) run_scheduler_now();
  }

  void run_scheduler_now() {
    scheduler_thread_ = std::thread([this] { scheduler_->run(stop_); });
  }

  void TearDown() override {
    if (hy_) hy_->stop();
    if (plain_) {
      plain_->stop();
      plain_thread_.join();
    }
    stop_ = true;
    if (queue_) queue_->wake();
    if (scheduler_thread_.joinable()) scheduler_thread_.join();
    if (engine_) engine_->set_observer(nullptr);
    if (profiler_) profiler_->stop();
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

  httplib::Result post(const std::string& body, httplib::Headers headers = {}) {
    return client().Post("/v1/completions", headers, body, "application/json");
  }

  // The "error" message of a JSON error body ("" when there is none).
  static std::string error_of(const std::string& body) {
    simdjson::dom::parser p;
    std::string_view msg;
    if (p.parse(body).at_key("error").get(msg)) return "";
    return std::string(msg);
  }

  void expect_error(const std::string& body, int status, const std::string& needle) {
    auto r = post(body);
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, status) << body << " -> " << r->body;
    EXPECT_NE(error_of(r->body).find(needle), std::string::npos)
        << body << " -> " << r->body << " (wanted \"" << needle << "\")";
  }

  std::unique_ptr<llm::Engine> engine_;
  std::unique_ptr<RequestQueue> queue_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<CompletionApi> api_;
  std::unique_ptr<huoyan::Profiler> profiler_;
  KernelRecorder recorder_{tiny_config().n_layers};
  std::unique_ptr<huoyan::Server> hy_;
  std::unique_ptr<httplib::Server> plain_;
  std::thread plain_thread_, scheduler_thread_;
  std::atomic<bool> stop_{false};
  int port_ = 0;
};

TEST_P(LlmHttp, BadBodiesGet400WithAMessage) {
  start();
  expect_error("{not json", 400, "invalid JSON");
  expect_error("", 400, "invalid JSON");
  expect_error("[1,2]", 400, "must be a JSON object");
  expect_error(R"({"max_tokens":4})", 400, "missing field: prompt");
  expect_error(R"({"prompt":5})", 400, "prompt must be a string");
  expect_error(R"({"prompt":"hi","max_tokens":-1})", 400, "max_tokens must be between 1");
  expect_error(R"({"prompt":"hi","max_tokens":0})", 400, "max_tokens must be between 1");
  expect_error(R"({"prompt":"hi","max_tokens":2.5})", 400, "max_tokens must be an integer");
  expect_error(R"({"prompt":"hi","max_tokens":100000})", 400, "max_tokens must be between 1");
  expect_error(R"({"prompt":"hi","temperature":-1})", 400, "temperature must be");
  expect_error(R"({"prompt":"hi","stream":"yes"})", 400, "stream must be true or false");
  expect_error(R"({"prompt":"hi","seed":-3})", 400, "seed must be");
  expect_error(R"({"prompt":")" + std::string(250, 'x') + R"(","max_tokens":100})", 400,
               "exceeds the context");
}

TEST_P(LlmHttp, HugeBodyGets413) {
  start();
  const std::string body = R"({"prompt":")" + std::string(2 << 20, 'x') + R"("})";
  auto r = post(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(error_of(r->body).find("too large"), std::string::npos) << r->body;
}

TEST_P(LlmHttp, WrongMethodAndUnknownPath) {
  start();
  auto c = client();
  auto get = c.Get("/v1/completions");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  EXPECT_NE(error_of(get->body).find("use POST"), std::string::npos) << get->body;
  auto post_health = c.Post("/health", "", "application/json");
  ASSERT_TRUE(post_health);
  EXPECT_EQ(post_health->status, 405);
  auto unknown_get = c.Get("/v1/chat");
  auto unknown_post = c.Post("/v1/chat/completions", "{}", "application/json");
  for (const httplib::Result* r : {&unknown_get, &unknown_post}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->status, 404);
    EXPECT_NE(error_of((*r)->body).find("no such endpoint"), std::string::npos) << (*r)->body;
  }
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find("\"status\":\"ok\""), std::string::npos);
}

TEST_P(LlmHttp, CompletionWithGeneratedAndEchoedRequestIds) {
  start();
  auto r = post(R"({"prompt":"hello","max_tokens":5})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string generated = r->get_header_value("X-Request-Id");
  EXPECT_EQ(generated.rfind("cmpl-", 0), 0u) << generated;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r->body);
  EXPECT_EQ(std::string_view(doc["id"]), generated);
  EXPECT_EQ(int64_t(doc["usage"]["prompt_tokens"]), 6);
  const int64_t gen = doc["usage"]["completion_tokens"];
  const std::string_view reason = doc["choices"].at(0)["finish_reason"];
  EXPECT_TRUE((gen == 5 && reason == "length") || (gen <= 5 && reason == "stop")) << r->body;

  auto mine = post(R"({"prompt":"hello","max_tokens":2})", {{"X-Request-Id", "my-req-42"}});
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->status, 200) << mine->body;
  EXPECT_EQ(mine->get_header_value("X-Request-Id"), "my-req-42");
  EXPECT_EQ(std::string_view(p.parse(mine->body)["id"]), "my-req-42");

  auto bad = post(R"({"prompt":"hello"})", {{"X-Request-Id", "has space"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(error_of(bad->body).find("X-Request-Id"), std::string::npos) << bad->body;
}

// Server-sent events: "data: {json}" events separated by blank lines, a final chunk with the
// finish reason and usage, then "data: [DONE]"; the text is the non-streamed completion's.
TEST_P(LlmHttp, StreamIsWellFormedServerSentEvents) {
  start();
  const std::string prompt = R"("prompt":"stream me","max_tokens":12)";
  auto whole = post("{" + prompt + "}");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200);
  simdjson::dom::parser p;
  const std::string expected_text(std::string_view(p.parse(whole->body)["choices"].at(0)["text"]));

  auto r = post("{" + prompt + R"(,"stream":true})", {{"X-Request-Id", "sse-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "sse-1");
  const std::string& body = r->body;
  ASSERT_GE(body.size(), 2u);
  ASSERT_EQ(body.substr(body.size() - 2), "\n\n");
  std::vector<std::string> events;
  for (size_t at = 0; at < body.size();) {
    const size_t end = body.find("\n\n", at);
    ASSERT_NE(end, std::string::npos) << "unterminated event at " << at;
    events.push_back(body.substr(at, end - at));
    at = end + 2;
  }
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "data: [DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    ASSERT_EQ(events[i].rfind("data: ", 0), 0u) << events[i];
    ASSERT_EQ(events[i].find('\n'), std::string::npos) << events[i];
    simdjson::dom::element e;
    ASSERT_EQ(p.parse(events[i].substr(6)).get(e), simdjson::SUCCESS) << events[i];
    EXPECT_EQ(std::string_view(e["id"]), "sse-1");
    text += std::string_view(e["choices"].at(0)["text"]);
    const bool last = i + 2 == events.size();
    EXPECT_EQ(e["choices"].at(0)["finish_reason"].is_null(), !last) << events[i];
    EXPECT_EQ(e["usage"].error() == simdjson::SUCCESS, last) << events[i];
  }
  EXPECT_EQ(text, expected_text);
}

TEST_P(LlmHttp, FullQueueGets503) {
  start(/*run_scheduler=*/false, /*max_queue=*/1);
  auto first = std::async(std::launch::async, [this] {
    auto r = post(R"({"prompt":"first","max_tokens":3})");
    return r ? r->status : -1;
  });
  for (int i = 0; i < 2000 && scheduler_->queued() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(scheduler_->queued(), 1);
  auto second = post(R"({"prompt":"second","max_tokens":3})");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_NE(error_of(second->body).find("queue is full"), std::string::npos) << second->body;
  run_scheduler_now();
  EXPECT_EQ(first.get(), 200);
}

INSTANTIATE_TEST_SUITE_P(Servers, LlmHttp, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Huoyan" : "Plain"; });

// With a profiler, a request's kernels are recorded in its steps.
class LlmHttpProfiled : public LlmHttp {};

TEST_P(LlmHttpProfiled, RequestOwnsItsKernelsAndSpans) {
  start();
  auto r = post(R"({"prompt":"attribute me","max_tokens":4})", {{"X-Request-Id", "attr-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  // The response may leave before the scheduler closes the request's last step: poll.
  huoyan::ProfileSnapshot snap;
  const huoyan::RequestTotals* t = nullptr;
  for (int i = 0; i < 500; ++i) {
    snap = profiler_->snapshot({.request_id = "attr-1"});
    t = snap.request("attr-1");
    if (t != nullptr && t->steps >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(t, nullptr);
  EXPECT_GE(t->steps, 4u);
  EXPECT_GT(t->device_events, 0u);
  EXPECT_EQ(t->tokens_out, 4u);
  EXPECT_NE(t->first_token_ns, huoyan::kNoTimestamp);
  EXPECT_GT(t->host_ns, 0);  // tokenize, queue_wait, detokenize
  const std::string json = snap.chrome_json();
  for (const char* needle :
       {"\"Int4Gemm\"", "\"PagedAttention\"", "\"request_id\":\"attr-1\"", "\"group_size\":32",
        "\"block_size\":8", "\"queue_wait\"", "\"tokenize\"", "\"detokenize\""}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle;
  }
}

// The names of `node`'s children in the flame graph JSON.
std::vector<std::string> child_names(simdjson::dom::element node) {
  std::vector<std::string> names;
  simdjson::dom::array children;
  if (node["children"].get(children) != simdjson::SUCCESS) return names;
  for (simdjson::dom::element c : children) names.emplace_back(std::string_view(c["name"]));
  return names;
}

// The first node named `name`, depth first.
std::optional<simdjson::dom::element> find_node(simdjson::dom::element node,
                                                std::string_view name) {
  if (std::string_view(node["name"]) == name) return node;
  simdjson::dom::array children;
  if (node["children"].get(children) != simdjson::SUCCESS) return std::nullopt;
  for (simdjson::dom::element c : children) {
    if (auto found = find_node(c, name)) return found;
  }
  return std::nullopt;
}

// The children of the first node named `name` under `node` (none when there is no such node).
std::vector<std::string> children_of(simdjson::dom::element node, std::string_view name) {
  auto found = find_node(node, name);
  return found ? child_names(*found) : std::vector<std::string>{};
}

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The request's flame graph shows the model's structure: forward → layer.<i> → attention /
// mlp → the kernels of each block, and the LM head's kernels under lm_head.
TEST_P(LlmHttpProfiled, RequestFlameGraphShowsLayersAndBlocks) {
  start();
  auto r = post(R"({"prompt":"show me the layers","max_tokens":4})", {{"X-Request-Id", "lay-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  httplib::Client c = client();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::optional<simdjson::dom::element> layer;
  std::string body;
  for (int i = 0; i < 500; ++i) {
    auto f = c.Get("/api/flamegraph?request_id=lay-1");
    if (f && f->status == 200) {
      body = f->body;
      ASSERT_EQ(parser.parse(body).get(root), simdjson::SUCCESS);
      layer = find_node(root, "layer.0");
      if (layer && has(children_of(root, "lm_head"), "Sampling")) break;
      layer.reset();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(layer) << body;
  EXPECT_TRUE(has(children_of(root, "forward"), "layer.0")) << body;
  EXPECT_TRUE(has(children_of(root, "forward"), "lm_head")) << body;
  const std::vector<std::string> blocks = child_names(*layer);
  EXPECT_TRUE(has(blocks, "attention")) << body;
  EXPECT_TRUE(has(blocks, "mlp")) << body;
  const std::vector<std::string> attention = children_of(*layer, "attention");
  for (const char* k : {"RMSNorm", "Int4Gemm", "RoPE", "PagedAttention"}) {
    EXPECT_TRUE(has(attention, k)) << k << " in " << body;
  }
  const std::vector<std::string> mlp = children_of(*layer, "mlp");
  for (const char* k : {"RMSNorm", "Int4Gemm", "SwiGLU"}) {
    EXPECT_TRUE(has(mlp, k)) << k << " in " << body;
  }
  EXPECT_FALSE(has(mlp, "PagedAttention")) << body;
  // A layer's time covers its two blocks.
  const auto attention_node = find_node(*layer, "attention");
  const auto mlp_node = find_node(*layer, "mlp");
  ASSERT_TRUE(attention_node && mlp_node) << body;
  EXPECT_GE(int64_t((*layer)["value"]),
            int64_t((*attention_node)["value"]) + int64_t((*mlp_node)["value"]));
}

INSTANTIATE_TEST_SUITE_P(Servers, LlmHttpProfiled, ::testing::Values(true),
                         [](const auto&) { return "Huoyan"; });

}  // namespace
}  // namespace llm_server
