// libascendcl.so test double: ACL model subscription (acl_prof.h); the collection API is in
// ascendcl_collect_double.cc. See ascendcl_double.h.
// Record layout (80 bytes, the current ProfOpDesc): signature@0, modelId@4, flag@8,
// threadId@12, opIndex@16, duration@24, start@32, end@40, executionTime@48, cubeFops@56,
// vectorFops@64, devId@72.

#include "tests/doubles/ascendcl_double.h"

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#define HUOYAN_EXPORT extern "C" __attribute__((visibility("default")))

// ascendcl_collect_double.cc
void huoyan_acl_collect_reset();
size_t huoyan_acl_collect_log(char* out, size_t out_len);
void huoyan_acl_set_collect_error(const char* call, int32_t error);
void huoyan_acl_set_write_prof(int write);
size_t huoyan_acl_last_prof_folder(char* out, size_t out_len);

namespace {

constexpr size_t kDescSize = 80;
constexpr int32_t kAclSuccess = 0;
constexpr int32_t kAclInvalidParam = 100000;  // ACL_ERROR_INVALID_PARAM

struct Config {
  int write_fd = -1;
};

struct Strings {
  std::string name;
  std::string type;
  bool name_taken = false;
  bool type_taken = false;
};

struct State {
  std::mutex mu;
  std::map<uint32_t, int> pipes;  // model -> write fd
  std::map<uint64_t, Strings> strings;
  uint64_t next_op = 1;
  int64_t device_offset = 5'000'000'000;
  int32_t subscribe_error = kAclSuccess;
  bool keep_pipe_open = false;
  std::vector<int> kept;  // write ends a "bad library" kept open; closed at reset
};

State& state() {
  static auto* s = new State;
  return *s;
}

uint32_t crc32c(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;  // no final XOR, as the library does
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

template <typename T>
T field(const uint8_t* rec, size_t at) {
  T v;
  std::memcpy(&v, rec + at, sizeof v);
  return v;
}

// The record at `index`, or nullptr when the buffer or the record is invalid.
const uint8_t* record(const void* info, size_t len, uint32_t index) {
  if (info == nullptr || len == 0 || len % kDescSize != 0 || index >= len / kDescSize) {
    return nullptr;
  }
  const auto* rec = static_cast<const uint8_t*>(info) + size_t{index} * kDescSize;
  if (field<uint32_t>(rec, 0) != crc32c(rec + 4, kDescSize - 4)) return nullptr;
  return rec;
}

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// --- control table ---------------------------------------------------------------------------

void ctl_reset() {
  std::lock_guard<std::mutex> lock(state().mu);
  for (auto& [model, fd] : state().pipes) close(fd);
  state().pipes.clear();
  for (int fd : state().kept) close(fd);
  state().kept.clear();
  state().strings.clear();
  state().subscribe_error = kAclSuccess;
  state().keep_pipe_open = false;
  huoyan_acl_collect_reset();
}

int ctl_subscribed(uint32_t model) {
  std::lock_guard<std::mutex> lock(state().mu);
  return state().pipes.count(model) != 0 ? 1 : 0;
}

int ctl_emit_op(uint32_t model, const char* name, const char* type, uint64_t start, uint64_t end,
                uint32_t device, int split) {
  uint8_t rec[kDescSize] = {};
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(state().mu);
    auto it = state().pipes.find(model);
    if (it == state().pipes.end()) return -1;
    fd = it->second;
    const uint64_t op = state().next_op++;
    state().strings[op] = Strings{name, type, false, false};
    const uint32_t flag = 0, thread = static_cast<uint32_t>(gettid());
    const uint64_t duration = end - start, zero = 0;
    std::memcpy(rec + 4, &model, 4);
    std::memcpy(rec + 8, &flag, 4);
    std::memcpy(rec + 12, &thread, 4);
    std::memcpy(rec + 16, &op, 8);
    std::memcpy(rec + 24, &duration, 8);
    std::memcpy(rec + 32, &start, 8);
    std::memcpy(rec + 40, &end, 8);
    std::memcpy(rec + 48, &duration, 8);
    std::memcpy(rec + 56, &zero, 8);
    std::memcpy(rec + 64, &zero, 8);
    std::memcpy(rec + 72, &device, 4);
    const uint32_t sig = crc32c(rec + 4, kDescSize - 4);
    std::memcpy(rec, &sig, 4);
  }
  if (split != 0) {
    write_all(fd, rec, 30);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_all(fd, rec + 30, kDescSize - 30);
  } else {
    write_all(fd, rec, kDescSize);
  }
  return 0;
}

uint64_t ctl_device_now() {
  std::lock_guard<std::mutex> lock(state().mu);
  return static_cast<uint64_t>(monotonic_ns() + state().device_offset);
}

void ctl_set_device_offset(int64_t offset) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().device_offset = offset;
}

size_t ctl_strings_outstanding() {
  std::lock_guard<std::mutex> lock(state().mu);
  size_t n = 0;
  for (const auto& [op, s] : state().strings) n += (s.name_taken ? 0 : 1) + (s.type_taken ? 0 : 1);
  return n;
}

void ctl_set_subscribe_error(int32_t err) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().subscribe_error = err;
}

void ctl_set_keep_pipe_open(int keep) {
  std::lock_guard<std::mutex> lock(state().mu);
  state().keep_pipe_open = keep != 0;
}

const HuoyanAclDoubleControl kControl = {
    ctl_reset,
    ctl_subscribed,
    ctl_emit_op,
    ctl_device_now,
    ctl_set_device_offset,
    ctl_strings_outstanding,
    ctl_set_subscribe_error,
    ctl_set_keep_pipe_open,
    huoyan_acl_collect_log,
    huoyan_acl_set_collect_error,
    huoyan_acl_set_write_prof,
    huoyan_acl_last_prof_folder,
};

// Name/type accessors: length = strlen + 1; retrieval erases (a second call fails).
int32_t string_len(const void* info, size_t len, uint32_t index, size_t* out, bool name) {
  const uint8_t* rec = record(info, len, index);
  if (rec == nullptr || out == nullptr) return kAclInvalidParam;
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().strings.find(field<uint64_t>(rec, 16));
  if (it == state().strings.end()) return kAclInvalidParam;
  if (name ? it->second.name_taken : it->second.type_taken) return kAclInvalidParam;
  *out = (name ? it->second.name : it->second.type).size() + 1;
  return kAclSuccess;
}

int32_t string_get(const void* info, size_t len, uint32_t index, char* out, size_t out_len,
                   bool name) {
  const uint8_t* rec = record(info, len, index);
  if (rec == nullptr || out == nullptr) return kAclInvalidParam;
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().strings.find(field<uint64_t>(rec, 16));
  if (it == state().strings.end()) return kAclInvalidParam;
  Strings& s = it->second;
  bool& taken = name ? s.name_taken : s.type_taken;
  const std::string& v = name ? s.name : s.type;
  if (taken || out_len < v.size() + 1) return kAclInvalidParam;
  std::memcpy(out, v.c_str(), v.size() + 1);
  taken = true;
  if (s.name_taken && s.type_taken) state().strings.erase(it);
  return kAclSuccess;
}

}  // namespace

HUOYAN_EXPORT const HuoyanAclDoubleControl* huoyan_acl_double_control(void) { return &kControl; }

// --- acl_prof.h subscription API -------------------------------------------------------------

HUOYAN_EXPORT void* aclprofCreateSubscribeConfig(int8_t time_info_switch, int32_t /*metrics*/,
                                                 void* fd) {
  if (time_info_switch != 1 || fd == nullptr) return nullptr;
  auto* c = new Config;
  c->write_fd = *static_cast<int*>(fd);
  return c;
}

HUOYAN_EXPORT int32_t aclprofDestroySubscribeConfig(const void* config) {
  if (config == nullptr) return kAclInvalidParam;
  delete static_cast<const Config*>(config);
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofModelSubscribe(uint32_t model, const void* config) {
  if (config == nullptr) return kAclInvalidParam;
  std::lock_guard<std::mutex> lock(state().mu);
  if (state().subscribe_error != kAclSuccess) return state().subscribe_error;
  if (state().pipes.count(model) != 0) return kAclInvalidParam;
  state().pipes[model] = static_cast<const Config*>(config)->write_fd;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofModelUnSubscribe(uint32_t model) {
  std::lock_guard<std::mutex> lock(state().mu);
  auto it = state().pipes.find(model);
  if (it == state().pipes.end()) return kAclInvalidParam;
  if (state().keep_pipe_open) {
    state().kept.push_back(it->second);
  } else {
    close(it->second);  // "closes the model's pipe write end after the data is sent"
  }
  state().pipes.erase(it);
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofGetOpDescSize(size_t* size) {
  if (size == nullptr) return kAclInvalidParam;
  *size = kDescSize;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofGetOpNum(const void* info, size_t len, uint32_t* number) {
  if (info == nullptr || number == nullptr || len == 0 || len % kDescSize != 0) {
    return kAclInvalidParam;
  }
  const uint32_t n = static_cast<uint32_t>(len / kDescSize);
  for (uint32_t i = 0; i < n; ++i) {
    if (record(info, len, i) == nullptr) return kAclInvalidParam;
  }
  *number = n;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofGetOpTypeLen(const void* info, size_t len, uint32_t index,
                                          size_t* out) {
  return string_len(info, len, index, out, false);
}

HUOYAN_EXPORT int32_t aclprofGetOpType(const void* info, size_t len, uint32_t index, char* out,
                                       size_t out_len) {
  return string_get(info, len, index, out, out_len, false);
}

HUOYAN_EXPORT int32_t aclprofGetOpNameLen(const void* info, size_t len, uint32_t index,
                                          size_t* out) {
  return string_len(info, len, index, out, true);
}

HUOYAN_EXPORT int32_t aclprofGetOpName(const void* info, size_t len, uint32_t index, char* out,
                                       size_t out_len) {
  return string_get(info, len, index, out, out_len, true);
}

HUOYAN_EXPORT uint64_t aclprofGetOpStart(const void* info, size_t len, uint32_t index) {
  const uint8_t* rec = record(info, len, index);
  return rec == nullptr ? 0 : field<uint64_t>(rec, 32);
}

HUOYAN_EXPORT uint64_t aclprofGetOpEnd(const void* info, size_t len, uint32_t index) {
  const uint8_t* rec = record(info, len, index);
  return rec == nullptr ? 0 : field<uint64_t>(rec, 40);
}

HUOYAN_EXPORT size_t aclprofGetModelId(const void* info, size_t len, uint32_t index) {
  const uint8_t* rec = record(info, len, index);
  return rec == nullptr ? 0 : field<uint32_t>(rec, 4);
}
