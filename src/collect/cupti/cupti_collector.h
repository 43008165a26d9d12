// The NVIDIA device collector: CUPTI Activity API records (kernels, memcpy, memset, runtime and
// driver API calls, external correlation) converted into store events.
//
// libcupti is loaded with dlopen at start(), so a binary built with the CUDA headers still runs
// on machines without CUDA: start() then fails with a clear message and the profiler keeps
// running host-only. The library is, in order: CuptiOptions::library, $HUOYAN_CUPTI_LIBRARY (an
// explicit path is the only candidate), else libcupti.so / libcupti.so.13 / .12 on the loader's
// search path, then under $CUDA_HOME, $CUDA_PATH and /usr/local/cuda — a copy among those the
// process has already loaded (e.g. PyTorch's own libcupti.so.12) is preferred to a second copy.
//
// Steps: on_step_begin(step) pushes `step` as a CUSTOM0 external correlation id on the calling
// thread and on_step_end pops it, so every kernel launched in between carries Event::step (see
// activity_sink.h for how out-of-order buffers are resolved).
//
// CUPTI serves one activity client per process: do not run this collector alongside another
// one (the PyTorch profiler/Kineto, Nsight Systems); whichever registers last gets the buffers.
//
// Threading: start/stop/flush from one controlling thread; on_step_begin/end from application
// threads; buffers are processed on CUPTI's threads. One active CUPTI collector per process
// (CUPTI's buffer callbacks carry no user data). Do not call flush()/stop() while holding a
// TraceStore::Writer: buffer processing appends to the store.
//
// The class (CuptiCollector, in cupti_collector.cc) needs the CUPTI headers; this header does not,
// so it compiles everywhere. make_cupti_collector() exists in every build: when huoyan was built
// without the CUPTI headers it returns a collector whose start() explains that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "src/collect/collector.h"

namespace huoyan {

struct CuptiOptions {
  std::string library;                        // explicit libcupti path; empty: search (see above)
  size_t buffer_bytes = size_t{4} << 20;      // per activity buffer (CUPTI advises 1–10 MB)
  size_t max_buffers = 32;                    // buffers out at once: 128 MB with the default size
  bool runtime_api = true;                    // CUPTI_ACTIVITY_KIND_RUNTIME
  bool driver_api = true;                     // CUPTI_ACTIVITY_KIND_DRIVER
  bool concurrent_kernels = true;             // CONCURRENT_KERNEL (else the serializing KERNEL)
  uint32_t flush_period_ms = 0;               // cuptiActivityFlushPeriod; 0: only on flush()/stop()
  size_t max_correlations = size_t{1} << 18;  // correlation -> step map bound
  size_t max_pending = size_t{1} << 14;       // device records waiting for their step
};

// Always available; see the file comment.
std::unique_ptr<Collector> make_cupti_collector(const CuptiOptions& options = {});

// True when this build contains the CUPTI collector (built against CUPTI headers).
bool cupti_collector_built();

}  // namespace huoyan
