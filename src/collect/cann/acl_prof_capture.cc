#include "src/collect/cann/acl_prof_capture.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "src/collect/cann/msprof_export.h"
#include "src/collect/cann/msprof_import.h"

namespace huoyan {

namespace fs = std::filesystem;

namespace {

// PROF_* folders directly under `dir`, sorted.
std::vector<std::string> prof_folders(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("PROF_", 0) == 0 && it->is_directory(ec)) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string default_result_dir() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  return base + "/huoyan-aclprof-" + std::to_string(getpid()) + "-" +
         std::to_string(realtime_ns() / 1000000000);
}

// How to finish by hand what stop() could not do for `folder`.
std::string later(const std::string& msprof, const std::string& folder) {
  return "; the raw data is in " + folder + ": export it with `" +
         command_line(msprof_export_argv(msprof.empty() ? "msprof" : msprof, folder)) +
         "` and open it with `huoyan convert " + folder + "`";
}

}  // namespace

Result<std::unique_ptr<AclProfCapture>> AclProfCapture::start(const Settings& settings,
                                                              TraceStore* store,
                                                              ClockSync* clocks) {
  auto session = AclProfSession::open(settings.ascendcl_library);
  if (!session.ok()) return session.status();
  std::unique_ptr<AclProfCapture> c(new AclProfCapture);
  c->settings_ = settings;
  if (c->settings_.session.result_dir.empty()) {
    c->settings_.session.result_dir = default_result_dir();
  }
  std::error_code ec;
  const fs::path absolute = fs::absolute(c->settings_.session.result_dir, ec);
  if (!ec) c->settings_.session.result_dir = absolute.lexically_normal().string();
  c->before_ = prof_folders(c->settings_.session.result_dir);
  c->session_ = std::move(session.value());
  HUOYAN_RETURN_IF_ERROR(c->session_->start(c->settings_.session));
  c->store_ = store;
  c->clocks_ = clocks;
  return c;
}

AclProfCapture::Outcome AclProfCapture::stop() {
  Outcome out;
  const std::string& dir = settings_.session.result_dir;
  const Status stopped = session_->stop();
  for (const std::string& f : prof_folders(dir)) {
    if (!std::binary_search(before_.begin(), before_.end(), f)) out.folders.push_back(f);
  }
  if (out.folders.empty()) {
    out.message = "aclprof: no PROF_* folder appeared in " + dir +
                  (stopped.ok() ? std::string(" (no device activity was collected?)")
                                : "; " + stopped.message());
    return out;
  }
  std::string notes = stopped.ok() ? std::string() : "; " + stopped.message();

  auto msprof = find_msprof(settings_.msprof);
  if (!msprof.ok()) {
    out.message = "aclprof: collected " + std::to_string(out.folders.size()) +
                  " PROF folder(s) but cannot export them: " + msprof.status().message();
    for (const auto& f : out.folders) out.message += later(settings_.msprof, f);
    out.message += notes;
    return out;
  }

  // msprof times are CLOCK_REALTIME µs; measured now, close to the data.
  const ClockSync::Domain d = clocks_->calibrate("msprof", [] { return realtime_ns(); });
  {
    auto w = store_->writer();
    w.set_metadata("clock.msprof.offset_ns", std::to_string(d.offset_ns));
    w.set_metadata("clock.msprof.uncertainty_ns", std::to_string(d.uncertainty_ns));
    w.set_metadata("aclprof.result_dir", dir);
  }
  out.ok = true;
  std::string failures;
  for (const std::string& f : out.folders) {
    Status exported = msprof_export(msprof.value(), f, settings_.export_timeout);
    if (!exported.ok()) {
      out.ok = false;
      failures += "; " + exported.message() + later(msprof.value(), f);
      continue;
    }
    auto imported = import_msprof_folder(f, *store_, d.offset_ns);
    if (!imported.ok()) {
      out.ok = false;
      failures +=
          "; msprof exported " + f + " but it cannot be imported: " + imported.status().message();
      continue;
    }
    out.events += imported->events;
    out.kernels += imported->kernels;
  }
  const std::string imported =
      std::to_string(out.kernels) + " kernels (" + std::to_string(out.events) + " events)";
  if (out.ok) {
    out.message = "aclprof: " + imported + " imported from " + std::to_string(out.folders.size()) +
                  " PROF folder(s) in " + dir + notes;
  } else {
    out.message = "aclprof: export failed" + failures + "; imported " + imported + notes;
  }
  return out;
}

}  // namespace huoyan
