#include "src/collect/cann/acl_prof_session.h"

#include <filesystem>
#include <system_error>

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

std::string dirname_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

std::string acl_error_text(const char* call, aclprof::Error error) {
  std::string s = std::string(call) + " failed: ACL error " + std::to_string(error);
  if (const char* name = acl_error_name(error)) s += std::string(" (") + name + ")";
  return s;
}

Result<std::unique_ptr<AclProfSession>> AclProfSession::open(const std::string& explicit_path) {
  std::vector<std::string> defaults = library_paths_under_env(
      {"ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH"}, "lib64", "libascendcl.so");
  defaults.push_back("libascendcl.so");
  defaults.push_back("/usr/local/Ascend/ascend-toolkit/latest/lib64/libascendcl.so");
  defaults.push_back("/usr/local/Ascend/cann/lib64/libascendcl.so");
  auto lib =
      DynamicLibrary::open("libascendcl.so not found",
                           library_candidates(explicit_path, "HUOYAN_ASCENDCL_LIBRARY", defaults));
  if (!lib.ok()) {
    return Status::Error(lib.status().message() +
                         "; install the CANN toolkit (and source its set_env.sh) or set "
                         "HUOYAN_ASCENDCL_LIBRARY");
  }
  std::unique_ptr<AclProfSession> s(new AclProfSession);
  s->path_ = lib.value().path();
  // The aclprof* functions live in libmsprofiler.so, which libascendcl.so pulls in (torch_npu
  // resolves these six on libascendcl); look beside it for whatever is left.
  auto bind_all = [&](const DynamicLibrary& l, std::string* missing) {
    Api& a = s->api_;
    missing->clear();
    auto need = [&](const char* name, auto** fn) {
      if (*fn == nullptr && !l.bind(name, fn)) {
        *missing += std::string(missing->empty() ? "" : ", ") + name;
      }
    };
    need("aclprofInit", &a.init);
    need("aclprofFinalize", &a.finalize);
    need("aclprofCreateConfig", &a.create_config);
    need("aclprofDestroyConfig", &a.destroy_config);
    need("aclprofStart", &a.start);
    need("aclprofStop", &a.stop);
  };
  std::string missing;
  bind_all(lib.value(), &missing);
  if (!missing.empty()) {
    const std::string dir = dirname_of(s->path_);
    auto prof = DynamicLibrary::open(
        "libmsprofiler.so not found",
        {dir.empty() ? std::string() : dir + "/libmsprofiler.so", "libmsprofiler.so"});
    if (prof.ok()) bind_all(prof.value(), &missing);
  }
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
