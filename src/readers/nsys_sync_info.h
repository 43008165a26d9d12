// The clock of an Nsight Systems SQLite export. Event times (`start`, `end` of
// CUPTI_ACTIVITY_KIND_*, NVTX_EVENTS, …) are ns since the start of the capture session, and
// `TARGET_INFO_SESSION_START_TIME(utcEpochNs, utcTime, localTime)` records that start: "UTC
// Epoch timestamp at start of the capture (ns)" (the column comment of the export schema). So
// Unix epoch ns = utcEpochNs + start.
#pragma once

#include <string>

#include "src/readers/input_clock.h"

namespace huoyan {

// Reads TARGET_INFO_SESSION_START_TIME.utcEpochNs of the export at `path` (read-only). No
// table or no row: unaligned, no sync info; several rows that disagree, or a value that is
// NULL, negative, not an integer or absurd: unaligned with the reason.
InputClock nsys_input_clock(const std::string& path);

}  // namespace huoyan
