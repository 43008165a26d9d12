// msPTI (Ascend's CUPTI-like activity API, libmspti.so) types and record layouts, declared here
// so huoyan builds without the CANN toolkit. They reproduce the public header
// `mspti_activity.h` of Ascend/mspti (csrc/include, 2025–2026 snapshots; the copy torch_npu
// vendors in third_party/mspti has identical kernel/communication layouts): every record struct
// is `__attribute__((packed, aligned(8)))` with 4-byte enums, so fields sit at unaligned offsets
// (e.g. msptiActivityKernel::start at 4). The static_asserts pin every offset and size we rely
// on, so an edit that breaks the layout fails to compile. Only the kinds huoyan converts are
// declared; others are skipped by kind.
//
// Timestamps in records are CLOCK_REALTIME ns by default ("By default MSPTI uses
// clock_gettime(CLOCK_REALTIME)"; device times are interpolated onto it by msPTI).
#pragma once

#include <cstddef>
#include <cstdint>

namespace huoyan::mspti {

#define HUOYAN_MSPTI_RECORD __attribute__((__packed__)) __attribute__((aligned(8)))

enum Result : int32_t {
  kSuccess = 0,
  kErrorInvalidParameter = 1,
  kErrorMultipleSubscribersNotSupported = 2,
  kErrorMaxLimitReached = 3,  // end of buffer in GetNextRecord
  kErrorDeviceOffline = 4,
  kErrorQueueEmpty = 5,
  kErrorWithoutLdPreload = 6,
  kErrorNotInitialized = 7,
  kErrorInvalidKind = 8,
  kErrorParameterSizeNotSufficient = 9,
  kErrorInner = 999,
  kResultForceInt = 0x7fffffff,
};

enum ActivityKind : int32_t {
  kKindInvalid = 0,
  kKindMarker = 1,
  kKindKernel = 2,
  kKindApi = 3,
  kKindHccl = 4,
  kKindMemory = 5,
  kKindMemset = 6,
  kKindMemcpy = 7,
  kKindExternalCorrelation = 8,
  kKindCommunication = 9,
  kKindAclApi = 10,
  kKindNodeApi = 11,
  kKindRuntimeApi = 12,
  kKindOverhead = 13,
  kKindForceInt = 0x7fffffff,
};

enum ExternalCorrelationKind : int32_t {
  kExternalInvalid = 0,
  kExternalUnknown = 1,
  kExternalCustom0 = 2,
  kExternalCustom1 = 3,
  kExternalCustom2 = 4,
  kExternalForceInt = 0x7fffffff,
};

// msptiActivityFlag (markers).
enum MarkerFlag : int32_t {
  kMarkerNone = 0,
  kMarkerInstantaneous = 1 << 0,
  kMarkerStart = 1 << 1,
  kMarkerEnd = 1 << 2,
  kMarkerInstantaneousWithDevice = 1 << 3,
  kMarkerStartWithDevice = 1 << 4,
  kMarkerEndWithDevice = 1 << 5,
  kMarkerForceInt = 0x7fffffff,
};

enum SourceKind : int32_t { kSourceHost = 0, kSourceDevice = 1, kSourceForceInt = 0x7fffffff };

enum MemcpyKind : int32_t {
  kMemcpyUnknown = 0,
  kMemcpyHtoH = 1,
  kMemcpyHtoD = 2,
  kMemcpyDtoH = 3,
  kMemcpyDtoD = 4,
  kMemcpyDefault = 5,
  kMemcpyForceInt = 0x7fffffff,
};

struct HUOYAN_MSPTI_RECORD Activity {
  ActivityKind kind;
};

struct ProcessThread {
  uint32_t processId;
  uint32_t threadId;
};
struct DeviceStream {
  uint32_t deviceId;
  uint32_t streamId;
};
// The public header also marks this union aligned(8); inside the packed Marker that alignment is
// ignored (objectId sits at offset 28), so declaring it packed only gives the same layout without
// the compiler's packed-not-aligned warning.
union __attribute__((__packed__)) ObjectId {
  ProcessThread pt;
  DeviceStream ds;
};

struct HUOYAN_MSPTI_RECORD Marker {  // msptiActivityMarker
  ActivityKind kind;
  MarkerFlag flag;
  SourceKind sourceKind;
  uint64_t timestamp;
  uint64_t id;
  ObjectId objectId;
  const char* name;    // NULL for an end marker
  const char* domain;  // NULL for the default domain
};

struct HUOYAN_MSPTI_RECORD Api {  // msptiActivityApi (kinds API, ACL_API, NODE_API, RUNTIME_API)
  ActivityKind kind;
  uint64_t start;
  uint64_t end;
  ProcessThread pt;
  uint64_t correlationId;
  const char* name;
};

struct HUOYAN_MSPTI_RECORD Kernel {  // msptiActivityKernel
  ActivityKind kind;
  uint64_t start;
  uint64_t end;
  DeviceStream ds;
  uint64_t correlationId;
  const char* type;
  const char* name;
};

struct HUOYAN_MSPTI_RECORD Hccl {  // msptiActivityHccl
  ActivityKind kind;
  uint64_t start;
  uint64_t end;
  DeviceStream ds;
  double bandWidth;  // GB/s
  const char* name;
  const char* commName;
};

struct HUOYAN_MSPTI_RECORD Memset {  // msptiActivityMemset
  ActivityKind kind;
  uint32_t value;
  uint64_t bytes;
  uint64_t start;
  uint64_t end;
  uint32_t deviceId;
  uint32_t streamId;
  uint64_t correlationId;
  uint8_t isAsync;
};

struct HUOYAN_MSPTI_RECORD Memcpy {  // msptiActivityMemcpy
  ActivityKind kind;
  MemcpyKind copyKind;
  uint64_t bytes;
  uint64_t start;
  uint64_t end;
  uint32_t deviceId;
  uint32_t streamId;
  uint64_t correlationId;
  uint8_t isAsync;
};

struct HUOYAN_MSPTI_RECORD ExternalCorrelation {  // msptiActivityExternalCorrelation
  ActivityKind kind;
  ExternalCorrelationKind externalKind;
  uint64_t externalId;
  uint64_t correlationId;
};

struct HUOYAN_MSPTI_RECORD Communication {  // msptiActivityCommunication
  ActivityKind kind;
  int32_t dataType;  // msptiCommunicationDataType
  uint64_t count;
  DeviceStream ds;
  uint64_t start;
  uint64_t end;
  const char* algType;
  const char* name;
  const char* commName;
  uint64_t correlationId;
};

#undef HUOYAN_MSPTI_RECORD

// Offsets and sizes of the public header, as laid out by GCC/Clang on LP64 (x86-64, aarch64).
static_assert(sizeof(ActivityKind) == 4 && sizeof(MarkerFlag) == 4 && sizeof(MemcpyKind) == 4);
static_assert(offsetof(Marker, flag) == 4 && offsetof(Marker, sourceKind) == 8);
static_assert(offsetof(Marker, timestamp) == 12 && offsetof(Marker, id) == 20);
static_assert(offsetof(Marker, objectId) == 28 && offsetof(Marker, name) == 36);
static_assert(offsetof(Marker, domain) == 44 && sizeof(Marker) == 56);
static_assert(sizeof(ObjectId) == 8);
static_assert(offsetof(Api, start) == 4 && offsetof(Api, end) == 12 && offsetof(Api, pt) == 20);
static_assert(offsetof(Api, correlationId) == 28 && offsetof(Api, name) == 36);
static_assert(sizeof(Api) == 48);
static_assert(offsetof(Kernel, start) == 4 && offsetof(Kernel, end) == 12);
static_assert(offsetof(Kernel, ds) == 20 && offsetof(Kernel, correlationId) == 28);
static_assert(offsetof(Kernel, type) == 36 && offsetof(Kernel, name) == 44);
static_assert(sizeof(Kernel) == 56);
static_assert(offsetof(Hccl, ds) == 20 && offsetof(Hccl, bandWidth) == 28);
static_assert(offsetof(Hccl, name) == 36 && offsetof(Hccl, commName) == 44 && sizeof(Hccl) == 56);
static_assert(offsetof(Memset, value) == 4 && offsetof(Memset, bytes) == 8);
static_assert(offsetof(Memset, start) == 16 && offsetof(Memset, end) == 24);
static_assert(offsetof(Memset, deviceId) == 32 && offsetof(Memset, streamId) == 36);
static_assert(offsetof(Memset, correlationId) == 40 && offsetof(Memset, isAsync) == 48);
static_assert(sizeof(Memset) == 56);
static_assert(offsetof(Memcpy, copyKind) == 4 && offsetof(Memcpy, bytes) == 8);
static_assert(offsetof(Memcpy, start) == 16 && offsetof(Memcpy, end) == 24);
static_assert(offsetof(Memcpy, deviceId) == 32 && offsetof(Memcpy, streamId) == 36);
static_assert(offsetof(Memcpy, correlationId) == 40 && offsetof(Memcpy, isAsync) == 48);
static_assert(sizeof(Memcpy) == 56);
static_assert(offsetof(ExternalCorrelation, externalKind) == 4);
static_assert(offsetof(ExternalCorrelation, externalId) == 8);
static_assert(offsetof(ExternalCorrelation, correlationId) == 16);
static_assert(sizeof(ExternalCorrelation) == 24);
static_assert(offsetof(Communication, count) == 8 && offsetof(Communication, ds) == 16);
static_assert(offsetof(Communication, start) == 24 && offsetof(Communication, end) == 32);
static_assert(offsetof(Communication, algType) == 40 && offsetof(Communication, name) == 48);
static_assert(offsetof(Communication, commName) == 56);
static_assert(offsetof(Communication, correlationId) == 64 && sizeof(Communication) == 72);

// Entry points (C linkage in libmspti.so), as declared in mspti_activity.h / mspti_callback.h.
using BufferRequestFn = void (*)(uint8_t** buffer, size_t* size, size_t* max_records);
using BufferCompleteFn = void (*)(uint8_t* buffer, size_t size, size_t valid_size);
using SubscriberHandle = void*;  // msptiSubscriberHandle (opaque)
using CallbackFn = void (*)(void* userdata, int32_t domain, uint32_t cbid, const void* cbdata);

using SubscribeFn = Result (*)(SubscriberHandle* subscriber, CallbackFn callback, void* userdata);
using UnsubscribeFn = Result (*)(SubscriberHandle subscriber);
using RegisterCallbacksFn = Result (*)(BufferRequestFn request, BufferCompleteFn complete);
using EnableFn = Result (*)(ActivityKind kind);
using GetNextRecordFn = Result (*)(uint8_t* buffer, size_t valid_size, Activity** record);
using FlushAllFn = Result (*)(uint32_t flag);
using PushExternalFn = Result (*)(ExternalCorrelationKind kind, uint64_t id);
using PopExternalFn = Result (*)(ExternalCorrelationKind kind, uint64_t* last_id);
using DroppedRecordsFn = Result (*)(void* context, uint32_t stream_id, size_t* dropped);

}  // namespace huoyan::mspti
