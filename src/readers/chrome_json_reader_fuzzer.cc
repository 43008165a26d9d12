// libFuzzer target for the Chrome JSON reader (built with clang -fsanitize=fuzzer,address,...).
//
// The first input byte picks the read block size (1..64 bytes, or the default), so values
// straddle block boundaries in every possible way. Checks, beyond "no crash, no hang, no
// sanitizer report": a successful read stores exactly the events it reports, and what it
// stored can be written back as Chrome JSON and read again to the same number of events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/io/sink.h"
#include "src/readers/chrome_json_reader.h"
#include "src/writers/chrome_json_writer.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace huoyan;  // NOLINT(build/namespaces)
  if (size == 0) return 0;
  const size_t block = data[0] < 192 ? 1 + data[0] % 64 : ChromeJsonReader::kDefaultBlockBytes;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);

  StoreOptions options;
  options.capacity_events = 1 << 16;
  TraceStore store(options);
  auto src = ByteSource::from_string(input, "fuzz.json");
  ChromeJsonReader reader(block);
  auto r = reader.read(*src, store, {});
  if (!r.ok()) {
    check(!r.status().message().empty(), "error without a message");
    return 0;
  }
  check(r->events == store.appended(), "events reported != events stored");
  check(r->bytes <= input.size(), "more bytes consumed than given");

  // Round trip: everything stored must serialize to a trace that reads back.
  if (store.held() == 0) return 0;
  StringSink sink;
  check(write_chrome_trace(store, sink).ok(), "write_chrome_trace failed");
  TraceStore again(options);
  auto src2 = ByteSource::from_string(sink.str(), "roundtrip.json");
  ChromeJsonReader reader2;
  auto r2 = reader2.read(*src2, again, {});
  if (!r2.ok()) {
    std::fprintf(stderr, "%s\n--- written:\n%s\n", r2.status().message().c_str(),
                 sink.str().c_str());
  }
  check(r2.ok(), "re-reading the written trace failed");
  check(r2->events == store.held(), "round trip changed the number of events");
  return 0;
}
