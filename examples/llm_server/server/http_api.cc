#include "server/http_api.h"

#include <httplib.h>
#include <huoyan/huoyan.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/tokenizer.h"

namespace llm_server {
namespace {

void send_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content("{\"error\":" + json_string(message) + "}\n", "application/json");
}

std::string field_error(std::string_view field, std::string_view what) {
  return std::string(field) + " must be " + std::string(what);
}

// One choice object of a completion or of a stream chunk.
std::string completion_json(const Request& r, std::string_view model, std::string_view text,
                            FinishReason reason, bool usage) {
  std::string out =
      "{\"id\":" + json_string(r.id) +
      ",\"object\":\"text_completion\",\"created\":" + std::to_string(std::time(nullptr)) +
      ",\"model\":" + json_string(model) +
      ",\"choices\":[{\"index\":0,\"text\":" + json_string(text) + ",\"finish_reason\":";
  out += reason == FinishReason::kNone ? "null" : json_string(finish_reason_name(reason));
  out += "}]";
  if (usage) {
    const size_t in = r.prompt.size(), gen = r.output.size();
    out += ",\"usage\":{\"prompt_tokens\":" + std::to_string(in) +
           ",\"completion_tokens\":" + std::to_string(gen) +
           ",\"total_tokens\":" + std::to_string(in + gen) + "}";
  }
  out += "}";
  return out;
}

// Seed of a request that gave none: a hash of its id, so two requests do not draw alike.
uint64_t seed_of(std::string_view id) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Names the calling HTTP worker "http <n>" in the profile, once per thread: the threads belong
// to httplib's pool, so they are named on the first completion each one serves.
void name_http_thread() {
  thread_local bool named = false;
  if (named) return;
  named = true;
  static std::atomic<int> next{0};
  huoyan::set_thread_name("http " + std::to_string(next.fetch_add(1, std::memory_order_relaxed)));
}

}  // namespace

std::string json_string(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + 2);
  out.push_back('"');
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
  return out;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

std::string parse_completion(std::string_view body, const ApiLimits& limits,
                             CompletionParams* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    return std::string("invalid JSON: ") + simdjson::error_message(err);
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return "the body must be a JSON object";

  simdjson::dom::element v;
  if (obj["prompt"].get(v)) return "missing field: prompt";
  std::string_view prompt;
  if (v.get(prompt)) return field_error("prompt", "a string");
  out->prompt = std::string(prompt);

  if (!obj["max_tokens"].get(v) && !v.is_null()) {
    int64_t n = 0;
    if (v.get(n)) return field_error("max_tokens", "an integer");
    if (n < 1 || n > limits.max_tokens) {
      return field_error("max_tokens", "between 1 and " + std::to_string(limits.max_tokens));
    }
    out->max_tokens = static_cast<int>(n);
  }
  if (!obj["temperature"].get(v) && !v.is_null()) {
    double t = 0;
    if (v.get(t) || !(t >= 0 && t <= 100)) {
      return field_error("temperature", "a number between 0 and 100");
    }
    out->temperature = t;
  }
  if (!obj["top_k"].get(v) && !v.is_null()) {
    int64_t k = 0;
    if (v.get(k) || k < 0 || k > llm::kVocabSize) {
      return field_error("top_k", "an integer between 0 and " + std::to_string(llm::kVocabSize));
    }
    out->top_k = static_cast<int>(k);
  }
  if (!obj["seed"].get(v) && !v.is_null()) {
    uint64_t s = 0;
    if (v.get(s)) return field_error("seed", "a non-negative integer");
    out->seed = s;
  }
  if (!obj["stream"].get(v) && !v.is_null()) {
    bool s = false;
    if (v.get(s)) return field_error("stream", "true or false");
    out->stream = s;
  }

  // Byte-level tokens: one per byte, plus BOS.
  const int64_t prompt_tokens = static_cast<int64_t>(out->prompt.size()) + 1;
  const int64_t total = prompt_tokens + out->max_tokens;
  if (total > limits.max_seq_len || total > limits.kv_tokens) {
    return "prompt (" + std::to_string(prompt_tokens) + " tokens) + max_tokens (" +
           std::to_string(out->max_tokens) + ") exceeds the context of " +
           std::to_string(std::min<int64_t>(limits.max_seq_len, limits.kv_tokens)) + " tokens";
  }
  return {};
}

CompletionApi::CompletionApi(Scheduler& scheduler, ApiLimits limits, std::string model_name)
    : scheduler_(scheduler), limits_(limits), model_name_(std::move(model_name)) {}

std::string CompletionApi::next_id() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "cmpl-%06llu",
                static_cast<unsigned long long>(next_id_.fetch_add(1)));
  return buf;
}

std::shared_ptr<Request> CompletionApi::submit(const CompletionParams& params, std::string id,
                                               std::string* error) {
  if (draining_.load(std::memory_order_acquire)) {
    *error = "the server is shutting down";
    return nullptr;
  }
  auto r = std::make_shared<Request>();
  r->id = std::move(id);
  r->max_tokens = params.max_tokens;
  r->sampling.temperature = static_cast<float>(params.temperature);
  r->sampling.top_k = params.top_k;
  r->sampling.seed = params.seed != 0 ? params.seed : seed_of(r->id);
  r->arrival_ns = huoyan::now_ns();
  huoyan::request_arrival(r->id, params.prompt.size() + 1);
  {
    HUOYAN_REQUEST_SCOPE("tokenize", r->id);
    r->prompt = llm::encode(params.prompt, /*add_bos=*/true);
  }
  if (!scheduler_.submit(r, limits_.max_queue)) {
    huoyan::request_finish(r->id, 0);
    *error = "the request queue is full (" + std::to_string(limits_.max_queue) +
             " waiting); retry later";
    return nullptr;
  }
  return r;
}

// The handlers, with access to CompletionApi's counters.
struct ApiHandlers {
  static void completions(CompletionApi& api, const httplib::Request& req, httplib::Response& res) {
    CompletionParams params;
    if (std::string err = parse_completion(req.body, api.limits_, &params); !err.empty()) {
      return send_error(res, 400, err);
    }
    std::string id;
    if (req.has_header("X-Request-Id")) {
      id = req.get_header_value("X-Request-Id");
      if (!valid_request_id(id)) {
        return send_error(res, 400,
                          "X-Request-Id must be 1-128 printable ASCII characters without quotes "
                          "or backslashes");
      }
    } else {
      id = api.next_id();
    }
    res.set_header("X-Request-Id", id);
    std::string err;
    std::shared_ptr<Request> r = api.submit(params, id, &err);
    if (r == nullptr) {
      res.set_header("Retry-After", "1");
      return send_error(res, 503, err);
    }
    api.active_.fetch_add(1, std::memory_order_acq_rel);
    if (!params.stream) {
      std::vector<std::string> pieces;
      FinishReason reason = FinishReason::kNone;
      while (reason == FinishReason::kNone) {
        reason = r->channel.wait(&pieces, std::chrono::milliseconds(200));
      }
      std::string text;
      for (const std::string& p : pieces) text += p;
      res.set_content(completion_json(*r, api.model_name_, text, reason, true) + "\n",
                      "application/json");
      api.completed_.fetch_add(1, std::memory_order_relaxed);
      api.active_.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
    // Server-sent events: a chunk per generated piece, a last chunk with the finish reason and
    // the usage, then [DONE]. A client that goes away cancels the request.
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&api, r](size_t, httplib::DataSink& sink) {
          return r->channel.drain(
              std::chrono::milliseconds(50),
              [&](std::vector<std::string>& pieces, FinishReason reason) {
                std::string out;
                for (const std::string& p : pieces) {
                  out += "data: " +
                         completion_json(*r, api.model_name_, p, FinishReason::kNone, false) +
                         "\n\n";
                }
                if (reason != FinishReason::kNone) {
                  out += "data: " + completion_json(*r, api.model_name_, "", reason, true) + "\n\n";
                  out += "data: [DONE]\n\n";
                }
                if (!out.empty() && !sink.write(out.data(), out.size())) {
                  r->channel.cancel_locked();
                  return false;
                }
                if (reason != FinishReason::kNone) {
                  api.completed_.fetch_add(1, std::memory_order_relaxed);
                  sink.done();
                } else if (!sink.is_writable()) {
                  r->channel.cancel_locked();
                  return false;
                }
                return true;
              });
        },
        [&api, r](bool /*success*/) {
          r->channel.cancel();  // no-op once finished
          api.active_.fetch_sub(1, std::memory_order_acq_rel);
        });
  }
};

void configure_standalone(httplib::Server& http, int threads) {
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(kMaxBodyBytes);
  http.set_tcp_nodelay(true);
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& q,
                                                                 httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    switch (res.status) {
      case 404:
        send_error(res, 404, "no such endpoint: " + q.method + " " + q.path);
        break;
      case 413:
        send_error(res, 413,
                   "request body too large (limit " + std::to_string(kMaxBodyBytes) + " bytes)");
        break;
      default:
        send_error(res, res.status, "HTTP error " + std::to_string(res.status));
        break;
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
}

void CompletionApi::register_routes(httplib::Server& http) {
  http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) {
    name_http_thread();
    ApiHandlers::completions(*this, q, r);
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool draining = draining_.load(std::memory_order_acquire);
    res.status = draining ? 503 : 200;
    res.set_content(std::string("{\"status\":\"") + (draining ? "draining" : "ok") +
                        "\",\"queued\":" + std::to_string(scheduler_.queued()) +
                        ",\"in_flight\":" + std::to_string(scheduler_.in_flight()) +
                        ",\"steps\":" + std::to_string(scheduler_.steps()) + "}\n",
                    "application/json");
  });
  const auto wrong_method = [](std::string allowed) {
    return [allowed](const httplib::Request& q, httplib::Response& res) {
      res.set_header("Allow", allowed);
      send_error(res, 405, q.method + " " + q.path + ": use " + allowed);
    };
  };
  http.Get("/v1/completions", wrong_method("POST"));
  http.Put("/v1/completions", wrong_method("POST"));
  http.Delete("/v1/completions", wrong_method("POST"));
  http.Patch("/v1/completions", wrong_method("POST"));
  http.Post("/health", wrong_method("GET"));
  // Unknown /v1 paths get a JSON 404 here, before a web UI's catch-all could answer them.
  const auto unknown = [](const httplib::Request& q, httplib::Response& res) {
    send_error(res, 404, "no such endpoint: " + q.method + " " + q.path);
  };
  http.Get(R"(/v1/.*)", unknown);
  http.Post(R"(/v1/.*)", unknown);
}

}  // namespace llm_server
