// The CANN collector's aclprof mode from start to import: an ACL profiling collection
// (acl_prof_session.h) into a result directory, then, when it stops, `msprof --export=on` on
// each PROF_* folder the collection created (msprof_export.h), then the import of the exported
// files into the live store (msprof_import.h).
//
// Nothing reaches the store while collecting: the library writes raw data to disk only, so
// kernels appear when the collector stops. Every failure after the collection ran (no msprof,
// msprof failing or hanging, an unreadable export) leaves the raw folders in place and says,
// in the outcome message, which folder it is and the exact commands that finish the job
// later: `msprof --export=on --output=<folder>` then `huoyan convert <folder>`.
//
// Threading: one controlling thread; stop() blocks while msprof runs (bounded by its timeout).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/collect/cann/acl_prof_session.h"
#include "src/collect/clock.h"
#include "src/core/status.h"
#include "src/core/trace_store.h"

namespace huoyan {

class AclProfCapture {
 public:
  struct Settings {
    AclProfSession::Settings session;  // result_dir empty: a fresh folder under $TMPDIR
    std::string ascendcl_library;      // explicit libascendcl.so; empty: search
    std::string msprof;                // explicit msprof; empty: search (find_msprof)
    std::chrono::milliseconds export_timeout{std::chrono::minutes(10)};
  };

  struct Outcome {
    bool ok = false;      // every PROF folder was exported and imported
    std::string message;  // what happened, for the collector's state
    uint64_t events = 0;  // imported into the store
    uint64_t kernels = 0;
    std::vector<std::string> folders;  // the PROF_* folders of this collection
  };

  // Loads the library and starts collecting. The store and clocks must outlive the capture.
  static Result<std::unique_ptr<AclProfCapture>> start(const Settings& settings, TraceStore* store,
                                                       ClockSync* clocks);

  const std::string& result_dir() const { return settings_.session.result_dir; }
  const std::string& library_path() const { return session_->library_path(); }

  // Stops collecting, exports and imports. Call once.
  Outcome stop();

 private:
  AclProfCapture() = default;

  Settings settings_;
  std::unique_ptr<AclProfSession> session_;
  TraceStore* store_ = nullptr;
  ClockSync* clocks_ = nullptr;
  std::vector<std::string> before_;  // PROF_* folders present before the collection
};

}  // namespace huoyan
