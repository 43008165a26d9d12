// Control interface of the libascendcl test double (tests/doubles/ascendcl_double.cc), which
// implements ACL profiling collection (see the control table) and model subscription as CANN
// documents and implements them. Subscription: the caller passes the
// address of a pipe's write end to aclprofCreateSubscribeConfig; subscribed models' ops are
// written to it as 80-byte ProfOpDesc records (signature = CRC-32C of bytes [4, 80)); names and
// types stay inside the library keyed by the record's op index and are erased when retrieved;
// aclprofModelUnSubscribe closes the write end. Op times are "device counter" ns.
//
//   void* h = dlopen(HUOYAN_DOUBLE_ASCENDCL, RTLD_NOW);
//   auto* ctl = reinterpret_cast<HuoyanAclDoubleControlFn>(
//       dlsym(h, "huoyan_acl_double_control"))();
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HuoyanAclDoubleControl {
  void (*reset)(void);  // forgets subscriptions (closing their pipes) and injected behaviour
  int (*subscribed)(uint32_t model_id);
  // Writes one op record to the model's pipe; `split` writes it in two parts 20 ms apart.
  // Returns 0, or -1 when the model is not subscribed.
  int (*emit_op)(uint32_t model_id, const char* name, const char* type, uint64_t start,
                 uint64_t end, uint32_t device, int split);
  uint64_t (*device_now)(void);  // the device counter: CLOCK_MONOTONIC + offset, in ns
  void (*set_device_offset)(int64_t offset_ns);
  size_t (*strings_outstanding)(void);             // op names/types written but not yet retrieved
  void (*set_subscribe_error)(int32_t acl_error);  // aclprofModelSubscribe returns it
  void (*set_keep_pipe_open)(int keep);  // unsubscribe leaves the write end open (a bad library)

  // Collection (aclprofInit … aclprofFinalize). Every call is logged, one line each:
  //   aclprofInit <path>
  //   aclprofCreateConfig devices=<id>[+<id>…] metrics=<n> events=<null|set> types=0x<hex>
  //   aclprofStart <config id> | aclprofStop <config id> | aclprofDestroyConfig <config id>
  //   aclprofFinalize
  // aclprofStop writes a raw PROF folder skeleton under the aclprofInit path, as the library
  // does: PROF_000001_<local time>_<random>/{host,device_<id>}/data/…
  size_t (*collect_log)(char* out, size_t out_len);  // copies the log; returns its length
  void (*set_collect_error)(const char* call, int32_t acl_error);  // that call fails with it
  void (*set_write_prof)(int write);  // 0: aclprofStop writes nothing (no data collected)
  // The PROF folder the last aclprofStop wrote ("" when none); returns its length.
  size_t (*last_prof_folder)(char* out, size_t out_len);
} HuoyanAclDoubleControl;

typedef const HuoyanAclDoubleControl* (*HuoyanAclDoubleControlFn)(void);

#ifdef __cplusplus
}
#endif
