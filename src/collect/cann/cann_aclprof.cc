// The CANN collector's aclprof mode (see cann_collector.h) and the settings of a "cann:…"
// collector name.

#include <charconv>
#include <chrono>
#include <utility>

#include "src/collect/cann/acl_prof_capture.h"
#include "src/collect/cann/cann_collector.h"

namespace huoyan {

namespace {

bool parse_u64(std::string_view s, uint64_t* out) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// aclprofAicoreMetrics by name (acl_prof.h); a number is taken as is.
bool parse_metrics(std::string_view s, int32_t* out) {
  static constexpr std::pair<std::string_view, int32_t> kNames[] = {
      {"none", aclprof::kAicoreNone},
      {"arithmetic", aclprof::kAicoreArithmeticUtilization},
      {"pipe", aclprof::kAicorePipeUtilization},
      {"memory", aclprof::kAicoreMemoryBandwidth},
  };
  for (const auto& [name, value] : kNames) {
    if (s == name) {
      *out = value;
      return true;
    }
  }
  uint64_t v = 0;
  if (!parse_u64(s, &v) || v > 0xFF) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

}  // namespace

Result<CannOptions> parse_cann_settings(std::string_view settings) {
  CannOptions o;
  bool metrics_set = false;
  size_t begin = 0;
  while (begin < settings.size()) {
    size_t end = settings.find(',', begin);
    if (end == std::string_view::npos) end = settings.size();
    const std::string_view item = settings.substr(begin, end - begin);
    begin = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    auto bad = [&](const char* what) {
      return Status::Error("cann settings: " + std::string(what) + " in '" + std::string(item) +
                           "'");
    };
    if (eq == std::string_view::npos) {
      if (key == "aclprof") {
        o.mode = CannMode::kAclprof;
      } else if (key == "mspti") {
        o.mode = CannMode::kMspti;
      } else {
        return bad("unknown mode (aclprof or mspti)");
      }
    } else if (key == "dir") {
      if (value.empty()) return bad("empty directory");
      o.result_dir = std::string(value);
    } else if (key == "msprof") {
      if (value.empty()) return bad("empty path");
      o.msprof_path = std::string(value);
    } else if (key == "devices") {
      o.devices.clear();
      size_t b = 0;
      while (b <= value.size()) {
        size_t e = value.find('+', b);
        if (e == std::string_view::npos) e = value.size();
        uint64_t id = 0;
        if (!parse_u64(value.substr(b, e - b), &id) || id > 0xFFFFFFFFu) {
          return bad("bad device id");
        }
        o.devices.push_back(static_cast<uint32_t>(id));
        b = e + 1;
      }
    } else if (key == "metrics") {
      if (!parse_metrics(value, &o.aicore_metrics)) {
        return bad("unknown metrics (none, arithmetic, pipe, memory or a number)");
      }
      metrics_set = true;
    } else if (key == "types") {
      if (!parse_u64(value, &o.data_types) || o.data_types == 0) return bad("bad data types");
    } else if (key == "timeout") {
      uint64_t s = 0;
      if (!parse_u64(value, &s) || s == 0 || s > 86400) return bad("bad timeout (seconds)");
      o.export_timeout_ms = static_cast<int64_t>(s) * 1000;
    } else {
      return bad("unknown setting (dir, msprof, devices, metrics, types, timeout)");
    }
  }
  // PMU metrics are only collected with ACL_PROF_AICORE_METRICS in the data types.
  if (metrics_set && o.aicore_metrics != aclprof::kAicoreNone) {
    o.data_types |= aclprof::kAicoreMetrics;
  }
  return o;
}

std::unique_ptr<CannCollector> make_cann_collector(std::string_view settings) {
  auto options = parse_cann_settings(settings);
  if (!options.ok()) {
    auto c = std::make_unique<CannCollector>(CannOptions{});
    c->options_error_ = options.status().message();
    return c;
  }
  return std::make_unique<CannCollector>(std::move(options.value()));
}

Status CannCollector::start_aclprof() {
  AclProfCapture::Settings s;
  s.session.result_dir = options_.result_dir;
  s.session.devices = options_.devices;
  s.session.aicore_metrics = options_.aicore_metrics;
  s.session.data_types = options_.data_types;
  s.ascendcl_library = options_.ascendcl_library;
  s.msprof = options_.msprof_path;
  s.export_timeout = std::chrono::milliseconds(options_.export_timeout_ms);
  auto capture = AclProfCapture::start(s, store_, clocks_);
  if (!capture.ok()) {
    const std::string message = "cann (aclprof): " + capture.status().message();
    set_state("unavailable", message);
    return Status::Error(message);
  }
  capture_ = std::move(capture.value());
  {
    auto w = store_->writer();
    w.set_metadata("aclprof.library", capture_->library_path());
  }
  running_.store(true);
  set_state("running", "aclprof " + capture_->library_path() + " → " + capture_->result_dir() +
                           "; kernels are exported with msprof and imported when the "
                           "collector stops");
  return OkStatus();
}

void CannCollector::stop_aclprof() {
  const AclProfCapture::Outcome out = capture_->stop();
  capture_.reset();
  std::lock_guard<std::mutex> lock(state_mu_);
  events_before_ += out.events;
  state_ = out.ok ? "stopped" : "error";
  message_ = out.message;
}

}  // namespace huoyan
