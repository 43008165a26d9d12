// The CANN collector's aclprof mode against the libascendcl test double (collection API) and
// the fake `msprof` (tests/doubles/msprof_double.cc), which "exports" by copying a real msprof
// output folder (../shared/testdata/real) into the PROF folder the double wrote.
#include <gtest/gtest.h>

#include "src/collect/cann/cann_collector.h"

#if defined(HUOYAN_DOUBLE_ASCENDCL) && defined(HUOYAN_DOUBLE_MSPROF)

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "huoyan/huoyan.h"
#include "src/collect/cann/acl_prof_api.h"
#include "src/collect/cann/msprof_import.h"
#include "src/readers/sniff.h"
#include "tests/doubles/ascendcl_double.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

// A real msprof export, old layout (device_0/timeline/*.json; SOURCES.md).
const fs::path kSample = fs::path(HUOYAN_TESTDATA_REAL) /
                         "ascend/mindinsight/tests/utils/resource/profiler/"
                         "PROF_000001_20230818142704322_COJGGGCANRMICFBC";

// A folder of this process's own: ctest runs the tests of this file in parallel processes.
fs::path scratch() {
  return fs::path(::testing::TempDir()) / ("huoyan_aclprof_" + std::to_string(::getpid()));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = scratch() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

uint64_t count_kind(const TraceStore& store, EventKind kind) {
  uint64_t n = 0;
  store.snapshot().for_each([&](const EventView& v) { n += v->kind == kind; });
  return n;
}

// Sets an environment variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
      had_ = true;
    }
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

class CannAclprofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    void* a = dlopen(HUOYAN_DOUBLE_ASCENDCL, RTLD_NOW);
    ASSERT_NE(a, nullptr) << dlerror();
    auto af = reinterpret_cast<HuoyanAclDoubleControlFn>(dlsym(a, "huoyan_acl_double_control"));
    ASSERT_NE(af, nullptr);
    acl_ = af();
    acl_->reset();
    dir_ = fresh_dir("aclprof_result");
    msprof_log_ = scratch() / "msprof_double.log";
    fs::remove(msprof_log_);
    context_.store = &store_;
    context_.clocks = &clocks_;
  }
  void TearDown() override {
    if (acl_ != nullptr) acl_->reset();
  }

  CannOptions aclprof_options() const {
    CannOptions o;
    o.mode = CannMode::kAclprof;
    o.result_dir = dir_.string();
    o.msprof_path = HUOYAN_DOUBLE_MSPROF;
    o.export_timeout_ms = 20000;
    return o;
  }
  std::string acl_log() const {
    char buf[4096];
    acl_->collect_log(buf, sizeof buf);
    return buf;
  }
  std::string prof_folder() const {
    char buf[4096];
    acl_->last_prof_folder(buf, sizeof buf);
    return buf;
  }

  const HuoyanAclDoubleControl* acl_ = nullptr;
  ScopedEnv library_{"HUOYAN_ASCENDCL_LIBRARY", HUOYAN_DOUBLE_ASCENDCL};
  ScopedEnv sample_{"HUOYAN_MSPROF_DOUBLE_SAMPLE", kSample.c_str()};
  ScopedEnv mode_{"HUOYAN_MSPROF_DOUBLE_MODE", nullptr};
  fs::path dir_;
  fs::path msprof_log_;
  ScopedEnv log_{"HUOYAN_MSPROF_DOUBLE_LOG", (scratch() / "msprof_double.log").c_str()};
  TraceStore store_;
  ClockSync clocks_;
  CollectorContext context_;
};

TEST_F(CannAclprofTest, CollectsThenExportsWithMsprofAndImportsTheKernels) {
  CannOptions o = aclprof_options();
  o.devices = {0, 3};
  o.aicore_metrics = aclprof::kAicorePipeUtilization;
  o.data_types = aclprof::kAclApi | aclprof::kTaskTime | aclprof::kAicoreMetrics;
  auto c = make_cann_collector(o);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  EXPECT_EQ(c->state().state, "running");
  EXPECT_TRUE(contains(c->state().message, dir_.string())) << c->state().message;
  EXPECT_EQ(acl_log(), "aclprofInit " + dir_.string() +
                           "\naclprofCreateConfig devices=0+3 metrics=1 events=null types=0x7\n"
                           "aclprofStart 1\n");
  EXPECT_TRUE(prof_folder().empty());  // raw data only appears at aclprofStop
  c->stop();

  EXPECT_EQ(acl_log(),
            "aclprofInit " + dir_.string() +
                "\naclprofCreateConfig devices=0+3 metrics=1 events=null types=0x7\n"
                "aclprofStart 1\naclprofStop 1\naclprofDestroyConfig 1\naclprofFinalize\n");
  const std::string prof = prof_folder();
  ASSERT_FALSE(prof.empty());
  EXPECT_EQ(fs::path(prof).parent_path(), dir_);
  EXPECT_EQ(read_text(msprof_log_), "--export=on --output=" + prof + "\n");

  // The same files read by the readers directly: every event, every kernel.
  TraceStore reference;
  auto r = read_input(kSample.string(), reference, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const uint64_t kernels = count_kind(reference, EventKind::kKernel);
  ASSERT_GT(kernels, 0u);
  EXPECT_EQ(count_kind(store_, EventKind::kKernel), kernels);
  EXPECT_EQ(store_.snapshot().size(), reference.snapshot().size());
  const CollectorState st = c->state();
  EXPECT_EQ(st.state, "stopped") << st.message;
  EXPECT_EQ(st.events, reference.snapshot().size());
  EXPECT_TRUE(contains(st.message, std::to_string(kernels) + " kernels")) << st.message;

  // Times move by the CLOCK_REALTIME → store offset; kernels sit on NPU stream rows.
  ClockSync::Domain d;
  ASSERT_TRUE(clocks_.get("msprof", &d));
  EXPECT_LE(std::llabs(d.offset_ns - (monotonic_ns() - realtime_ns())), 1000000);
  const Snapshot got = store_.snapshot();
  const Snapshot want = reference.snapshot();
  bool checked = false;
  for (EventSeq i = 0; i < got.size() && !checked; ++i) {
    const EventView g = got.at(got.begin_seq() + i);
    const EventView w = want.at(want.begin_seq() + i);
    if (g->kind != EventKind::kKernel) continue;
    EXPECT_EQ(g->ts, w->ts + d.offset_ns);
    EXPECT_EQ(g->dur, w->dur);
    EXPECT_EQ(got.str(g->name), want.str(w->name));
    EXPECT_EQ(got.process_of(g->track).device_type, DeviceType::kNpu);
    EXPECT_EQ(got.track_label(g->track),
              "NPU 0 / Stream " + std::to_string(want.track(w->track).tid));
    checked = true;
  }
  EXPECT_TRUE(checked);
  // The raw folder stays (it is the user's data).
  EXPECT_TRUE(fs::is_directory(fs::path(prof) / "host"));
}

TEST_F(CannAclprofTest, MissingLibraryIsAClearErrorAndHarmless) {
  ScopedEnv missing("HUOYAN_ASCENDCL_LIBRARY", "/nonexistent/libascendcl.so");
  auto c = make_cann_collector(aclprof_options());
  const Status st = c->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "libascendcl.so not found")) << st.message();
  EXPECT_TRUE(contains(st.message(), "/nonexistent/libascendcl.so")) << st.message();
  EXPECT_EQ(c->state().state, "unavailable");
  EXPECT_EQ(acl_log(), "");
  c->stop();  // harmless
}

TEST_F(CannAclprofTest, MissingMsprofLeavesTheFolderAndTheCommandsToFinish) {
  const fs::path empty = fresh_dir("no_msprof_here");
  ScopedEnv path("PATH", empty.c_str());
  ScopedEnv toolkit("ASCEND_TOOLKIT_HOME", empty.c_str());
  ScopedEnv home("ASCEND_HOME_PATH", nullptr);
  CannOptions o = aclprof_options();
  o.msprof_path.clear();
  auto c = make_cann_collector(o);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  c->stop();
  const std::string prof = prof_folder();
  ASSERT_FALSE(prof.empty());
  const CollectorState st = c->state();
  EXPECT_EQ(st.state, "error");
  EXPECT_TRUE(contains(st.message, "msprof not found")) << st.message;
  EXPECT_TRUE(contains(st.message, (empty / "tools/profiler/bin/msprof").string())) << st.message;
  EXPECT_TRUE(contains(st.message, "`msprof --export=on --output=" + prof + "`")) << st.message;
  EXPECT_TRUE(contains(st.message, "`huoyan convert " + prof + "`")) << st.message;
  EXPECT_EQ(st.events, 0u);
  EXPECT_EQ(store_.snapshot().size(), 0u);
  EXPECT_FALSE(fs::exists(msprof_log_));
  EXPECT_TRUE(fs::is_directory(prof));
}

TEST_F(CannAclprofTest, MsprofFoundUnderTheToolkit) {
  const fs::path toolkit = fresh_dir("toolkit");
  fs::create_directories(toolkit / "tools/profiler/bin");
  fs::copy_file(HUOYAN_DOUBLE_MSPROF, toolkit / "tools/profiler/bin/msprof");
  ScopedEnv home("ASCEND_TOOLKIT_HOME", toolkit.c_str());
  CannOptions o = aclprof_options();
  o.msprof_path.clear();
  auto c = make_cann_collector(o);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  c->stop();
  EXPECT_EQ(c->state().state, "stopped") << c->state().message;
  EXPECT_GT(count_kind(store_, EventKind::kKernel), 0u);
}

TEST_F(CannAclprofTest, MsprofFailureCarriesItsOutput) {
  ScopedEnv fail("HUOYAN_MSPROF_DOUBLE_MODE", "fail");
  auto c = make_cann_collector(aclprof_options());
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  c->stop();
  const std::string prof = prof_folder();
  const CollectorState st = c->state();
  EXPECT_EQ(st.state, "error");
  EXPECT_TRUE(contains(st.message, "aclprof: export failed; ")) << st.message;
  EXPECT_TRUE(contains(st.message, "exited with code 1")) << st.message;
  EXPECT_EQ(st.message.find('\n'), std::string::npos) << st.message;
  EXPECT_TRUE(contains(st.message, "Analysis failed: the data in " + prof + " is incomplete"))
      << st.message;
  EXPECT_TRUE(contains(st.message, "`huoyan convert " + prof + "`")) << st.message;
  EXPECT_EQ(store_.snapshot().size(), 0u);
}

TEST_F(CannAclprofTest, HangingMsprofIsStoppedAtTheTimeout) {
  ScopedEnv hang("HUOYAN_MSPROF_DOUBLE_MODE", "hang");
  CannOptions o = aclprof_options();
  o.export_timeout_ms = 300;
  auto c = make_cann_collector(o);
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const auto t0 = std::chrono::steady_clock::now();
  c->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(10));
  const CollectorState st = c->state();
  EXPECT_EQ(st.state, "error");
  EXPECT_TRUE(contains(st.message, "did not finish within 300 ms and was stopped")) << st.message;
  EXPECT_TRUE(contains(st.message, "Start exporting data in")) << st.message;  // its output
  // The whole process group went: no msprof double (nor the child it forked) is left alive.
  auto alive = [] {
    const fs::path exe = fs::canonical(HUOYAN_DOUBLE_MSPROF);
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code e2;
      if (fs::read_symlink(it->path() / "exe", e2) == exe) return true;
    }
    return false;
  };
  for (int i = 0; i < 100 && alive(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(alive());
}

TEST_F(CannAclprofTest, FailedStartUndoesWhatSucceeded) {
  acl_->set_collect_error("aclprofStart", 100000);
  auto c = make_cann_collector(aclprof_options());
  const Status st = c->start(context_);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(),
                       "aclprofStart failed: ACL error 100000 "
                       "(ACL_ERROR_INVALID_PARAM)"))
      << st.message();
  EXPECT_TRUE(contains(acl_log(), "aclprofStart 1\naclprofDestroyConfig 1\naclprofFinalize\n"))
      << acl_log();
  EXPECT_EQ(c->state().state, "unavailable");
}

TEST_F(CannAclprofTest, NoRawDataIsSaid) {
  acl_->set_write_prof(0);
  auto c = make_cann_collector(aclprof_options());
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  c->stop();
  EXPECT_EQ(c->state().state, "error");
  EXPECT_TRUE(contains(c->state().message, "no PROF_* folder appeared in " + dir_.string()))
      << c->state().message;
  EXPECT_FALSE(fs::exists(msprof_log_));
}

TEST_F(CannAclprofTest, ModelSubscriptionIsRefusedWhileCollecting) {
  auto c = make_cann_collector(aclprof_options());
  ASSERT_TRUE(c->start(context_).ok()) << c->state().message;
  const Status st = c->subscribe_model(1);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "cannot run during an aclprof collection")) << st.message();
  c->stop();
}

// The public API: the mode and its settings ride on the collector's name.
TEST_F(CannAclprofTest, ProfilerSelectsTheModeByCollectorName) {
  const std::string name = "cann:aclprof,dir=" + dir_.string() + ",msprof=" + HUOYAN_DOUBLE_MSPROF +
                           ",devices=2,types=0x802";
  Profiler profiler({.collectors = {"host", name}});
  std::string error;
  ASSERT_TRUE(profiler.start(&error)) << error;
  profiler.stop();
  EXPECT_TRUE(contains(acl_log(),
                       "aclprofCreateConfig devices=2 metrics=255 events=null "
                       "types=0x802\n"))
      << acl_log();
  bool seen = false;
  for (const CollectorStatus& s : profiler.stats().collectors) {
    if (s.name != "cann") continue;
    seen = true;
    EXPECT_EQ(s.state, "stopped") << s.message;
    EXPECT_TRUE(contains(s.message, "kernels")) << s.message;
    EXPECT_GT(s.events, 0u);
  }
  EXPECT_TRUE(seen);
}

// A current-layout export (mindstudio_profiler_output/msprof_*.json, events in the form of the
// CANN 8.x sample in the research notes): a Node@launch call on host thread 2654066 and the
// MIX_AIC task it launched share connection_id 33; task 34 has no launch.
void write_current_layout(const fs::path& prof) {
  fs::create_directories(prof / "mindstudio_profiler_output");
  std::ofstream(prof / "mindstudio_profiler_output/msprof_20260605161734.json")
      << R"([{"args":{"name":"CANN"},"name":"process_name","ph":"M","pid":2717763839,"tid":0},
{"args":{"Mode":"launch","Thread Id":2654066,"connection_id":33,"id":"0","item_id":"main_kernel","level":"node"},"dur":140.25,"name":"Node@launch","ph":"X","pid":2717763839,"tid":2654066,"ts":"1780676244312933.930"},
{"cat":"HostToDevice","id":"141733920768","name":"HostToDevice141733920768","ph":"s","pid":2717763839,"tid":2654066,"ts":"1780676244312933.930"},
{"args":{"Batch Id":0,"Model Id":4294967295,"Physic Stream Id":1756,"Subtask Id":0,"Task Id":0,"Task Type":"MIX_AIC","connection_id":33},"dur":87139.38,"name":"main_kernel","ph":"X","pid":2717764000,"tid":1756,"ts":"1780676244313289.000"},
{"bp":"e","cat":"HostToDevice","id":"141733920768","name":"HostToDevice141733920768","ph":"f","pid":2717764000,"tid":1756,"ts":"1780676244313289.000"},
{"args":{"Batch Id":0,"Model Id":4294967295,"Physic Stream Id":1756,"Subtask Id":0,"Task Id":1,"Task Type":"MIX_AIC","connection_id":34},"dur":86808.42,"name":"main_kernel","ph":"X","pid":2717764000,"tid":1756,"ts":"1780676244407387.120"},
{"args":{"name":"Ascend Hardware"},"name":"process_name","ph":"M","pid":2717764000,"tid":0},
{"args":{"labels":"NPU 0"},"name":"process_labels","ph":"M","pid":2717764000,"tid":0}]
)";
}

TEST(CannMsprofImport, KernelsTakeTheStepOfTheThreadThatLaunchedThem) {
  const fs::path prof = fresh_dir("PROF_000001_20260605161708478_FRJKORBPFMHQMGLA");
  write_current_layout(prof);
  TraceStore store;
  const int64_t offset = -1780676244000000000;  // epoch ns → small store times
  const int64_t launch = 1780676244312933930 + offset;
  {
    auto w = store.writer();
    Step step;
    step.id = 42;
    step.start = launch - 1000;
    step.end = launch + 1000;
    step.track = w.track(77, 2654066);  // the launching thread, as the host collector records it
    w.add_step(step);
    Step other = step;  // same time, another thread: not the launcher
    other.id = 43;
    other.track = w.track(77, 1);
    w.add_step(other);
  }
  auto r = import_msprof_folder(prof.string(), store, offset);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kernels, 2u);
  EXPECT_EQ(r->stepped, 1u);
  const Snapshot snap = store.snapshot();
  int kernels = 0;
  snap.for_each([&](const EventView& v) {
    if (v->kind != EventKind::kKernel) return;
    ++kernels;
    EXPECT_EQ(snap.track_label(v->track), "NPU 0 / Stream 1756");
    if (v->id == 33) {
      EXPECT_EQ(v->step, 42u);
      EXPECT_EQ(v->ts, 1780676244313289000 + offset);
      EXPECT_EQ(v->dur, 87139380);
    } else {
      EXPECT_EQ(v->step, 0u) << v->id;
    }
  });
  EXPECT_EQ(kernels, 2);
}

TEST(CannSettings, ParsesEveryItem) {
  auto o = parse_cann_settings(
      "aclprof,dir=/d,msprof=/m/msprof,devices=0+7,metrics=pipe,"
      "types=0x0803,timeout=90");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->mode, CannMode::kAclprof);
  EXPECT_EQ(o->result_dir, "/d");
  EXPECT_EQ(o->msprof_path, "/m/msprof");
  EXPECT_EQ(o->devices, (std::vector<uint32_t>{0, 7}));
  EXPECT_EQ(o->aicore_metrics, aclprof::kAicorePipeUtilization);
  EXPECT_EQ(o->data_types, 0x0803u | aclprof::kAicoreMetrics);  // metrics need the flag
  EXPECT_EQ(o->export_timeout_ms, 90000);
  auto d = parse_cann_settings("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, CannMode::kMspti);
  EXPECT_EQ(d->data_types, aclprof::kAclApi | aclprof::kTaskTime);
}

TEST(CannSettings, RejectsWhatItDoesNotKnow) {
  for (const char* bad : {"aclprof,colour=red", "nvtx", "devices=0+x", "metrics=fast", "types=0",
                          "timeout=0", "dir="}) {
    auto o = parse_cann_settings(bad);
    EXPECT_FALSE(o.ok()) << bad;
    EXPECT_TRUE(contains(o.status().message(), "cann settings")) << o.status().message();
  }
  // Through a collector: start() reports it, nothing is loaded.
  auto c = make_cann_collector(std::string_view("aclprof,colour=red"));
  TraceStore store;
  CollectorContext context{&store, nullptr};
  const Status st = c->start(context);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.message(), "unknown setting")) << st.message();
}

}  // namespace
}  // namespace huoyan

#endif
