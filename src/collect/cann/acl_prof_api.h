// The slice of CANN's acl_prof.h that model subscription needs, declared here so huoyan builds
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

}  // namespace huoyan::aclprof
