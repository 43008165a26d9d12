// Run-time loading of vendor libraries (libcupti, libmspti, libascendcl), so one huoyan binary
// runs with or without a vendor toolkit installed: a missing library is a clear error from the
// collector's start(), never a load-time failure of the whole program.
#pragma once

#include <string>
#include <vector>

#include "src/core/status.h"

namespace huoyan {

// A shared library opened with dlopen. Handles are deliberately never closed: vendor profiling
// libraries keep worker threads and registered callbacks alive until process exit (CUPTI has no
// way to unregister its buffer callbacks), so unloading one under a live process is unsafe.
// Copyable (the handle is shared by the loader's reference count); thread-safe to use.
class DynamicLibrary {
 public:
  DynamicLibrary() = default;

  // Returns the first candidate the process has already loaded, else opens the first one that
  // loads (RTLD_NOW | RTLD_LOCAL). On failure the error names every candidate with its dlerror
  // text, prefixed by `what` (e.g. "libcupti.so not found").
  static Result<DynamicLibrary> open(const std::string& what,
                                     const std::vector<std::string>& candidates);

  bool loaded() const { return handle_ != nullptr; }
  const std::string& path() const { return path_; }
  // The symbol's address, or nullptr when the library does not export it.
  void* symbol(const char* name) const;
  // Typed lookup: sets *fn (nullptr when absent) and returns whether it was found.
  template <typename F>
  bool bind(const char* name, F** fn) const {
    *fn = reinterpret_cast<F*>(symbol(name));
    return *fn != nullptr;
  }

 private:
  void* handle_ = nullptr;
  std::string path_;
};

// Where to look for a vendor library. An explicit path (a collector option, else the environment
// variable `env_var`) is the only candidate when given: a user who names a file must get that
// file or an error, never a silent fallback to another installation. Otherwise `defaults`.
std::vector<std::string> library_candidates(const std::string& explicit_path, const char* env_var,
                                            const std::vector<std::string>& defaults);

// "$<env>/lib64/<file>" for each of the environment variables that is set and non-empty.
std::vector<std::string> library_paths_under_env(const std::vector<const char*>& env_vars,
                                                 const std::string& subdir,
                                                 const std::string& file);

}  // namespace huoyan
