// Model subscription (aclprofModelSubscribe), the CANN collector's channel for graph-mode
// models. Per model: a pipe whose write end the library owns, a subscribe config pointing at it,
// and a reader thread that hands whole aclprofGetOpDescSize()-sized records to the aclprofGet*
// accessors and turns each op into a store event.
//
// Library contract (CANN docs 19-03 and the open-sourced implementation): records are written
// as whole multiples of the op descriptor size but a read() may split them, so partial bytes
// are kept until the rest arrives; op names/types live inside the library keyed by the record
// and are *erased* once retrieved, so each is fetched exactly once, on the reader thread; after
// aclprofModelUnSubscribe the library closes the write end once its data is sent, which the
// reader sees as EOF. We never close the write end ourselves (the library does; closing it too
// could close an unrelated descriptor that reused the number). If EOF does not come within a
// grace period after unsubscribing, the reader gives up.
//
// Time base: op start/end are device system-counter ns. No public ACL function reads that
// counter from the host, so unless ClockSync already has domain "acl_subscribe" (set by whoever
// can measure it), the offset is estimated from the first batch as min(read time − op end): an
// upper bound of the true offset (ops appear late by at most the delivery latency), recorded
// with the spread of that batch as its uncertainty and "clock.acl_subscribe.method" =
// "estimated-from-delivery" in the trace metadata.
//
// Threading: subscribe/unsubscribe/stop from one controlling thread; readers append through the
// thread-safe ActivitySink.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "src/collect/cann/acl_prof_api.h"
#include "src/collect/clock.h"
#include "src/collect/cupti/activity_sink.h"
#include "src/collect/cupti/dynamic_library.h"
#include "src/core/status.h"

namespace huoyan {

class AclModelSubscriber {
 public:
  struct Api {
    aclprof::CreateSubscribeConfigFn create_config = nullptr;
    aclprof::DestroySubscribeConfigFn destroy_config = nullptr;
    aclprof::ModelSubscribeFn subscribe = nullptr;
    aclprof::ModelUnSubscribeFn unsubscribe = nullptr;
    aclprof::GetOpDescSizeFn op_desc_size = nullptr;
    aclprof::GetOpNumFn op_num = nullptr;
    aclprof::GetOpStringLenFn op_type_len = nullptr;
    aclprof::GetOpStringFn op_type = nullptr;
    aclprof::GetOpStringLenFn op_name_len = nullptr;
    aclprof::GetOpStringFn op_name = nullptr;
    aclprof::GetOpTimeFn op_start = nullptr;
    aclprof::GetOpTimeFn op_end = nullptr;
    aclprof::GetModelIdFn model_id = nullptr;
  };

  // Loads libascendcl (explicit path, else $HUOYAN_ASCENDCL_LIBRARY, else the toolkit's lib64,
  // else the loader's path); symbols it lacks are looked up in libmsprofiler.so beside it.
  static Result<std::unique_ptr<AclModelSubscriber>> open(const std::string& explicit_path);

  ~AclModelSubscriber();  // unsubscribes everything
  AclModelSubscriber(const AclModelSubscriber&) = delete;
  AclModelSubscriber& operator=(const AclModelSubscriber&) = delete;

  const std::string& library_path() const { return path_; }

  // Where ops go; must be set before subscribe() and outlive every subscription.
  void attach(ActivitySink* sink, ClockSync* clocks);
  Status subscribe(uint32_t model_id, int32_t device_id);
  Status unsubscribe(uint32_t model_id);
  void unsubscribe_all();

  // How long a reader waits for EOF after unsubscribing (default 2 s).
  void set_grace_ms(int64_t ms) { grace_ms_ = ms; }

 private:
  struct Subscription;
  AclModelSubscriber() = default;
  void read_loop(Subscription* sub);
  void deliver(Subscription* sub, const uint8_t* data, size_t len, int64_t read_ns);
  int64_t offset_for(const uint8_t* data, size_t len, uint32_t n, int64_t read_ns);
  void finish(std::unique_ptr<Subscription> sub);

  Api api_;
  std::string path_;
  size_t desc_size_ = 0;
  std::atomic<int64_t> grace_ms_{2000};
  ActivitySink* sink_ = nullptr;
  ClockSync* clocks_ = nullptr;
  std::mutex mu_;  // subscriptions_ and the clock estimate
  std::map<uint32_t, std::unique_ptr<Subscription>> subscriptions_;
  bool have_offset_ = false;
  int64_t offset_ns_ = 0;
};

}  // namespace huoyan
