// One ACL profiling collection (acl_prof.h): aclprofInit(result dir) → aclprofCreateConfig →
// aclprofStart … aclprofStop → aclprofDestroyConfig → aclprofFinalize, with the functions
// resolved by dlopen. The library writes raw binary data into PROF_* folders under the result
// dir; nothing arrives in-process (msprof_export.h turns the folders into CSV/JSON).
//
// Library contract (hicann/runtime docs 19-01 and 25-03): aclprofInit must come after aclInit
// (the application's) and is meant to be called once per process; aclprofStop must get the
// config aclprofStart got; collection and model subscription must not overlap; only one
// process may collect at a time.
//
// Threading: one controlling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/collect/cann/acl_prof_api.h"
#include "src/collect/cupti/dynamic_library.h"
#include "src/core/status.h"

namespace huoyan {

class AclProfSession {
 public:
  struct Settings {
    std::string result_dir;         // created if missing
    std::vector<uint32_t> devices;  // empty: device 0
    int32_t aicore_metrics = aclprof::kAicoreNone;
    uint64_t data_types = aclprof::kAclApi | aclprof::kTaskTime;
  };

  // Loads libascendcl (explicit path, else $HUOYAN_ASCENDCL_LIBRARY, else the toolkit's lib64,
  // else the loader's path); functions it lacks are looked up in libmsprofiler.so beside it.
  static Result<std::unique_ptr<AclProfSession>> open(const std::string& explicit_path);

  ~AclProfSession();  // stops a running collection
  AclProfSession(const AclProfSession&) = delete;
  AclProfSession& operator=(const AclProfSession&) = delete;

  const std::string& library_path() const { return path_; }
  bool running() const { return config_ != nullptr; }

  // Init, CreateConfig, Start. On failure whatever succeeded is undone (Finalize after Init).
  Status start(const Settings& settings);
  // Stop, DestroyConfig, Finalize: every step runs even when one fails; the first error is
  // returned. The raw data is complete once this returns.
  Status stop();

 private:
  struct Api {
    aclprof::InitFn init = nullptr;
    aclprof::FinalizeFn finalize = nullptr;
    aclprof::CreateConfigFn create_config = nullptr;
    aclprof::DestroyConfigFn destroy_config = nullptr;
    aclprof::StartFn start = nullptr;
    aclprof::StopFn stop = nullptr;
  };
  AclProfSession() = default;

  Api api_;
  std::string path_;
  aclprof::Config* config_ = nullptr;
};

// "aclprofStart failed: ACL error 100000 (ACL_ERROR_INVALID_PARAM)".
std::string acl_error_text(const char* call, aclprof::Error error);

}  // namespace huoyan
