// A toy inference server loop instrumented with huoyan (the example of docs/embedding.md).
// Usage: embedding_example [trace.json]
#include <huoyan/fake_device.h>
#include <huoyan/huoyan.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "trace.json";

  // Host spans, steps and request marks ("host") and a simulated GPU ("fake").
  huoyan::Profiler profiler({.capacity_events = 1 << 20, .collectors = {"host", "fake"}});
  std::string error;
  if (!profiler.start(&error)) std::fprintf(stderr, "profiling off: %s\n", error.c_str());
  huoyan::FakeDevice gpu(profiler);
  huoyan::set_thread_name("scheduler");

  const std::vector<std::string> requests = {"req-1", "req-2", "req-3"};
  for (const std::string& id : requests) {
    huoyan::request_arrival(id, /*tokens_in=*/16);
    HUOYAN_REQUEST_SCOPE("tokenize", id);
  }

  for (int iteration = 0; iteration < 8; ++iteration) {
    // One scheduler iteration: the batch and the tokens it computes for each request
    // (the prompt at prefill, then one per decode step).
    const uint32_t tokens = iteration == 0 ? 16 : 1;
    huoyan::StepScope step({{"req-1", tokens}, {"req-2", tokens}, {"req-3", tokens}});
    HUOYAN_SCOPE_ATTRS("forward", {"iteration", iteration},
                       {"phase", iteration == 0 ? "prefill" : "decode"});

    // Device kernels launched here carry the step.
    gpu.launch(/*stream=*/0, "attention", /*dur_ns=*/20'000);
    gpu.launch(/*stream=*/1, "ffn", /*dur_ns=*/35'000);

    // A CPU kernel timed on a worker thread, attributed to the step that handed it over.
    std::thread worker([step_id = huoyan::current_step()] {
      const int64_t start = huoyan::now_ns();
      volatile double acc = 0;
      for (int i = 0; i < 100000; ++i) acc = acc + i * 0.5;
      huoyan::record_kernel({.name = "Int4Gemm",
                             .device_type = huoyan::DeviceKind::kCpu,
                             .stream = 0,
                             .start_ns = start,
                             .end_ns = huoyan::now_ns(),
                             .step = step_id,
                             .attrs = {{"flops", 2.0e5}, {"group_size", 32}}});
    });
    worker.join();
    HUOYAN_COUNTER("batch_size", requests.size());
    if (iteration == 0) {
      for (const std::string& id : requests) huoyan::request_first_token(id);
    }
  }
  for (const std::string& id : requests) huoyan::request_finish(id, /*tokens_out=*/8);
  gpu.synchronize();

  if (!profiler.running()) return 0;  // built with HUOYAN_DISABLE, or no profiler available

  // A snapshot does not stop collection.
  const huoyan::ProfileSnapshot snapshot = profiler.snapshot();
  for (const huoyan::RequestTotals& r : snapshot.requests()) {
    std::printf("%s: %llu kernels, device %lld ns shared, %lld ns apportioned, host %lld ns\n",
                r.id.c_str(), static_cast<unsigned long long>(r.device_events),
                static_cast<long long>(r.device_shared_ns),
                static_cast<long long>(r.device_apportioned_ns), static_cast<long long>(r.host_ns));
  }
  if (!snapshot.write_chrome_json(out, &error)) {
    std::fprintf(stderr, "cannot write %s: %s\n", out.c_str(), error.c_str());
    return 1;
  }
  const huoyan::ProfilerStats stats = profiler.stats();
  std::printf("%llu events held, %llu dropped; wrote %s\n",
              static_cast<unsigned long long>(stats.held_events),
              static_cast<unsigned long long>(stats.dropped_events), out.c_str());
  profiler.stop();
  return 0;
}
