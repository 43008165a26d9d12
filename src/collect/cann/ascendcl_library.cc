#include "src/collect/cann/ascendcl_library.h"

#include <vector>

namespace huoyan {

Result<DynamicLibrary> open_ascendcl(const std::string& explicit_path) {
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
  return lib;
}

std::string bind_aclprof(const DynamicLibrary& acl,
                         const std::function<void(const DynamicLibrary&, std::string*)>& bind_all) {
  std::string missing;
  bind_all(acl, &missing);
  if (!missing.empty()) {
    const size_t slash = acl.path().rfind('/');
    const std::string dir =
        slash == std::string::npos ? std::string() : acl.path().substr(0, slash);
    auto prof = DynamicLibrary::open(
        "libmsprofiler.so not found",
        {dir.empty() ? std::string() : dir + "/libmsprofiler.so", "libmsprofiler.so"});
    if (prof.ok()) bind_all(prof.value(), &missing);
  }
  return missing;
}

}  // namespace huoyan
