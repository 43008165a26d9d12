// The compiled-out API, selected by defining HUOYAN_DISABLE before including huoyan.h.
//
// Every macro expands to nothing and every function is an inline no-op, so a program built this
// way needs no huoyan symbol (it need not link the library at all). The declarations live in an
// inline namespace of their own: a program may mix compiled-out and instrumented translation
// units without two definitions of one name.
#pragma once

namespace huoyan {
inline namespace disabled {

class ProfileSnapshot {
 public:
  size_t event_count() const { return 0; }
  const std::vector<RequestTotals>& requests() const { return requests_; }
  const RequestTotals* request(std::string_view) const { return nullptr; }
  bool write_chrome_json(const std::string&, std::string* error = nullptr) const {
    if (error != nullptr) *error = "huoyan was compiled out (HUOYAN_DISABLE)";
    return false;
  }
  std::string chrome_json() const { return {}; }

 private:
  std::vector<RequestTotals> requests_;
};

class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {}) : options_(std::move(options)) {}
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  bool start(std::string* error = nullptr) {
    if (error != nullptr) *error = "huoyan was compiled out (HUOYAN_DISABLE)";
    return false;
  }
  void stop() {}
  bool running() const { return false; }
  ProfileSnapshot snapshot(const SnapshotOptions& = {}) { return {}; }
  ProfilerStats stats() const { return {}; }
  const ProfilerOptions& options() const { return options_; }
  static bool set_global(Profiler*) { return true; }
  static Profiler* global() { return nullptr; }

 private:
  ProfilerOptions options_;
};

class StepScope {
 public:
  explicit StepScope(std::initializer_list<StepEntry>) {}
  explicit StepScope(std::span<const StepEntry>) {}
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;
  uint64_t id() const { return 0; }
};

inline int64_t now_ns() { return 0; }
inline void set_thread_name(std::string_view) {}
inline uint64_t current_step() { return 0; }
inline void request_arrival(std::string_view, uint64_t) {}
inline void request_first_token(std::string_view) {}
inline void request_finish(std::string_view, uint64_t) {}
inline void record_request_span(std::string_view, std::string_view, int64_t, int64_t) {}
inline void record_kernel(const KernelRecord&) {}

class SpanName {
 public:
  explicit SpanName(std::string_view) {}
  uint32_t id() const { return 0; }
};
inline void begin_span(const SpanName&) {}
inline void end_span() {}

}  // namespace disabled

}  // namespace huoyan

#define HUOYAN_SCOPE(name) static_cast<void>(0)
#define HUOYAN_SCOPE_ATTRS(name, ...) static_cast<void>(0)
#define HUOYAN_REQUEST_SCOPE(name, request_id) static_cast<void>(0)
#define HUOYAN_COUNTER(name, value) static_cast<void>(0)
#define HUOYAN_INSTANT(name) static_cast<void>(0)
