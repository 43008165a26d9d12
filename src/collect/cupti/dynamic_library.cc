#include "src/collect/cupti/dynamic_library.h"

#include <dlfcn.h>

#include <cstdlib>

namespace huoyan {

Result<DynamicLibrary> DynamicLibrary::open(const std::string& what,
                                            const std::vector<std::string>& candidates) {
  // A copy the process already loaded (the application's own libcupti, a preloaded libmspti)
  // wins: a second copy of a vendor profiling library in one process would fight the first.
  for (const std::string& path : candidates) {
    if (path.empty()) continue;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (handle != nullptr) {
      DynamicLibrary lib;
      lib.handle_ = handle;
      lib.path_ = path;
      return lib;
    }
  }
  std::string tried;
  for (const std::string& path : candidates) {
    if (path.empty()) continue;
    dlerror();  // clear any stale error
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) {
      DynamicLibrary lib;
      lib.handle_ = handle;
      lib.path_ = path;
      return lib;
    }
    const char* err = dlerror();
    if (!tried.empty()) tried += "; ";
    tried += err != nullptr ? std::string(err) : path + ": cannot open";
  }
  if (tried.empty()) tried = "no candidate path";
  return Status::Error(what + ": " + tried);
}

void* DynamicLibrary::symbol(const char* name) const {
  if (handle_ == nullptr) return nullptr;
  return dlsym(handle_, name);
}

std::vector<std::string> library_candidates(const std::string& explicit_path, const char* env_var,
                                            const std::vector<std::string>& defaults) {
  if (!explicit_path.empty()) return {explicit_path};
  if (env_var != nullptr) {
    const char* env = std::getenv(env_var);
    if (env != nullptr && env[0] != '\0') return {std::string(env)};
  }
  return defaults;
}

std::vector<std::string> library_paths_under_env(const std::vector<const char*>& env_vars,
                                                 const std::string& subdir,
                                                 const std::string& file) {
  std::vector<std::string> out;
  for (const char* var : env_vars) {
    const char* root = std::getenv(var);
    if (root == nullptr || root[0] == '\0') continue;
    std::string path = std::string(root) + "/" + subdir + "/" + file;
    bool seen = false;
    for (const auto& p : out) seen = seen || p == path;
    if (!seen) out.push_back(std::move(path));
  }
  return out;
}

}  // namespace huoyan
