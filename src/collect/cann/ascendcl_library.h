// libascendcl.so for the ACL profiling entry points (model subscription and the aclprof
// collection): found in one order for both, with the aclprof* functions bound from it or from
// the libmsprofiler.so that implements them.
#pragma once

#include <string>
#include <utility>

#include "src/collect/cupti/dynamic_library.h"
#include "src/core/status.h"

namespace huoyan {

// The first of: `explicit_path`, $HUOYAN_ASCENDCL_LIBRARY (the only candidate when set), the
// lib64 of $ASCEND_TOOLKIT_HOME / $ASCEND_HOME_PATH, the loader's path, the default install
// folders. The error says how to make it findable.
Result<DynamicLibrary> open_ascendcl(const std::string& explicit_path);

// Binds aclprof* entry points: from libascendcl, else from the libmsprofiler.so beside it
// (libascendcl pulls it in, so dlsym on libascendcl usually finds them already), opened at the
// first name libascendcl lacks. missing() lists, comma-separated, the names neither has.
class AclprofBinder {
 public:
  explicit AclprofBinder(DynamicLibrary acl) : acl_(std::move(acl)) {}

  template <typename F>
  void operator()(const char* name, F** fn) {
    if (acl_.bind(name, fn)) return;
    if (!prof_tried_) open_msprofiler();
    if (prof_.loaded() && prof_.bind(name, fn)) return;
    missing_ += std::string(missing_.empty() ? "" : ", ") + name;
  }
  const std::string& missing() const { return missing_; }

 private:
  void open_msprofiler();

  DynamicLibrary acl_;
  DynamicLibrary prof_;
  bool prof_tried_ = false;
  std::string missing_;
};

}  // namespace huoyan
