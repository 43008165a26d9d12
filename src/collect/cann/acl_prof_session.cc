#include "src/collect/cann/acl_prof_session.h"

#include <filesystem>
#include <system_error>

#include "src/collect/cann/ascendcl_library.h"

namespace huoyan {

namespace {

// The two aclError values worth naming here (acl_base.h); others are printed as numbers.
const char* acl_error_name(aclprof::Error e) {
  switch (e) {
    case 100000:
      return "ACL_ERROR_INVALID_PARAM";
    case 100002:
      return "ACL_ERROR_REPEAT_INITIALIZE";
    default:
      return nullptr;
  }
}

}  // namespace

std::string acl_error_text(const char* call, aclprof::Error error) {
  std::string s = std::string(call) + " failed: ACL error " + std::to_string(error);
  if (const char* name = acl_error_name(error)) s += std::string(" (") + name + ")";
  return s;
}

Result<std::unique_ptr<AclProfSession>> AclProfSession::open(const std::string& explicit_path) {
  auto lib = open_ascendcl(explicit_path);
  if (!lib.ok()) return lib.status();
  std::unique_ptr<AclProfSession> s(new AclProfSession);
  s->path_ = lib.value().path();
  // The aclprof* functions live in libmsprofiler.so, which libascendcl.so pulls in (torch_npu
  // resolves these six on libascendcl); look beside it for whatever is left.
  Api& a = s->api_;
  AclprofBinder need(lib.value());
  need("aclprofInit", &a.init);
  need("aclprofFinalize", &a.finalize);
  need("aclprofCreateConfig", &a.create_config);
  need("aclprofDestroyConfig", &a.destroy_config);
  need("aclprofStart", &a.start);
  need("aclprofStop", &a.stop);
  const std::string& missing = need.missing();
  if (!missing.empty()) {
    return Status::Error(s->path_ + " lacks the ACL profiling collection API (" + missing +
                         "): not libascendcl, or no libmsprofiler.so beside it");
  }
  return s;
}

AclProfSession::~AclProfSession() {
  if (running()) stop();
}

Status AclProfSession::start(const Settings& settings) {
  if (running()) return Status::Error("aclprof: a collection is already running");
  if (settings.result_dir.empty()) return Status::Error("aclprof: no result directory");
  if (settings.result_dir.size() > 4096) {
    return Status::Error("aclprof: result directory longer than 4096 bytes");
  }
  std::error_code ec;
  std::filesystem::create_directories(settings.result_dir, ec);
  if (ec) {
    return Status::Error("aclprof: cannot create " + settings.result_dir + ": " + ec.message());
  }
  aclprof::Error err = api_.init(settings.result_dir.c_str(), settings.result_dir.size());
  if (err != aclprof::kSuccess) {
    std::string message = acl_error_text("aclprofInit", err);
    if (err == 100002) {
      message +=
          "; profiling is already configured in this process (aclInit JSON, msprof or "
          "another profiler)";
    }
    return Status::Error(message);
  }
  std::vector<uint32_t> devices = settings.devices;
  if (devices.empty()) devices.push_back(0);
  config_ = api_.create_config(devices.data(), static_cast<uint32_t>(devices.size()),
                               settings.aicore_metrics, nullptr, settings.data_types);
  if (config_ == nullptr) {
    api_.finalize();
    return Status::Error("aclprofCreateConfig failed (devices, metrics or data types rejected)");
  }
  err = api_.start(config_);
  if (err != aclprof::kSuccess) {
    api_.destroy_config(config_);
    config_ = nullptr;
    api_.finalize();
    return Status::Error(acl_error_text("aclprofStart", err));
  }
  return OkStatus();
}

Status AclProfSession::stop() {
  if (!running()) return OkStatus();
  Status first = OkStatus();
  auto note = [&](const char* call, aclprof::Error err) {
    if (err != aclprof::kSuccess && first.ok()) first = Status::Error(acl_error_text(call, err));
  };
  note("aclprofStop", api_.stop(config_));
  note("aclprofDestroyConfig", api_.destroy_config(config_));
  config_ = nullptr;
  note("aclprofFinalize", api_.finalize());
  return first;
}

}  // namespace huoyan
