// libFuzzer target for the Ascend CSV readers (built with clang -fsanitize=fuzzer,address,...).
//
// The first input byte picks the table reader (kernel table, step trace, statistics, or the
// one the header names) and the read block size (1..32 bytes, or the default), so rows and
// quoted fields straddle block boundaries in every possible way. Checks, beyond "no crash, no
// hang, no sanitizer report": a successful read stores exactly the events it reports, errors
// carry a message, and every stored kernel has a non-negative duration.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/csv_reader.h"

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
  const uint8_t mode = data[0];
  const size_t block = (mode >> 2) < 32 ? 1 + (mode >> 2) : size_t{4} << 20;
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);

  StoreOptions options;
  options.capacity_events = 1 << 16;
  TraceStore store(options);
  auto src = ByteSource::from_string(input, "fuzz.csv");
  AscendCsvKind kind = AscendCsvKind::kUnknown;
  switch (mode & 3) {
    case 0:
      kind = AscendCsvKind::kKernels;
      break;
    case 1:
      kind = AscendCsvKind::kStepTrace;
      break;
    case 2:
      kind = AscendCsvKind::kStatistic;
      break;
    default:
      kind = ascend_csv_kind(csv_header_of(input));
      break;
  }
  Result<ReadStats> r = Status::Error("unknown");
  AscendSource source;
  source.rank = (mode & 0x80) ? 1 : -1;
  if (kind == AscendCsvKind::kStepTrace) {
    r = AscendStepTraceCsvReader(source).read(*src, store, {});
  } else if (kind == AscendCsvKind::kStatistic) {
    r = AscendStatisticCsvReader(source).read(*src, store, {});
  } else {
    r = AscendKernelCsvReader(source, block).read(*src, store, {});
  }
  if (!r.ok()) {
    check(!r.status().message().empty(), "error without a message");
    return 0;
  }
  check(r->events == store.appended(), "events reported != events stored");
  check(r->bytes <= input.size(), "more bytes consumed than given");
  const Snapshot snap = store.snapshot();
  snap.for_each([&](const EventView& ev) { check(ev->dur >= 0, "negative duration stored"); });
  return 0;
}
