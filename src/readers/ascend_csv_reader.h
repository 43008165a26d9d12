// Readers of the CSV tables written by Huawei Ascend profilers: torch_npu's
// ASCEND_PROFILER_OUTPUT/*.csv and msprof's mindstudio_profiler_output/*_<timestamp>.csv.
//
// Columns are found by header name, never by position (their order and presence change between
// CANN and torch_npu versions), with the aliases of the known versions:
//   name   Name | Op Name | kernel_name          start  Start Time(us) | Task Start Time(us) |
//   type   Type | OP Type                                task_start(us)
//   core   Accelerator Core | Task Type | kernel_type   dur  Duration(us) | Task Duration(us) |
//   stream Stream ID | Stream Id | Physic Stream Id |        task_time(us)
//          stream_id                                step   Step Id
//   device Device_id
// Times are microseconds with up to three (sometimes four) decimals and often a trailing TAB
// ("1736413971558972.912\t", quoted or not); they are parsed to int64 ns from their digits,
// never through a double.
//
// Three kinds of table, told apart by their header (ascend_csv_kind()):
//  - Kernel tables (kernel_details.csv, op_summary_*.csv, task_time_*.csv): one device task per
//    row → an event on the track "NPU <device> / Stream <id>" (stream "N/A", as on
//    communication rows, → "Stream N/A", tid -1), kind kKernel with cat "kernel"; task_time
//    rows without a kernel name (EVENT_RECORD, PROFILING_ENABLE…) are device spans named after
//    their type. "Step Id" → Event::step, and each step seen becomes a Step spanning its kernels.
//    Every other column is kept as an arg under its header name (numbers typed, "N/A" and empty
//    cells left out, the literal quotes around shapes removed); Device_id and the stream are
//    the "device" and "stream" args, as for the other device readers. The PMU counter
//    columns (aicore_time(us), aic_*, aiv_*, cube_utilization(%)… — anything not descriptive,
//    30 or so per row) are packed into one arg, a JSON array of the row's values in column
//    order (null for N/A) under the key "PMU [<column>, <column>, …]": lossless and
//    self-describing, at the cost of one arg instead of thirty (memory and speed).
//  - step_trace_time.csv: one Step per row (id from "Step"; times taken from the kernels of
//    that step already in the store, else unknown); the time breakdown (Computing,
//    Communication…, all µs) is kept as store metadata "ascend.step_trace_time" (a JSON array
//    of row objects). Rows are not events: ReadStats::events counts none of them.
//  - Statistics (op_statistic, operator_details, api_statistic): aggregates of events, never
//    events themselves, so importing them with a kernel table can never count a kernel twice.
//    Their rows are kept as store metadata "ascend.op_statistic", "ascend.operator_details",
//    "ascend.api_statistic" (a JSON array of row objects); ReadStats::events counts none.
//
// Input policy: a header without the needed columns, a NUL byte in the header, or a file in
// which no row could be read (but some were bad) is a Status error naming the file and the
// line. Bad rows are skipped and counted in store.skips() by reason: a NUL byte, too few
// fields, an unreadable or negative time, a row cut off by the end of the file (the last line,
// unterminated and shorter than the header), a quoted field never closed. Invalid UTF-8 is
// replaced by '?' and counted. Complete rows with fewer or more fields than the header (seen in
// real torch_npu files) are read as far as they go and counted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/readers/format.h"
#include "src/readers/reader.h"

namespace huoyan {

enum class AscendCsvKind { kUnknown, kKernels, kStepTrace, kStatistic };

// The kind of table a header line (as split by csv_header_of()) belongs to.
AscendCsvKind ascend_csv_kind(const std::vector<std::string_view>& header);

// Where the rows of a table come from, when the file itself does not say.
struct AscendSource {
  int32_t device = 0;  // device of rows without a Device_id column
  int32_t rank = -1;   // distributed rank (profiler_info_{rank}.json), -1 = unknown
};

// Process of an Ascend device: pid and name, distinct per rank so several ranks (each with its
// own "device 0") can share one store. Without a rank: device_pid(kNpu, device) and "NPU 0";
// with one: a pid in the NPU range offset by the rank and "rank 3:NPU 0". pid_offset is added.
int64_t ascend_device_pid(int32_t device, int32_t rank, int64_t pid_offset);
std::string ascend_device_name(int32_t device, int32_t rank);

class AscendKernelCsvReader : public Reader {
 public:
  explicit AscendKernelCsvReader(AscendSource source = {}, size_t block_bytes = 4u << 20)
      : source_(source), block_bytes_(block_bytes) {}
  std::string_view format_name() const override { return "ascend-kernel-csv"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;

 private:
  AscendSource source_;
  size_t block_bytes_;
};

class AscendStepTraceCsvReader : public Reader {
 public:
  explicit AscendStepTraceCsvReader(AscendSource source = {}) : source_(source) {}
  std::string_view format_name() const override { return "ascend-step-trace-csv"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;

 private:
  AscendSource source_;
};

// Metadata keys get ".rank<r>" appended when the rank is known, so ranks do not overwrite each
// other's tables.
class AscendStatisticCsvReader : public Reader {
 public:
  explicit AscendStatisticCsvReader(AscendSource source = {}) : source_(source) {}
  std::string_view format_name() const override { return "ascend-statistic-csv"; }
  Result<ReadStats> read(ByteSource& src, TraceStore& store, const ReadOptions& options) override;

 private:
  AscendSource source_;
};

// Opens `path`, picks the reader from its header and reads it.
Result<ReadStats> read_ascend_csv_file(const std::string& path, TraceStore& store,
                                       const ReadOptions& options = {}, AscendSource source = {});

// The file format for the sniffer: any of the tables above, recognised by its header.
const FormatInfo& ascend_csv_format();

}  // namespace huoyan
