// libascendcl.so for the ACL profiling entry points (model subscription and the aclprof
// collection): found in one order for both, with the aclprof* functions bound from it or from
// the libmsprofiler.so that implements them.
#pragma once

#include <functional>
#include <string>

#include "src/collect/cupti/dynamic_library.h"
#include "src/core/status.h"

namespace huoyan {

// The first of: `explicit_path`, $HUOYAN_ASCENDCL_LIBRARY (the only candidate when set), the
// lib64 of $ASCEND_TOOLKIT_HOME / $ASCEND_HOME_PATH, the loader's path, the default install
// folders. The error says how to make it findable.
Result<DynamicLibrary> open_ascendcl(const std::string& explicit_path);

// Calls bind_all(library, &missing) on `acl`; when it leaves names in `missing` (comma-
// separated), again on libmsprofiler.so beside `acl` (libascendcl pulls it in, so dlsym on
// libascendcl usually finds them already). Returns what is still missing, "" when nothing.
std::string bind_aclprof(const DynamicLibrary& acl,
                         const std::function<void(const DynamicLibrary&, std::string*)>& bind_all);

}  // namespace huoyan
