// libascendcl.so test double, collection half: aclprofInit/CreateConfig/Start/Stop/
// DestroyConfig/Finalize (acl_prof.h) with the documented rules (Init once before the rest,
// Stop with the config Start got), a call log, and on aclprofStop a raw PROF_* folder skeleton
// like the library's (host/ and device_<id>/ with start/end info and binary data files).
// See ascendcl_double.h.

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#define HUOYAN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int32_t kAclSuccess = 0;
constexpr int32_t kAclInvalidParam = 100000;      // ACL_ERROR_INVALID_PARAM
constexpr int32_t kAclRepeatInitialize = 100002;  // ACL_ERROR_REPEAT_INITIALIZE

struct Config {
  int id = 0;
  std::vector<uint32_t> devices;
};

struct Collect {
  std::mutex mu;
  std::string log;
  bool initialized = false;
  std::string path;
  int next_config = 1;
  const Config* started = nullptr;
  std::string fail_call;
  int32_t fail_error = kAclSuccess;
  bool write_prof = true;
  std::string last_prof;
  int prof_number = 0;
};

Collect& collect() {
  static auto* c = new Collect;
  return *c;
}

int32_t injected(const char* call) {  // mu held
  Collect& c = collect();
  return c.fail_call == call ? c.fail_error : kAclSuccess;
}

void mkdirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
  }
}

void write_file(const std::string& path, const std::string& text) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
}

// PROF_<6-digit n>_<local time to the ms>_<16 capital letters>, as the library names it.
std::string prof_name(int n) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm local;
  localtime_r(&ts.tv_sec, &local);
  char when[32];
  strftime(when, sizeof when, "%Y%m%d%H%M%S", &local);
  char name[96];
  std::mt19937 rng(static_cast<uint32_t>(ts.tv_nsec) ^ static_cast<uint32_t>(getpid()));
  std::string random;
  for (int i = 0; i < 16; ++i) random += static_cast<char>('A' + rng() % 26);
  std::snprintf(name, sizeof name, "PROF_%06d_%s%03ld_%s", n, when, ts.tv_nsec / 1000000,
                random.c_str());
  return name;
}

void write_prof_skeleton(const Config& config) {  // mu held
  Collect& c = collect();
  const std::string prof = c.path + "/" + prof_name(++c.prof_number);
  const std::string now_us = std::to_string(time(nullptr)) + "000000";
  mkdirs(prof + "/host/data");
  write_file(prof + "/host/start_info", "{\"collectionTimeBegin\": \"" + now_us + "\"}\n");
  write_file(prof + "/host/end_info", "{\"collectionTimeEnd\": \"" + now_us + "\"}\n");
  write_file(prof + "/host/data/api_event.data.0.slice_0", std::string(64, '\x5a'));
  for (uint32_t d : config.devices) {
    const std::string dev = prof + "/device_" + std::to_string(d);
    mkdirs(dev + "/data");
    write_file(dev + "/start_info", "{\"devId\": \"" + std::to_string(d) + "\"}\n");
    write_file(dev + "/data/hwts.data." + std::to_string(d) + ".slice_0", std::string(128, '\x01'));
  }
  c.last_prof = prof;
}

size_t copy_out(const std::string& s, char* out, size_t out_len) {
  if (out != nullptr && out_len > 0) {
    const size_t n = s.size() < out_len - 1 ? s.size() : out_len - 1;
    s.copy(out, n);
    out[n] = '\0';
  }
  return s.size();
}

}  // namespace

// --- control (wired into the table in ascendcl_double.cc) ------------------------------------

void huoyan_acl_collect_reset() {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  c.log.clear();
  c.initialized = false;
  c.path.clear();
  c.next_config = 1;
  c.started = nullptr;
  c.fail_call.clear();
  c.fail_error = kAclSuccess;
  c.write_prof = true;
  c.last_prof.clear();
  c.prof_number = 0;
}

size_t huoyan_acl_collect_log(char* out, size_t out_len) {
  std::lock_guard<std::mutex> lock(collect().mu);
  return copy_out(collect().log, out, out_len);
}

void huoyan_acl_set_collect_error(const char* call, int32_t error) {
  std::lock_guard<std::mutex> lock(collect().mu);
  collect().fail_call = call != nullptr ? call : "";
  collect().fail_error = error;
}

void huoyan_acl_set_write_prof(int write) {
  std::lock_guard<std::mutex> lock(collect().mu);
  collect().write_prof = write != 0;
}

size_t huoyan_acl_last_prof_folder(char* out, size_t out_len) {
  std::lock_guard<std::mutex> lock(collect().mu);
  return copy_out(collect().last_prof, out, out_len);
}

// --- acl_prof.h collection API ---------------------------------------------------------------

HUOYAN_EXPORT int32_t aclprofInit(const char* path, size_t length) {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  const std::string p = path != nullptr ? std::string(path, length) : std::string();
  c.log += "aclprofInit " + p + "\n";
  if (int32_t e = injected("aclprofInit")) return e;
  if (path == nullptr || length == 0 || length > 4096) return kAclInvalidParam;
  if (c.initialized) return kAclRepeatInitialize;
  c.initialized = true;
  c.path = p;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofFinalize() {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  c.log += "aclprofFinalize\n";
  if (int32_t e = injected("aclprofFinalize")) return e;
  if (!c.initialized) return kAclInvalidParam;
  c.initialized = false;
  return kAclSuccess;
}

HUOYAN_EXPORT void* aclprofCreateConfig(uint32_t* devices, uint32_t count, int32_t metrics,
                                        const void* events, uint64_t types) {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  std::string ids;
  for (uint32_t i = 0; devices != nullptr && i < count; ++i) {
    ids += (i == 0 ? "" : "+") + std::to_string(devices[i]);
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(types));
  c.log += "aclprofCreateConfig devices=" + ids + " metrics=" + std::to_string(metrics) +
           " events=" + (events == nullptr ? "null" : "set") + " types=" + hex + "\n";
  if (injected("aclprofCreateConfig") != kAclSuccess) return nullptr;
  // "deviceIdList/deviceNums must agree"; "aicoreEvents only support NULL now".
  if ((devices == nullptr) != (count == 0) || events != nullptr || types == 0) return nullptr;
  auto* config = new Config;
  config->id = c.next_config++;
  config->devices.assign(devices, devices + count);
  return config;
}

HUOYAN_EXPORT int32_t aclprofDestroyConfig(const void* config) {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  const auto* cfg = static_cast<const Config*>(config);
  c.log += "aclprofDestroyConfig " + std::to_string(cfg != nullptr ? cfg->id : 0) + "\n";
  if (cfg == nullptr) return kAclInvalidParam;
  if (c.started == cfg) c.started = nullptr;
  delete cfg;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofStart(const void* config) {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  const auto* cfg = static_cast<const Config*>(config);
  c.log += "aclprofStart " + std::to_string(cfg != nullptr ? cfg->id : 0) + "\n";
  if (int32_t e = injected("aclprofStart")) return e;
  if (cfg == nullptr || !c.initialized || c.started != nullptr) return kAclInvalidParam;
  c.started = cfg;
  return kAclSuccess;
}

HUOYAN_EXPORT int32_t aclprofStop(const void* config) {
  Collect& c = collect();
  std::lock_guard<std::mutex> lock(c.mu);
  const auto* cfg = static_cast<const Config*>(config);
  c.log += "aclprofStop " + std::to_string(cfg != nullptr ? cfg->id : 0) + "\n";
  if (int32_t e = injected("aclprofStop")) return e;
  if (cfg == nullptr || c.started != cfg) return kAclInvalidParam;  // must be Start's config
  if (c.write_prof) write_prof_skeleton(*cfg);
  c.started = nullptr;
  return kAclSuccess;
}
