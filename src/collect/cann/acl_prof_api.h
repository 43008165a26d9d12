// The slices of CANN's acl_prof.h that model subscription and collection (aclprof mode) need,
// declared here so huoyan builds
// without the CANN toolkit (the functions are resolved from libascendcl.so / libmsprofiler.so at
// run time). Signatures follow the current public header (hicann/runtime
// include/external/acl/acl_prof.h, and its docs 19-03 "subscription to operator information").
// There is no aclprofGetStreamId/GetDeviceId/GetTaskId in any public CANN release: a subscribed
// op exposes only name, type, model id and start/end/duration — no stream, no device. Start/end
// are device system-counter ns (the implementation divides the counter by its frequency), not
// host time, whatever the header comment says.
#pragma once

#include <cstddef>
#include <cstdint>

namespace huoyan::aclprof {

using Error = int32_t;  // aclError
inline constexpr Error kSuccess = 0;
inline constexpr int32_t kAicoreNone = 0xFF;  // ACL_AICORE_NONE (aclprofAicoreMetrics)

struct SubscribeConfig;  // aclprofSubscribeConfig (opaque)

// `fd` points at the write end of a pipe the caller created; timeInfoSwitch must be 1.
using CreateSubscribeConfigFn = SubscribeConfig* (*)(int8_t time_info_switch,
                                                     int32_t aicore_metrics, void* fd);
using DestroySubscribeConfigFn = Error (*)(const SubscribeConfig* config);
using ModelSubscribeFn = Error (*)(uint32_t model_id, const SubscribeConfig* config);
using ModelUnSubscribeFn = Error (*)(uint32_t model_id);
using GetOpDescSizeFn = Error (*)(size_t* op_desc_size);
using GetOpNumFn = Error (*)(const void* op_info, size_t op_info_len, uint32_t* op_number);
using GetOpStringLenFn = Error (*)(const void* op_info, size_t op_info_len, uint32_t index,
                                   size_t* len);
using GetOpStringFn = Error (*)(const void* op_info, size_t op_info_len, uint32_t index, char* out,
                                size_t len);
using GetOpTimeFn = uint64_t (*)(const void* op_info, size_t op_info_len, uint32_t index);
using GetModelIdFn = size_t (*)(const void* op_info, size_t op_info_len, uint32_t index);

// --- Collection (aclprofInit … aclprofFinalize): raw data written to PROF_* folders ----------
// Data type flags (dataTypeConfig of aclprofCreateConfig), values from hicann/runtime
// include/external/acl/acl_prof.h (same values in the CANN 7.x/8.x copies torch_npu carried).
inline constexpr uint64_t kAclApi = 0x0001;         // ACL_PROF_ACL_API
inline constexpr uint64_t kTaskTime = 0x0002;       // ACL_PROF_TASK_TIME (op names and shapes)
inline constexpr uint64_t kAicoreMetrics = 0x0004;  // ACL_PROF_AICORE_METRICS
inline constexpr uint64_t kAicpu = 0x0008;          // ACL_PROF_AICPU
inline constexpr uint64_t kL2Cache = 0x0010;        // ACL_PROF_L2CACHE
inline constexpr uint64_t kHcclTrace = 0x0020;      // ACL_PROF_HCCL_TRACE
inline constexpr uint64_t kTrainingTrace = 0x0040;  // ACL_PROF_TRAINING_TRACE
inline constexpr uint64_t kMsproftx = 0x0080;       // ACL_PROF_MSPROFTX
inline constexpr uint64_t kRuntimeApi = 0x0100;     // ACL_PROF_RUNTIME_API
inline constexpr uint64_t kTaskTimeL0 = 0x0800;     // ACL_PROF_TASK_TIME_L0 (lowest overhead)
inline constexpr uint64_t kTaskMemory = 0x1000;     // ACL_PROF_TASK_MEMORY

// aclprofAicoreMetrics (same header); only used when kAicoreMetrics is set.
inline constexpr int32_t kAicoreArithmeticUtilization = 0;
inline constexpr int32_t kAicorePipeUtilization = 1;
inline constexpr int32_t kAicoreMemoryBandwidth = 2;

struct Config;        // aclprofConfig (opaque)
struct AicoreEvents;  // aclprofAicoreEvents (opaque; "only support NULL now")

// `length` is strlen(path) (at most 4096). Call once per process, after aclInit.
using InitFn = Error (*)(const char* profiler_result_path, size_t length);
using FinalizeFn = Error (*)();
using CreateConfigFn = Config* (*)(uint32_t* device_id_list, uint32_t device_nums,
                                   int32_t aicore_metrics, const AicoreEvents* aicore_events,
                                   uint64_t data_type_config);
using DestroyConfigFn = Error (*)(const Config* config);
using StartFn = Error (*)(const Config* config);
using StopFn = Error (*)(const Config* config);  // the same config Start got

}  // namespace huoyan::aclprof
