// The Ascend device collector. Two in-process channels, both loaded with dlopen so one huoyan
// binary runs with or without CANN installed (a missing library is a clear start() error and
// the profiler keeps running host-only):
//
//  - msPTI (libmspti.so, CANN 8.0.RC3+), the main path: CUPTI-like activity buffers with
//    kernels, memcpy/memset, API calls, markers (mstx), communication ops and external
//    correlation. Kernels go to device_track(kNpu, deviceId, streamId) and carry the step that
//    launched them (on_step_begin/end push/pop a CUSTOM0 external correlation id). Record times
//    are CLOCK_REALTIME ns, mapped through ClockSync domain "mspti".
//    Library: CannOptions::mspti_library, else $HUOYAN_MSPTI_LIBRARY (the only candidate when
//    set), else $ASCEND_TOOLKIT_HOME/lib64, $ASCEND_HOME_PATH/lib64, then the loader's path; an
//    already loaded (e.g. LD_PRELOADed) copy is preferred.
//
//  - Model subscription (aclprofModelSubscribe in libascendcl.so / libmsprofiler.so) for
//    graph-mode models loaded with aclmdlLoad*, whose ops msPTI may not see: subscribe_model()
//    after loading a model. Ops arrive as fixed-size records through a pipe read by one thread
//    per model; they carry no stream and no correlation, so they go to a per-model track on the
//    device with step 0. Their times are device system-counter ns, which no public API maps to
//    host time: ClockSync domain "acl_subscribe" is used if something set it, else estimated
//    from delivery (see acl_subscriber.h). Library: CannOptions::ascendcl_library, else
//    $HUOYAN_ASCENDCL_LIBRARY, else the toolkit's lib64, then the loader's path.
//
// start() succeeds when msPTI starts, or — when it cannot — when libascendcl loads (model
// subscription only; state().message says why msPTI is off).
//
// Mode aclprof (CannOptions::mode, or collector name "cann:aclprof,…"): instead of the two
// channels above, an ACL profiling collection (aclprofInit/Start in libascendcl) writes raw
// data to PROF_* folders; stop() runs `msprof --export=on` on them and imports the result
// (acl_prof_capture.h), so kernels arrive only when the collector stops and carry the step
// whose thread launched them. For CANN releases or devices without msPTI. A missing msprof or
// a failed export leaves state "error" with the folder and the commands to finish by hand.
//
// Threading: start/stop/flush/subscribe from any one controlling thread; on_step_begin/end from
// application threads; buffers complete on msPTI's threads. There is at most one msPTI collector
// per process (msPTI callbacks carry no user data). Do not call flush()/stop() while holding a
// TraceStore::Writer: buffer processing appends to the store.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/collect/cann/mspti_records.h"
#include "src/collect/collector.h"
#include "src/collect/cupti/activity_sink.h"
#include "src/collect/cupti/dynamic_library.h"

namespace huoyan {

class AclModelSubscriber;
class AclProfCapture;

enum class CannMode { kMspti, kAclprof };

struct CannOptions {
  CannMode mode = CannMode::kMspti;
  std::string mspti_library;     // explicit libmspti.so path; empty: search
  std::string ascendcl_library;  // explicit libascendcl.so path; empty: search
  bool use_mspti = true;
  size_t buffer_bytes = size_t{4} << 20;  // per activity buffer
  size_t max_buffers = 32;
  bool api = true;            // MSPTI_ACTIVITY_KIND_API: also lets steps resolve without waiting
  bool markers = true;        // mstx markers/ranges
  bool memory_ops = true;     // memcpy/memset
  bool communication = true;  // COMMUNICATION (or HCCL on older msPTI)
  size_t max_correlations = size_t{1} << 18;
  size_t max_pending = size_t{1} << 14;
  size_t max_open_markers = size_t{1} << 14;  // range starts waiting for their end
  int64_t subscription_grace_ms = 2000;       // wait for the library to close a model's pipe

  // aclprof mode.
  std::string result_dir;         // aclprofInit path; empty: $TMPDIR/huoyan-aclprof-<pid>-<s>
  std::string msprof_path;        // empty: $ASCEND_TOOLKIT_HOME/…/msprof, then $PATH
  std::vector<uint32_t> devices;  // empty: device 0
  int32_t aicore_metrics = 0xFF;  // aclprofAicoreMetrics; 0xFF (ACL_AICORE_NONE): no PMU data
  uint64_t data_types = 0x0003;   // ACL_PROF_ACL_API | ACL_PROF_TASK_TIME (acl_prof_api.h)
  int64_t export_timeout_ms = 600000;
};

// Parses the settings of a collector name "cann:<settings>": comma-separated items
//   aclprof | mspti          the mode
//   dir=<path>               result directory (aclprof)
//   msprof=<path>            the msprof program (aclprof)
//   devices=<id>[+<id>…]     devices to collect (aclprof), e.g. devices=0+1
//   metrics=<name|number>    AI Core PMU metrics: none, arithmetic, pipe, memory (aclprof)
//   types=<number>           aclprof data type flags, e.g. types=0x0821 (aclprof)
//   timeout=<seconds>        msprof export timeout (aclprof)
// Empty settings give the defaults.
Result<CannOptions> parse_cann_settings(std::string_view settings);

class CannCollector final : public Collector {
 public:
  explicit CannCollector(CannOptions options = {});
  ~CannCollector() override;

  std::string_view name() const override { return "cann"; }
  Status start(const CollectorContext& context) override;
  void stop() override;
  void flush() override;
  void on_step_begin(uint64_t step) override;
  void on_step_end(uint64_t step) override;
  CollectorState state() const override;

  // Subscribes to per-op timing of a graph-mode model (after aclmdlLoad*, before it executes;
  // one subscription per model). `device_id` is the device the model runs on: subscription
  // records do not say. Requires a running collector. stop() unsubscribes every model.
  Status subscribe_model(uint32_t model_id, int32_t device_id = 0);
  Status unsubscribe_model(uint32_t model_id);

 private:
  struct Mspti;        // resolved entry points
  struct OpenMarker {  // a marker range start waiting for its end
    int64_t ts = 0;
    StringId name = 0;
    StringId domain = 0;
    TrackRef track;
  };
  friend void mspti_buffer_completed(uint8_t* buffer, size_t size, size_t valid);
  friend std::unique_ptr<CannCollector> make_cann_collector(std::string_view settings);

  Status load_mspti();
  Status start_mspti();
  void stop_mspti();
  Status load_acl();
  void process_buffer(uint8_t* buffer, size_t valid);  // msPTI thread, process lock held
  void convert_kernel(const mspti::Kernel& k);
  void convert_api(const mspti::Api& a);
  void convert_memcpy(const mspti::Memcpy& m);
  void convert_memset(const mspti::Memset& m);
  void convert_marker(const mspti::Marker& m);
  void convert_communication(const mspti::Communication& c);
  void convert_hccl(const mspti::Hccl& h);
  bool bad_times(uint64_t start, uint64_t end);
  void collect_dropped();
  void set_state(std::string state, std::string message);

  Status start_aclprof();
  void stop_aclprof();

  const CannOptions options_;
  std::string options_error_;  // from make_cann_collector(settings): start() reports it
  std::unique_ptr<AclProfCapture> capture_;
  DynamicLibrary mspti_library_;
  std::unique_ptr<Mspti> mspti_;
  std::string mspti_notes_;  // msPTI kinds that could not be enabled
  TraceStore* store_ = nullptr;
  ClockSync* clocks_ = nullptr;
  ClockSync own_clocks_;
  int64_t clock_offset_ = 0;  // mspti (CLOCK_REALTIME) -> store
  std::unique_ptr<ActivitySink> sink_;
  std::unique_ptr<AclModelSubscriber> acl_;
  std::vector<mspti::ActivityKind> enabled_;
  void* subscriber_ = nullptr;              // msptiSubscriberHandle
  std::atomic<bool> mspti_running_{false};  // read by on_step_begin/end on app threads
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> dropped_{0};
  uint64_t events_before_ = 0;

  // Interned names, set at start.
  StringId cat_kernel_ = 0, cat_memcpy_ = 0, cat_memset_ = 0, cat_api_ = 0, cat_marker_ = 0,
           cat_comm_ = 0;
  StringId k_device_ = 0, k_stream_ = 0, k_correlation_ = 0, k_type_ = 0, k_bytes_ = 0,
           k_copy_kind_ = 0, k_value_ = 0, k_async_ = 0, k_domain_ = 0, k_bandwidth_ = 0,
           k_comm_ = 0, k_algorithm_ = 0, k_count_ = 0;
  // Marker ranges by (id, source), touched only while processing a buffer; bounded.
  std::unordered_map<uint64_t, OpenMarker> open_markers_;
  std::deque<uint64_t> marker_order_;

  mutable std::mutex state_mu_;
  std::string state_ = "stopped";
  std::string message_;
};

std::unique_ptr<CannCollector> make_cann_collector(const CannOptions& options = {});
// From a collector name's settings (parse_cann_settings); invalid settings give a collector
// whose start() fails with the parse error.
std::unique_ptr<CannCollector> make_cann_collector(std::string_view settings);

}  // namespace huoyan
