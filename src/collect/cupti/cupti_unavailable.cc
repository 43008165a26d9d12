// make_cupti_collector() for builds without the CUPTI headers: the collector exists (so the
// registry and CLI need no #ifdefs) but start() says why it cannot run.
#include "src/collect/cupti/cupti_collector.h"

namespace huoyan {
namespace {

class CuptiUnavailable final : public Collector {
 public:
  std::string_view name() const override { return "cupti"; }
  Status start(const CollectorContext& /*context*/) override {
    return Status::Error(
        "cupti: this huoyan was built without the CUDA toolkit's CUPTI headers; rebuild with the "
        "CUDA toolkit installed (cmake -DHUOYAN_WITH_CUPTI=ON)");
  }
  void stop() override {}
  CollectorState state() const override {
    CollectorState st;
    st.name = "cupti";
    st.state = "unavailable";
    st.message = "built without CUPTI";
    return st;
  }
};

}  // namespace

std::unique_ptr<Collector> make_cupti_collector(const CuptiOptions& /*options*/) {
  return std::make_unique<CuptiUnavailable>();
}

bool cupti_collector_built() { return false; }

}  // namespace huoyan
