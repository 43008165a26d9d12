// Shared plumbing of the CLI commands: loading inputs with progress, formatting, errors.
// Exit codes: 0 ok, 1 a check failed, 2 bad usage or unreadable input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/core/status.h"
#include "src/core/trace_store.h"

namespace huoyan::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;

// Reads every input into `store`: files of any supported format (sniffed by content, plain or
// .gz), folders, "-" for stdin; several inputs (ranks) are kept apart (src/readers/sniff.h).
// Progress on stderr for inputs over 50 MB when stderr is a terminal; files of walked folders
// that no format claims are listed on stderr. The error message names the file and position.
// With `report_clocks`, when several inputs were merged, one line per input on stderr says how
// its clock was aligned (rank, file, clock, offset in ns, basis, or why it is unaligned).
Status load_inputs(const std::vector<std::string>& paths, TraceStore& store,
                   bool report_clocks = false);

// "12 events skipped: missing ts (10), negative dur (2)" or "" when nothing was skipped.
std::string skipped_summary(const TraceStore& store);

// 1234567 → "1.235 ms".
std::string format_duration(int64_t ns);

// Prints "huoyan: <message>" on stderr and returns kExitUsage.
int fail(const std::string& message);

}  // namespace huoyan::cli
