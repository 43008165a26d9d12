// Control interface of the libmspti test double (tests/doubles/mspti_double.cc).
//
// The double is a shared library named libmspti.so exporting the msPTI entry points the CANN
// collector resolves with dlsym. It writes records byte by byte at the offsets of msPTI's public
// header (mspti_activity.h: packed, 8-aligned structs) — deliberately not through the
// collector's own struct declarations, so a layout mistake there shows up as a test failure.
// Load and drive it like the CUPTI double:
//
//   void* h = dlopen(HUOYAN_DOUBLE_MSPTI, RTLD_NOW);   // same handle the collector gets
//   auto* ctl = reinterpret_cast<HuoyanMsptiDoubleControlFn>(
//       dlsym(h, "huoyan_mspti_double_control"))();
//
// Emulated launches on the calling thread write, like msPTI, an external-correlation record per
// pushed external id kind and then the API record to the *host* queue, and the device record to
// the *device* queue. Buffers come from the collector's request callback; declined requests drop
// records (counted, reported by msptiActivityGetNumDroppedRecords).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { HUOYAN_MSPTI_HOST_QUEUE = 0, HUOYAN_MSPTI_DEVICE_QUEUE = 1 };

typedef struct HuoyanMsptiDoubleControl {
  // Clears queues, counters, enabled kinds and injected failures; the subscriber is released.
  void (*reset)(void);
  // Kernel launch (times are CLOCK_REALTIME ns, msPTI's base). Returns the correlation id.
  uint64_t (*launch_kernel)(uint32_t device, uint32_t stream, uint64_t start, uint64_t end,
                            const char* name, const char* type, uint64_t api_start,
                            uint64_t api_end);
  uint64_t (*memcpy_async)(uint32_t device, uint32_t stream, int32_t copy_kind, uint64_t bytes,
                           uint64_t start, uint64_t end);
  uint64_t (*memset_async)(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                           uint64_t start, uint64_t end);
  uint64_t (*communication)(uint32_t device, uint32_t stream, const char* name, const char* comm,
                            uint64_t count, uint64_t start, uint64_t end);
  // A marker record (flag: msptiActivityFlag; source 0 host with a = pid, b = tid; source 1
  // device with a = device, b = stream) into the host queue.
  void (*marker)(int32_t flag, int32_t source, uint64_t id, uint64_t timestamp, const char* name,
                 uint32_t a, uint32_t b);
  // A record of any kind and size (>= 8) into a queue.
  void (*emit_raw)(int queue, uint32_t kind, uint32_t size);
  // Delivers the queue's buffers through the completion callback from another thread; returns
  // the number of records delivered.
  int (*complete)(int queue);
  void (*complete_empty)(void);
  void (*add_dropped)(size_t n);
  // Injected failures: msptiActivityEnable(kind) returns `result` (0 clears); msptiSubscribe.
  void (*set_enable_result)(uint32_t kind, int32_t result);
  void (*set_subscribe_result)(int32_t result);
  // Observations.
  int (*kind_enabled)(uint32_t kind);
  int (*subscribed)(void);
  size_t (*records_dropped)(void);
  size_t (*buffers_outstanding)(void);
  size_t (*external_depth)(uint32_t external_kind);
} HuoyanMsptiDoubleControl;

typedef const HuoyanMsptiDoubleControl* (*HuoyanMsptiDoubleControlFn)(void);

#ifdef __cplusplus
}
#endif
