#include "src/writers/step_request_args.h"

#include "src/io/sink.h"
#include "src/writers/json_out.h"

namespace huoyan {

StepRequestArgs::Keys StepRequestArgs::intern_keys(const TraceStore& store) {
  return {store.intern("request_id"), store.intern("request_ids"), store.intern("batch_size")};
}

StepRequestArgs::StepRequestArgs(const Snapshot& snapshot, Keys keys,
                                 const std::vector<Step>& steps)
    : keys_(keys) {
  by_step_.reserve(steps.size());
  for (const Step& s : steps) {
    if (s.members.empty()) continue;
    Entry e;
    e.batch = static_cast<uint32_t>(s.members.size());
    if (s.members.size() == 1) {
      e.single = snapshot.str(s.members[0].request);
    } else {
      StringSink sink;
      {
        BufferedOut out(&sink, 4096);
        out.put('[');
        for (size_t i = 0; i < s.members.size(); ++i) {
          if (i > 0) out.put(',');
          json_string(out, snapshot.str(s.members[i].request));
        }
        out.put(']');
        out.flush();
      }
      e.ids_json = std::move(sink.str());
    }
    by_step_.emplace(s.id, std::move(e));
  }
}

std::span<const Arg> StepRequestArgs::of(const Event& e, bool device_event) {
  if (!device_event || e.step == 0 || e.request != 0 || by_step_.empty()) return {};
  if (last_ == nullptr || e.step != last_step_) {
    auto it = by_step_.find(e.step);
    if (it == by_step_.end()) return {};
    last_step_ = e.step;
    last_ = &it->second;
  }
  if (last_->ids_json.empty()) {
    args_[0] = {keys_.request_id, ArgValue::String(last_->single)};
  } else {
    args_[0] = {keys_.request_ids, ArgValue::Json(last_->ids_json)};
  }
  args_[1] = {keys_.batch_size, ArgValue::Uint(last_->batch)};
  return {args_, 2};
}

}  // namespace huoyan
