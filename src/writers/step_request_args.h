// Args that name the requests a device event served, derived from its step: "request_id" when
// the step has one member, else "request_ids" (a JSON array of the members), plus "batch_size".
// Whole-trace exports add them so a kernel can be traced to its requests by any JSON tool
// (`jq '.traceEvents[] | select(.args.request_id == "r1")'`), not only through the huoyan
// section. Events that carry their own request are left alone, and readers map "request_id"
// back to Event::request, which attribution treats as the step's own member (no double count).
#pragma once

#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/core/event.h"
#include "src/core/trace_store.h"

namespace huoyan {

class StepRequestArgs {
 public:
  struct Keys {
    StringId request_id = 0;
    StringId request_ids = 0;
    StringId batch_size = 0;
  };
  static Keys intern_keys(const TraceStore& store);

  // `steps` are the steps of the export; `snapshot` gives the request ids' text.
  StepRequestArgs(const Snapshot& snapshot, Keys keys, const std::vector<Step>& steps);

  // The args for `e` (empty unless it is a device event of a known step with members and no
  // request of its own). Valid until the next call.
  std::span<const Arg> of(const Event& e, bool device_event);

 private:
  struct Entry {
    std::string_view single;  // the one member's id (string table text), or empty
    std::string ids_json;     // ["r1","r2"] when several
    uint32_t batch = 0;
  };
  Keys keys_;
  std::unordered_map<uint64_t, Entry> by_step_;
  uint64_t last_step_ = 0;
  const Entry* last_ = nullptr;
  Arg args_[2];
};

}  // namespace huoyan
