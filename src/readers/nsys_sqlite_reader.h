// Nsight Systems SQLite export reader (`nsys export --type sqlite`).
//
// What is imported (all times are the export's integer ns, kept exact):
//  - CUPTI_ACTIVITY_KIND_KERNEL → kKernel, cat "kernel", name = demangledName (shortName when
//    absent) through StringIds, on the device track (GPU deviceId, Stream streamId); args device,
//    stream, grid, block, registers per thread, shared memory; id = correlationId.
//  - CUPTI_ACTIVITY_KIND_MEMCPY / MEMSET → kMemcpy "Memcpy HtoD" / kMemset "Memset", cat
//    gpu_memcpy / gpu_memset, args bytes (and copy kind).
//  - CUPTI_ACTIVITY_KIND_RUNTIME → host spans, cat "cuda_runtime", name through StringIds, on the
//    thread of globalTid (pid = globalTid >> 24 & 0xFFFFFF, tid = globalTid & 0xFFFFFF);
//    id = correlationId.
//  - A runtime call and the device activity it launched (same correlationId) are linked by a
//    flow (cat "ac2g": "s" at the call, "f" bound to the enclosing device slice), as Kineto does.
//  - NVTX_EVENTS push/pop and start/end ranges → host spans (cat "nvtx", text or textId), marks →
//    instants.
//  - PROCESSES / ThreadNames name the host tracks; TARGET_INFO_GPU names label the devices.
// Both schema generations of the samples (2022.x EXPORT_META_DATA, 2024.x META_DATA_EXPORT with
// greenContextId) are read; tables are created lazily by nsys, so a missing activity table is
// simply empty. A present table without a required column is an error naming table and column;
// rows with a NULL start/end or end < start are skipped and counted.
// The activity tables (millions of rows in a real capture) are read through SqliteIntRows: their
// pages are decoded directly, ahead of the import on a second thread, with SQLite's values.
#pragma once

#include <set>
#include <string>

#include "src/readers/format.h"

namespace huoyan {

class NsysSqliteReader {
 public:
  std::string_view format_name() const { return "nsys-sqlite"; }
  // Reads the database at `path` (plain or gzip-compressed) into `store`.
  Result<ReadStats> read_file(const std::string& path, TraceStore& store,
                              const ReadOptions& options);
};

// True when a database with these tables is an Nsight Systems export.
bool is_nsys_schema(const std::set<std::string, std::less<>>& tables);

// The registry entry (src/readers/format_registry.cc).
FormatInfo nsys_sqlite_format();

}  // namespace huoyan
