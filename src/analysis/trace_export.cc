#include "src/analysis/trace_export.h"

#include <algorithm>

#include "src/writers/chrome_json_writer.h"
#include "src/writers/step_request_args.h"

namespace huoyan {
namespace {

bool in_window(const Event& e, const ExportFilter& f) {
  if (f.start_ns != kNoTime && e.end() < f.start_ns) return false;
  if (f.end_ns != kNoTime && e.ts >= f.end_ns) return false;
  return true;
}

}  // namespace

Status write_filtered_chrome_trace(const TraceStore& store, const Snapshot& snapshot,
                                   const ExportFilter& filter, Sink& sink) {
  if (is_unfiltered(filter)) return write_chrome_trace(store, sink);
  ChromeJsonWriter writer(sink, snapshot);
  auto device_ok = [&](const Event& e) {
    return filter.device.empty() || !snapshot.is_device_event(e) ||
           snapshot.device_label(e.track) == filter.device;
  };
  if (filter.request == 0) {
    std::vector<Step> steps;
    store.for_each_step([&](const Step& s) { steps.push_back(s); });
    StepRequestArgs step_args(snapshot, StepRequestArgs::intern_keys(store), steps);
    snapshot.for_each([&](const EventView& ev) {
      if (in_window(*ev, filter) && device_ok(*ev)) {
        writer.event(ev, step_args.of(*ev, snapshot.is_device_event(*ev)));
      }
    });
    return writer.finish();
  }
  const StringId k_request = store.intern("request_id");
  const StringId k_step = store.intern("step");
  const StringId k_batch = store.intern("batch_size");
  const StringId k_share = store.intern("share");
  const std::string_view request_text = store.str(filter.request);
  // Device events with attribution, host spans, in time order so the file reads naturally.
  struct Item {
    EventSeq seq;
    const AttributedEvent* attr;
  };
  const auto device = request_device_events(store, snapshot, filter.request, filter.mode);
  const auto host = request_host_events(store, snapshot, filter.request);
  std::vector<Item> items;
  items.reserve(device.size() + host.size());
  for (const auto& a : device) items.push_back({a.seq, &a});
  for (EventSeq s : host) items.push_back({s, nullptr});
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    const int64_t ta = snapshot.at(a.seq)->ts, tb = snapshot.at(b.seq)->ts;
    return ta != tb ? ta < tb : a.seq < b.seq;
  });
  for (const Item& it : items) {
    const EventView ev = snapshot.at(it.seq);
    if (!in_window(*ev, filter) || !device_ok(*ev)) continue;
    if (it.attr) {
      const Arg extra[] = {{k_request, ArgValue::String(request_text)},
                           {k_step, ArgValue::Uint(it.attr->step)},
                           {k_batch, ArgValue::Uint(it.attr->batch_size)},
                           {k_share, ArgValue::Double(it.attr->share)}};
      writer.event(ev, extra);
    } else {
      const Arg extra[] = {{k_request, ArgValue::String(request_text)}};
      writer.event(ev, extra);
    }
  }
  if (auto info = store.request(filter.request)) {
    for (uint64_t id : info->steps) {
      if (auto step = store.step(id)) writer.step(*step);
    }
    writer.request(*info);
  }
  return writer.finish();
}

}  // namespace huoyan
