// llm_loadgen: open-loop load for llm_server's POST /v1/completions. Arrivals are a Poisson
// process of --rate requests/s for --duration s; prompt and output lengths are uniform in their
// ranges; every request streams (SSE) so that time to first token (TTFT) and inter-token
// latency (ITL, the gap between consecutive text events) are measured at the client.
// --concurrency workers send the arrivals; an arrival that finds all of them busy waits for one
// (the report gives the largest backlog); when the arrivals end, requests in flight finish and
// arrivals still waiting are dropped (reported as unsent), so a saturating rate measures the
// server's capacity at that concurrency. Prints a summary and, with --json, writes it.
#include <httplib.h>
#include <signal.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  std::string prompt;
  int max_tokens = 0;
  Clock::time_point arrival;
};

struct Sample {
  bool ok = false;
  int status = 0;
  double ttft_ms = -1;
  std::vector<double> itl_ms;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

std::atomic<bool> g_interrupted{false};

std::string make_prompt(std::mt19937_64& rng, int n) {
  static const char* kWords[] = {"the",   "model",     "serves",  "tokens", "in",       "batches",
                                 "while", "kernels",   "run",     "on",     "paged",    "caches",
                                 "of",    "quantized", "weights", "and",    "requests", "wait"};
  std::string s;
  while (static_cast<int>(s.size()) < n) {
    if (!s.empty()) s.push_back(' ');
    s += kWords[rng() % std::size(kWords)];
  }
  s.resize(n);
  return s;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Sends one streamed completion and times its events.
Sample run_one(httplib::Client& client, const Job& job, double temperature) {
  Sample s;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", "application/json");
  req.body = "{\"prompt\":\"" + json_escape(job.prompt) +
             "\",\"max_tokens\":" + std::to_string(job.max_tokens) +
             ",\"temperature\":" + std::to_string(temperature) + ",\"stream\":true}";
  const Clock::time_point sent = Clock::now();
  Clock::time_point last{};
  std::string buffer;
  bool done = false;
  simdjson::dom::parser parser;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buffer.append(data, len);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      const std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0) continue;
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        done = true;
        continue;
      }
      simdjson::dom::element e;
      if (parser.parse(payload).get(e)) return false;
      simdjson::dom::element usage;
      if (e["usage"].get(usage) == simdjson::SUCCESS) {  // the last chunk
        int64_t v = 0;
        if (!usage["prompt_tokens"].get(v)) s.prompt_tokens = v;
        if (!usage["completion_tokens"].get(v)) s.completion_tokens = v;
        if (s.ttft_ms < 0)
          s.ttft_ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        continue;
      }
      const Clock::time_point now = Clock::now();
      if (s.ttft_ms < 0) {
        s.ttft_ms = std::chrono::duration<double, std::milli>(now - sent).count();
      } else {
        s.itl_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
      }
      last = now;
    }
    return true;
  };
  auto res = client.send(req);
  if (res) s.status = res->status;
  s.ok = res && res->status == 200 && done;
  return s;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = "http://127.0.0.1:8080";
  double rate = 4;
  double duration = 30;
  int concurrency = 8;
  uint64_t seed = 1;
  int prompt_min = 16, prompt_max = 256, output_min = 16, output_max = 128;
  double temperature = 0;
  std::string json_out;
  bool quiet = false;

  CLI::App app{"llm_loadgen: Poisson load for llm_server, with TTFT and inter-token latency"};
  app.add_option("--url", url, "Server base URL")->capture_default_str();
  app.add_option("--rate", rate, "Mean arrivals per second (Poisson)")
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  app.add_option("--duration", duration, "Seconds of arrivals (0: until SIGINT/SIGTERM)")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  app.add_option("--concurrency", concurrency, "Client threads (requests in flight at most)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--seed", seed, "Seed of arrivals, lengths and prompts")->capture_default_str();
  app.add_option("--prompt-min", prompt_min, "Shortest prompt (bytes = tokens)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--prompt-max", prompt_max, "Longest prompt")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--output-min", output_min, "Fewest tokens to generate")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--output-max", output_max, "Most tokens to generate")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--temperature", temperature, "Sampling temperature (0: greedy)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--json", json_out, "Also write the summary as JSON to this file");
  app.add_flag("--quiet", quiet, "No summary on stdout");
  try {
    app.parse(argc, argv);
    if (prompt_min > prompt_max) throw CLI::ValidationError("--prompt-min exceeds --prompt-max");
    if (output_min > output_max) throw CLI::ValidationError("--output-min exceeds --output-max");
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::Error& e) {
    std::fprintf(stderr, "llm_loadgen: %s\n", e.what());
    return 2;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (!std::regex_match(url, std::regex(R"(http://[A-Za-z0-9.\-]+(:[0-9]{1,5})?)"))) {
    std::fprintf(stderr, "llm_loadgen: --url must look like http://HOST[:PORT], got \"%s\"\n",
                 url.c_str());
    return 2;
  }
  {
    httplib::Client probe(url);
    if (!probe.is_valid()) {
      std::fprintf(stderr, "llm_loadgen: --url: cannot use %s\n", url.c_str());
      return 2;
    }
    probe.set_connection_timeout(5, 0);
    auto health = probe.Get("/health");
    if (!health || health->status != 200) {
      std::fprintf(stderr, "llm_loadgen: %s/health does not answer 200 (%s)\n", url.c_str(),
                   health ? std::to_string(health->status).c_str()
                          : httplib::to_string(health.error()).c_str());
      return 1;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted.store(true); };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  bool arrivals_done = false;
  size_t max_backlog = 0;
  std::vector<Sample> samples;

  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&] {
      httplib::Client client(url);
      client.set_read_timeout(600, 0);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle holds the body behind the headers for an ACK
      std::vector<Sample> mine;
      for (;;) {
        Job job;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !jobs.empty() || arrivals_done; });
          if (arrivals_done) break;  // arrivals still waiting for a client are not sent
          job = std::move(jobs.front());
          jobs.pop_front();
        }
        mine.push_back(run_one(client, job, temperature));
      }
      std::lock_guard lock(mu);
      samples.insert(samples.end(), mine.begin(), mine.end());
    });
  }

  // Arrivals: exponential gaps, generated up front from the seed so a run is reproducible.
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  const Clock::time_point start = Clock::now();
  double t = gap(rng);
  size_t sent = 0;
  while ((duration <= 0 || t < duration) && !g_interrupted.load()) {
    const auto at =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t));
    // Sleep in short slices so that SIGINT is noticed.
    while (Clock::now() < at && !g_interrupted.load()) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(at - Clock::now(), std::chrono::milliseconds(50)));
    }
    if (g_interrupted.load()) break;
    Job job;
    job.prompt =
        make_prompt(rng, prompt_min + static_cast<int>(rng() % (prompt_max - prompt_min + 1)));
    job.max_tokens = output_min + static_cast<int>(rng() % (output_max - output_min + 1));
    job.arrival = at;
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
      max_backlog = std::max(max_backlog, jobs.size());
    }
    cv.notify_one();
    ++sent;
    t += gap(rng);
  }
  size_t unsent = 0;
  {
    std::lock_guard lock(mu);
    arrivals_done = true;
    unsent = jobs.size();
  }
  cv.notify_all();
  for (auto& w : workers) w.join();
  sent -= unsent;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> ttft, itl;
  int64_t ok = 0, rejected = 0, failed = 0, out_tokens = 0, in_tokens = 0;
  for (const Sample& s : samples) {
    if (!s.ok) {
      (s.status == 503 ? rejected : failed)++;
      continue;
    }
    ++ok;
    out_tokens += s.completion_tokens;
    in_tokens += s.prompt_tokens;
    if (s.ttft_ms >= 0) ttft.push_back(s.ttft_ms);
    itl.insert(itl.end(), s.itl_ms.begin(), s.itl_ms.end());
  }
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "{\"url\":\"%s\",\"rate\":%g,\"duration_s\":%g,\"concurrency\":%d,\"seed\":%llu,"
      "\"sent\":%zu,\"unsent\":%zu,\"completed\":%lld,\"rejected_503\":%lld,\"failed\":%lld,"
      "\"max_client_backlog\":%zu,\"elapsed_s\":%.3f,\"requests_per_s\":%.3f,"
      "\"output_tokens_per_s\":%.2f,\"total_tokens_per_s\":%.2f,"
      "\"ttft_ms\":{\"p50\":%.3f,\"p99\":%.3f},\"itl_ms\":{\"p50\":%.3f,\"p99\":%.3f}}",
      json_escape(url).c_str(), rate, duration, concurrency, static_cast<unsigned long long>(seed),
      sent, unsent, static_cast<long long>(ok), static_cast<long long>(rejected),
      static_cast<long long>(failed), max_backlog, elapsed, ok / elapsed, out_tokens / elapsed,
      (out_tokens + in_tokens) / elapsed, percentile(ttft, 50), percentile(ttft, 99),
      percentile(itl, 50), percentile(itl, 99));
  if (!quiet) {
    std::printf(
        "requests   %zu sent, %lld completed, %lld rejected (503), %lld failed, %zu arrivals "
        "unsent (every client busy at the end)\n",
        sent, static_cast<long long>(ok), static_cast<long long>(rejected),
        static_cast<long long>(failed), unsent);
    std::printf("throughput %.2f requests/s, %.1f output tokens/s, %.1f total tokens/s (%.1f s)\n",
                ok / elapsed, out_tokens / elapsed, (out_tokens + in_tokens) / elapsed, elapsed);
    std::printf("TTFT       p50 %.1f ms, p99 %.1f ms\n", percentile(ttft, 50),
                percentile(ttft, 99));
    std::printf("ITL        p50 %.2f ms, p99 %.2f ms\n", percentile(itl, 50), percentile(itl, 99));
  }
  if (!json_out.empty()) {
    std::ofstream f(json_out);
    f << buf << "\n";
    if (!f) {
      std::fprintf(stderr, "llm_loadgen: cannot write %s\n", json_out.c_str());
      return 1;
    }
  }
  return failed > 0 ? 1 : 0;
}
