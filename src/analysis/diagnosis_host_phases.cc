#include "src/analysis/diagnosis_host_phases.h"
#include "src/core/taxonomy.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>

namespace huoyan {
namespace {

// The union of device work as sorted disjoint segments with prefix sums: covered length
// before any time in O(log n).
class Coverage {
 public:
  explicit Coverage(std::vector<std::pair<int64_t, int64_t>>* work) {
    std::sort(work->begin(), work->end());
    for (const auto& [a, b] : *work) {
      if (b <= a) continue;
      if (!starts_.empty() && a <= ends_.back()) {
        ends_.back() = std::max(ends_.back(), b);
      } else {
        starts_.push_back(a);
        ends_.push_back(b);
      }
    }
    prefix_.resize(starts_.size() + 1, 0);
    for (size_t i = 0; i < starts_.size(); ++i) prefix_[i + 1] = prefix_[i] + ends_[i] - starts_[i];
  }
  int64_t overlap(int64_t a, int64_t b) const { return b > a ? before(b) - before(a) : 0; }

 private:
  int64_t before(int64_t x) const {
    const size_t i =
        static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), x) - starts_.begin());
    if (i == 0) return 0;
    return prefix_[i - 1] + std::min(x, ends_[i - 1]) - starts_[i - 1];
  }
  std::vector<int64_t> starts_;
  std::vector<int64_t> ends_;
  std::vector<int64_t> prefix_;
};

}  // namespace

std::string_view host_phase_label(std::string_view name) {
  // Substrings of the phase names of vLLM, SGLang, TGI, MindIE and the reference server.
  static const std::pair<std::string_view, std::string_view> table[] = {
      {"detoken", "output processing"},
      {"process_output", "output processing"},
      {"process_model_output", "output processing"},
      {"postprocess", "output processing"},
      {"deliver", "output processing"},
      {"stream_output", "output processing"},
      {"output_processor", "output processing"},
      {"schedul", "scheduling"},
      {"select_batch", "scheduling"},
      {"get_next_batch", "scheduling"},
      {"prepare", "input preparation"},
      {"build_batch", "input preparation"},
      {"make_inputs", "input preparation"},
      {"sampl", "sampling"},
      {"tokeniz", "tokenization"},
  };
  const std::string n = lower_ascii(name);
  for (const auto& [needle, label] : table) {
    if (n.find(needle) != std::string::npos) return label;
  }
  return "";
}

void compute_host_phases(const HostPhaseInput& in, DiagnosisContext* ctx) {
  const Coverage device(in.device_work);
  // Steps with times, by start, to tell phases inside a step from those between steps.
  std::vector<std::pair<int64_t, int64_t>> steps;
  int64_t step_wall = 0;
  for (const StepFacts& s : *in.steps) {
    if (s.wall() <= 0) continue;
    steps.emplace_back(s.start, s.end);
    step_wall += s.wall();
  }
  std::sort(steps.begin(), steps.end());
  auto in_step = [&](int64_t ts, int64_t end) {
    const int64_t mid = ts + (end - ts) / 2;
    auto it = std::upper_bound(steps.begin(), steps.end(),
                               std::make_pair(mid, std::numeric_limits<int64_t>::max()));
    return it != steps.begin() && std::prev(it)->second > mid;
  };

  // True when device work of the span's step starts inside it.
  auto launches = [&](const HostSpan& s) {
    auto it = in.device_starts->find(s.step);
    if (it == in.device_starts->end()) return false;
    auto first = std::lower_bound(it->second.begin(), it->second.end(), s.ts);
    return first != it->second.end() && *first < s.end;
  };

  struct Acc {
    int64_t ns = 0;
    uint64_t count = 0;
  };
  std::map<StringId, Acc> phases;
  std::map<std::string, int64_t> locks;  // by name: deterministic ties
  int64_t between_steps = 0;
  for (const std::vector<HostSpan>& track : *in.spans) {
    std::vector<HostSpan> spans = track;
    // Parents before their children: by start, the longer first.
    std::sort(spans.begin(), spans.end(), [](const HostSpan& a, const HostSpan& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.end > b.end;
    });
    struct Open {
      int64_t end;
      bool in_phase;  // it or an ancestor is a phase
    };
    std::vector<Open> stack;
    for (const HostSpan& s : spans) {
      while (!stack.empty() && stack.back().end <= s.ts) stack.pop_back();
      const bool inside_phase = !stack.empty() && stack.back().in_phase;
      const int64_t dur = s.end - s.ts;
      bool phase = false;
      if (!inside_phase && dur > 0) {
        const int64_t covered = device.overlap(s.ts, s.end);
        if (s.step != 0 ? !launches(s) : covered * 2 < dur) {
          phase = true;
          Acc& a = phases[s.name];
          a.ns += dur - covered;
          ++a.count;
          if (!in_step(s.ts, s.end)) between_steps += dur - covered;
        }
      }
      if (s.lock && (inside_phase || phase)) {
        ctx->phase_lock_ns += dur;
        ++ctx->phase_lock_waits;
        locks[std::string(in.strings->str(s.name))] += dur;
      }
      if (s.lock_arg_ns > 0 && (inside_phase || phase)) {
        ctx->phase_lock_ns += s.lock_arg_ns;
        ++ctx->phase_lock_waits;
        locks[std::string(in.strings->str(s.name)) + " (lock_wait_ns)"] += s.lock_arg_ns;
      }
      stack.push_back({s.end, inside_phase || phase});
    }
  }
  ctx->host_phases.clear();
  ctx->host_phase_ns = 0;
  for (const auto& [name, a] : phases) {
    HostPhase p;
    p.name = std::string(in.strings->str(name));
    p.label = std::string(host_phase_label(p.name));
    p.ns = a.ns;
    p.count = a.count;
    ctx->host_phase_ns += a.ns;
    ctx->host_phases.push_back(std::move(p));
  }
  std::sort(ctx->host_phases.begin(), ctx->host_phases.end(),
            [](const HostPhase& a, const HostPhase& b) {
              return a.ns != b.ns ? a.ns > b.ns : a.name < b.name;
            });
  ctx->loop_steps = steps.size();
  ctx->loop_ns = steps.empty() ? 0 : step_wall + between_steps;
  int64_t most = -1;
  for (const auto& [name, ns] : locks) {
    if (ns > most) {
      most = ns;
      ctx->phase_lock_name = name;
    }
  }
}

}  // namespace huoyan
