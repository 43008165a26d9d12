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

void AclprofBinder::open_msprofiler() {
  prof_tried_ = true;
  const size_t slash = acl_.path().rfind('/');
  const std::string beside = slash == std::string::npos
                                 ? std::string()
                                 : acl_.path().substr(0, slash + 1) + "libmsprofiler.so";
  auto prof = DynamicLibrary::open("libmsprofiler.so not found", {beside, "libmsprofiler.so"});
  if (prof.ok()) prof_ = std::move(prof.value());
}

}  // namespace huoyan
