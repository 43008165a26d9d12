#include "src/analysis/rules.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "src/core/time_format.h"

namespace huoyan {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_number_text(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') i = 1;
  bool digits = false;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

}  // namespace

Result<int64_t> parse_duration_text(std::string_view text) {
  const std::string_view t = trim(text);
  size_t split = 0;
  while (split < t.size() && (std::isdigit(static_cast<unsigned char>(t[split])) ||
                              t[split] == '.' || t[split] == '-' || t[split] == '+')) {
    ++split;
  }
  const std::string_view number = t.substr(0, split);
  const std::string_view unit = trim(t.substr(split));
  if (!is_number_text(number)) {
    return Status::Error(
        fmt::format("'{}' is not a duration (expected a number and a unit, "
                    "e.g. 50ms)",
                    text));
  }
  if (number[0] == '-') {
    return Status::Error(fmt::format("'{}': a duration cannot be negative", text));
  }
  int64_t unit_ns = 0;
  if (unit == "ns") {
    unit_ns = 1;
  } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // µs (micro, mu)
    unit_ns = 1000;
  } else if (unit == "ms") {
    unit_ns = 1000000;
  } else if (unit == "s") {
    unit_ns = 1000000000;
  } else if (unit.empty()) {
    return Status::Error(fmt::format("'{}': missing unit (ns, us, ms or s)", text));
  } else {
    return Status::Error(
        fmt::format("'{}': unknown unit '{}' (expected ns, us, ms or s)", text, unit));
  }
  int64_t ns = 0;
  if (!parse_decimal_to_ns(number, unit_ns, &ns)) {
    return Status::Error(fmt::format("'{}': duration out of range", text));
  }
  return ns;
}

Result<double> parse_percent_text(std::string_view text) {
  std::string_view t = trim(text);
  if (!t.empty() && t.back() == '%') t = trim(t.substr(0, t.size() - 1));
  if (!is_number_text(t)) {
    return Status::Error(fmt::format("'{}' is not a percentage (e.g. 5%)", text));
  }
  if (t[0] == '-') return Status::Error(fmt::format("'{}': a percentage cannot be negative", text));
  const double v = std::strtod(std::string(t).c_str(), nullptr);
  if (!std::isfinite(v)) return Status::Error(fmt::format("'{}': out of range", text));
  return v / 100.0;
}

Result<NamePattern> NamePattern::parse(std::string_view text) {
  NamePattern p;
  p.text_ = std::string(text);
  if (text.size() >= 2 && text.front() == '/' && text.back() == '/') {
    const std::string body(text.substr(1, text.size() - 2));
    if (body.empty()) return Status::Error(fmt::format("'{}': empty regular expression", text));
    try {
      p.regex_ = std::make_shared<const std::regex>(body, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::Error(fmt::format("'{}': invalid regular expression ({})", text, e.what()));
    }
  } else if (text.empty()) {
    return Status::Error("empty kernel name");
  }
  return p;
}

bool NamePattern::matches(std::string_view name) const {
  if (regex_ == nullptr) return name == text_;
  return std::regex_search(name.begin(), name.end(), *regex_);
}

// ---------------------------------------------------------------------------------------------
// Rules file. Errors are thrown inside the parser only (never across its API): a ValueError
// from a leaf reader gets the key path prepended by the object walker, which then throws a
// PathError that passes through enclosing objects untouched.

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct ValueError {
  std::string message;
};
struct PathError {
  std::string message;
};

std::string join(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

// Calls `field(key, value)` for every key; keys starting with '_' are comments. Unknown keys
// (field returns false) are errors.
template <typename F>
void for_each_key(element e, const std::string& where, F&& field) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    throw PathError{(where.empty() ? "top level" : where) + ": expected an object"};
  }
  for (auto [key, value] : obj) {
    if (!key.empty() && key[0] == '_') continue;
    bool known = false;
    try {
      known = field(key, value);
    } catch (const ValueError& v) {
      throw PathError{join(where, key) + ": " + v.message};
    }
    if (!known) throw PathError{join(where, key) + ": unknown key (see docs/rules.md)"};
  }
}

template <typename T>
T value_or_throw(Result<T> r) {
  if (!r.ok()) throw ValueError{r.status().message()};
  return std::move(*r);
}

std::string text(element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) throw ValueError{"expected a string"};
  return std::string(s);
}
NamePattern pattern(element e) { return value_or_throw(NamePattern::parse(text(e))); }
int64_t duration(element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) {
    throw ValueError{"expected a duration string with a unit, e.g. \"50ms\""};
  }
  return value_or_throw(parse_duration_text(s));
}
double percent(element e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) throw ValueError{"expected a string like \"5%\""};
  return value_or_throw(parse_percent_text(s));
}
// A share: a number in 0..1 or a percentage string ("50%").
double share(element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return value_or_throw(parse_percent_text(s));
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS) {
    throw ValueError{"expected a fraction (0.5) or a percentage (\"50%\")"};
  }
  if (v < 0 || v > 1) throw ValueError{"a fraction must be within 0..1 (or write \"50%\")"};
  return v;
}
double positive(element e) {
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS || !(v > 0)) {
    throw ValueError{"expected a positive number"};
  }
  return v;
}
int64_t count(element e) {
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS || v < 0) {
    throw ValueError{"expected a non-negative integer"};
  }
  return v;
}
bool boolean(element e) {
  bool v = false;
  if (e.get_bool().get(v) != simdjson::SUCCESS) throw ValueError{"expected true or false"};
  return v;
}
simdjson::dom::array array(element e, const char* what) {
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) throw ValueError{std::string("expected ") + what};
  return a;
}

uint64_t ucount(element e) { return static_cast<uint64_t>(count(e)); }

// The keys of the "diagnosis" object and the DiagnosisConfig field each sets.
bool diagnosis_field(DiagnosisConfig& config, std::string_view key, element value) {
  using D = DiagnosisConfig;
  struct Field {
    std::string_view key;
    void (*set)(D&, element);
  };
  // clang-format off
  static constexpr Field kFields[] = {
      {"min_share", [](D& d, element v) { d.min_share = share(v); }},
      {"dominant_share", [](D& d, element v) { d.dominant_share = share(v); }},
      {"min_saving", [](D& d, element v) { d.min_saving = share(v); }},
      {"group_size_min", [](D& d, element v) { d.group_size_min = count(v); }},
      {"group_size_suggested", [](D& d, element v) { d.group_size_suggested = count(v); }},
      {"quant_param_bytes", [](D& d, element v) { d.quant_param_bytes = positive(v); }},
      {"weight_bits", [](D& d, element v) { d.weight_bits = positive(v); }},
      {"bandwidth_low", [](D& d, element v) { d.bandwidth_low = share(v); }},
      {"bandwidth_high", [](D& d, element v) { d.bandwidth_high = share(v); }},
      {"block_size_max", [](D& d, element v) { d.block_size_max = count(v); }},
      {"block_size_suggested", [](D& d, element v) { d.block_size_suggested = count(v); }},
      {"block_overhead_max", [](D& d, element v) { d.block_overhead_max = share(v); }},
      {"host_share", [](D& d, element v) { d.host_share = share(v); }},
      {"idle_share", [](D& d, element v) { d.idle_share = share(v); }},
      {"lock_share", [](D& d, element v) { d.lock_share = share(v); }},
      {"lock_min_waits", [](D& d, element v) { d.lock_min_waits = ucount(v); }},
      {"launch_short", [](D& d, element v) { d.launch_short_ns = duration(v); }},
      {"launch_short_fraction", [](D& d, element v) { d.launch_short_fraction = share(v); }},
      {"launch_min_kernels", [](D& d, element v) { d.launch_min_kernels = ucount(v); }},
      {"launch_gap_max", [](D& d, element v) { d.launch_gap_max_ns = duration(v); }},
      {"tail_ratio", [](D& d, element v) { d.tail_ratio = positive(v); }},
      {"tail_min_count", [](D& d, element v) { d.tail_min_count = ucount(v); }},
      {"imbalance", [](D& d, element v) { d.imbalance = share(v); }},
      {"straggler_ratio", [](D& d, element v) { d.straggler_ratio = positive(v); }},
      {"straggler_steps", [](D& d, element v) { d.straggler_steps = share(v); }},
      {"straggler_min_steps", [](D& d, element v) { d.straggler_min_steps = ucount(v); }},
      {"comm_share", [](D& d, element v) { d.comm_share = share(v); }},
      {"select_batch", [](D& d, element v) { d.select_batch = text(v); }},
      {"queue_wait", [](D& d, element v) { d.queue_wait = text(v); }},
  };
  // clang-format on
  for (const Field& f : kFields) {
    if (f.key == key) {
      f.set(config, value);
      return true;
    }
  }
  return false;
}

bool regression_field(AnalysisRules& r, std::string_view k, element v) {
  if (k == "min_share") {
    r.regression_min_share = share(v);
  } else if (k == "min_samples") {
    r.regression_min_samples = static_cast<uint64_t>(count(v));
  } else if (k == "fail_on_vanished") {
    r.fail_on_vanished = boolean(v);
  } else if (k == "confidence") {
    r.confidence = share(v);
    if (r.confidence <= 0.5 || r.confidence >= 1) {
      throw ValueError{"confidence must be above 50% and below 100%"};
    }
  } else if (k == "resamples") {
    const int64_t n = count(v);
    if (n < 100 || n > 100000) throw ValueError{"resamples must be within 100..100000"};
    r.bootstrap_resamples = static_cast<uint32_t>(n);
  } else if (k == "seed") {
    r.bootstrap_seed = static_cast<uint64_t>(count(v));
  } else {
    return false;
  }
  return true;
}

KernelBudget kernel_budget(element e, const std::string& where) {
  KernelBudget b;
  bool has_name = false;
  for_each_key(e, where, [&](std::string_view k, element x) {
    if (k == "name") {
      b.pattern = pattern(x);
      has_name = true;
    } else if (k == "max") {
      b.max_ns = duration(x);
    } else if (k == "p99") {
      b.p99_ns = duration(x);
    } else if (k == "total") {
      b.total_ns = duration(x);
    } else if (k == "share") {
      b.max_share = share(x);
    } else if (k == "expect") {
      b.expect = boolean(x);
    } else {
      return false;
    }
    return true;
  });
  if (!has_name) throw PathError{where + ": missing \"name\""};
  return b;
}

void device_entry(element e, const std::string& where, std::vector<DeviceSpec>* devices) {
  DeviceSpec spec;
  spec.source = "rules file";
  for_each_key(e, where, [&](std::string_view k, element x) {
    if (k == "name") {
      spec.name = text(x);
    } else if (k == "bandwidth_gbps") {
      spec.bandwidth_gbps = positive(x);
    } else if (k == "tflops") {
      spec.tflops = positive(x);
    } else {
      return false;
    }
    return true;
  });
  if (spec.name.empty() || spec.bandwidth_gbps <= 0) {
    throw PathError{where + ": needs \"name\" and \"bandwidth_gbps\""};
  }
  for (auto& s : *devices) {
    if (s.name == spec.name) {  // same name: replaces the built-in entry
      s = spec;
      return;
    }
  }
  devices->push_back(spec);
}

void parse_root(element root, AnalysisRules& r) {
  for_each_key(root, "", [&](std::string_view key, element v) {
    if (key == "expect") {
      for (element e : array(v, "an array of kernel names")) r.expect.push_back(pattern(e));
    } else if (key == "threshold") {
      r.threshold_ns = duration(v);
    } else if (key == "max_regression") {
      r.max_regression = percent(v);
    } else if (key == "device") {
      r.diagnosis.device = text(v);
    } else if (key == "kernels") {
      size_t i = 0;
      for (element e : array(v, "an array of {\"name\": …, budgets…}")) {
        r.kernels.push_back(kernel_budget(e, fmt::format("kernels[{}]", i++)));
      }
    } else if (key == "regression") {
      for_each_key(v, "regression",
                   [&](std::string_view k, element x) { return regression_field(r, k, x); });
    } else if (key == "diagnosis") {
      for_each_key(v, "diagnosis", [&](std::string_view k, element x) {
        return diagnosis_field(r.diagnosis, k, x);
      });
    } else if (key == "devices") {
      size_t i = 0;
      for (element e : array(v, "an array of {\"name\",\"bandwidth_gbps\",\"tflops\"}")) {
        device_entry(e, fmt::format("devices[{}]", i++), &r.diagnosis.devices);
      }
    } else {
      return false;
    }
    return true;
  });
}

}  // namespace

Status parse_rules_json(std::string_view json, std::string_view source, AnalysisRules* rules) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return Status::Error(
        fmt::format("{}: not valid JSON ({})", source, simdjson::error_message(err)));
  }
  AnalysisRules parsed = *rules;  // all or nothing: a failed parse leaves `rules` unchanged
  try {
    parse_root(root, parsed);
  } catch (const PathError& e) {
    return Status::Error(fmt::format("{}: {}", source, e.message));
  }
  *rules = std::move(parsed);
  return OkStatus();
}

Status load_rules_file(const std::string& path, AnalysisRules* rules) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("{}: cannot open rules file", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_rules_json(buf.str(), path, rules);
}

}  // namespace huoyan
