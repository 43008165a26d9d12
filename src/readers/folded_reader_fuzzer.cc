// libFuzzer target for the folded-stack reader (clang -fsanitize=fuzzer,address,...).
//
// The first input byte picks the read size of the source (1..64 bytes, or whole), so UTF-16
// code units, CRLF pairs and lines straddle reads in every way. Checks, beyond "no crash, no
// sanitizer report": a successful read stores exactly the events it reports; no span starts
// before 0 or has a negative duration; the flame graph of a fresh store weighs exactly the
// laid-out time.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "src/analysis/flame_tree.h"
#include "src/io/input.h"
#include "src/readers/folded_reader.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

// A source that returns at most `step` bytes per read.
class SlowSource : public huoyan::ByteSource {
 public:
  SlowSource(std::string data, size_t step) : data_(std::move(data)), step_(step) {
    name_ = "fuzz.folded";
  }
  huoyan::Result<size_t> read(char* buf, size_t n) override {
    const size_t k = std::min({n, step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace huoyan;  // NOLINT(build/namespaces)
  if (size == 0) return 0;
  const size_t step = data[0] < 192 ? 1 + data[0] % 64 : size;
  SlowSource src(std::string(reinterpret_cast<const char*>(data + 1), size - 1), step);
  // A fresh store for every 64th input only (then the flame graph is checked too): a
  // TraceStore's string table sets up 2^20 slots, which per input would cost more than the read.
  static std::unique_ptr<TraceStore> store;
  static unsigned uses = 0;
  const bool fresh = !store || ++uses % 64 == 0;
  if (fresh) {
    StoreOptions options;
    options.capacity_events = size_t{1} << 20;
    store = std::make_unique<TraceStore>(options);
  }
  const uint64_t before = store->appended();
  FoldedReader reader;
  auto r = reader.read(src, *store, {});
  if (!r.ok()) {
    check(!r.status().message().empty(), "error without a message");
    return 0;
  }
  check(r->events == store->appended() - before, "events reported != events stored");
  const Snapshot snap = store->snapshot();
  int64_t end = 0;
  for (EventSeq seq = std::max<EventSeq>(before, snap.begin_seq()); seq < snap.end_seq(); ++seq) {
    const EventView ev = snap.at(seq);
    check(ev->ts >= 0 && ev->dur >= 0, "span outside the track");
    end = std::max(end, ev->end());
  }
  if (fresh && store->dropped() == 0) {
    const FlameTree tree = build_flame_tree(*store, snap, {});
    check(tree.root().value == end, "flame graph total != laid-out time");
  }
  return 0;
}
