// Control interface of the libcupti test double (tests/doubles/cupti_double.cc).
//
// The double is a shared library named libcupti.so that exports the CUPTI entry points the
// collector resolves with dlsym, and fills the collector's activity buffers with real CUPTI
// record structs (from the installed CUDA headers). A test loads it the way production does
// (the collector dlopens it via HUOYAN_CUPTI_LIBRARY), then drives it through this table:
//
//   void* h = dlopen(HUOYAN_DOUBLE_CUPTI, RTLD_NOW);   // same handle the collector gets
//   auto* ctl = reinterpret_cast<HuoyanCuptiDoubleControlFn>(
//       dlsym(h, "huoyan_cupti_double_control"))();
//
// Emulated CUDA calls record like CUPTI does: on the calling thread, an external-correlation
// record for each pushed external id kind, then the runtime API record, go to the *host* queue;
// the device record (kernel/memcpy/memset) goes to the *device* queue. Each queue fills buffers
// obtained from the collector's bufferRequested callback; a full buffer waits until completed.
// When the collector declines a buffer, records are dropped and counted, as CUPTI does.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { HUOYAN_CUPTI_HOST_QUEUE = 0, HUOYAN_CUPTI_DEVICE_QUEUE = 1 };

typedef struct HuoyanCuptiDoubleKernel {
  uint32_t device;
  uint32_t context;
  uint32_t stream;
  uint64_t start;  // CUPTI time base: see timestamp_offset
  uint64_t end;
  const char* name;  // must outlive the test (CUPTI names live as long as the module)
  int32_t grid[3];
  int32_t block[3];
  uint16_t registers;
  int32_t static_shared;
  int32_t dynamic_shared;
} HuoyanCuptiDoubleKernel;

typedef struct HuoyanCuptiDoubleControl {
  // Clears queues, counters and enabled kinds (registered callbacks stay, as in CUPTI).
  void (*reset)(void);
  // cuptiGetTimestamp() returns CLOCK_MONOTONIC + this offset (ns).
  void (*set_timestamp_offset)(int64_t offset_ns);
  int64_t (*timestamp_offset)(void);
  // Emulated launches on the calling thread; return the CUPTI correlation id.
  uint32_t (*launch_kernel)(const HuoyanCuptiDoubleKernel* kernel, uint64_t api_start,
                            uint64_t api_end);
  uint32_t (*memcpy_async)(uint32_t device, uint32_t stream, uint8_t copy_kind, uint64_t bytes,
                           uint64_t start, uint64_t end, uint64_t api_start, uint64_t api_end);
  uint32_t (*memset_async)(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                           uint64_t start, uint64_t end, uint64_t api_start, uint64_t api_end);
  // A record of any kind and size (>= 8) into a queue, e.g. a kind the collector does not know.
  void (*emit_raw)(int queue, uint32_t kind, uint32_t size);
  // Delivers the queue's waiting buffers and its current one through bufferCompleted, from a
  // separate thread (as CUPTI's worker does), and waits. Returns the records delivered.
  int (*complete)(int queue);
  // Requests a buffer and hands it straight back with validSize 0.
  void (*complete_empty)(void);
  // Adds to the count cuptiActivityGetNumDroppedRecords reports (and resets).
  void (*add_dropped)(size_t n);
  // Makes cuptiActivityEnable fail with CUPTI_ERROR_NOT_INITIALIZED (as without a driver).
  void (*set_enable_fails)(int fail);
  // Observations.
  int (*kind_enabled)(uint32_t kind);
  int (*callbacks_registered)(void);
  size_t (*records_dropped)(void);  // dropped for lack of a buffer, since reset
  size_t (*buffers_outstanding)(void);
  size_t (*external_depth)(uint32_t external_kind);  // calling thread's pushed ids
} HuoyanCuptiDoubleControl;

typedef const HuoyanCuptiDoubleControl* (*HuoyanCuptiDoubleControlFn)(void);

#ifdef __cplusplus
}
#endif
