// libFuzzer target for the Nsight Systems SQLite reader (clang -fsanitize=fuzzer,address,...).
//
// The input describes a database (sqlite_fuzz_util.h): the reader's tables with columns dropped
// at random and values of every SQLite type. Checks, beyond "no crash, no sanitizer report": a
// successful read stores exactly the events it reports and every duration is non-negative; a
// failed one says why and names the file.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "src/readers/nsys_sqlite_reader.h"
#include "src/readers/sqlite_fuzz_util.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

const std::vector<huoyan::fuzzing::TableSpec>& tables() {
  static const std::vector<huoyan::fuzzing::TableSpec> kTables = {
      {"StringIds", {"id", "value"}},
      {"META_DATA_EXPORT", {"name", "value"}},
      {"CUPTI_ACTIVITY_KIND_KERNEL",
       {"start", "end", "deviceId", "streamId", "correlationId", "demangledName", "shortName",
        "gridX", "gridY", "gridZ", "blockX", "blockY", "blockZ", "registersPerThread",
        "staticSharedMemory", "dynamicSharedMemory"}},
      {"CUPTI_ACTIVITY_KIND_RUNTIME", {"start", "end", "globalTid", "correlationId", "nameId"}},
      {"CUPTI_ACTIVITY_KIND_MEMCPY",
       {"start", "end", "deviceId", "streamId", "correlationId", "bytes", "copyKind"}},
      {"CUPTI_ACTIVITY_KIND_MEMSET",
       {"start", "end", "deviceId", "streamId", "correlationId", "bytes"}},
      {"NVTX_EVENTS", {"start", "end", "eventType", "text", "textId", "globalTid"}},
      {"PROCESSES", {"pid", "name"}},
      {"ThreadNames", {"nameId", "globalTid"}},
      {"TARGET_INFO_GPU", {"id", "name"}},
  };
  return kTables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace huoyan;  // NOLINT(build/namespaces)
  FuzzedDataProvider in(data, size);
  static const std::string path = fuzzing::fuzz_db_path("nsys");
  if (!fuzzing::make_fuzz_db(in, tables(), path)) return 0;
  // One store for 256 inputs: a fresh TraceStore per input costs more than the read (its
  // string table sets up 2^20 slots), which would cut the fuzzer to a few dozen inputs/s.
  static std::unique_ptr<TraceStore> store;
  static unsigned uses = 0;
  if (!store || ++uses % 256 == 0) {
    StoreOptions options;
    options.capacity_events = 1 << 16;
    store = std::make_unique<TraceStore>(options);
  }
  const uint64_t before = store->appended();
  auto r = NsysSqliteReader().read_file(path, *store, {});
  if (!r.ok()) {
    check(r.status().message().find(path) != std::string::npos, "error without the file name");
    return 0;
  }
  check(r->events == store->appended() - before, "events reported != events stored");
  const Snapshot snap = store->snapshot();
  for (EventSeq seq = std::max<EventSeq>(before, snap.begin_seq()); seq < snap.end_seq(); ++seq) {
    check(snap.at(seq)->dur >= 0, "negative duration");
  }
  return 0;
}
