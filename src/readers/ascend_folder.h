// Folder layouts written by Huawei Ascend profilers, imported as one unit so that each kernel
// is counted once even though several files describe it.
//
// torch_npu: `{worker}_{ts}_ascend_pt/ASCEND_PROFILER_OUTPUT/`. One folder is one rank whichever
// level is named — the *_ascend_pt folder, ASCEND_PROFILER_OUTPUT, the PROF_* folder beside it
// or that folder's mindstudio_profiler_output (also as "." or with a trailing slash) — and each
// gives the same events; its side files are never inputs of their own.
//  - Kernels: kernel_details.csv when it exists (what MindStudio Insight shows: operators,
//    HCCL operators as collectives, with shapes, block dims and PMU counters). trace_view.json
//    adds host ops, CANN API calls and flows; its device layers ("Ascend Hardware", "HCCL",
//    "Communication": the same tasks again) stay on the timeline as ProcessRole::kMirror and
//    are not counted. Without kernel_details.csv the device tasks of trace_view.json are the
//    kernels (kinds by task type, docs/formats.md).
//  - step_trace_time.csv → steps; op_statistic.csv, operator_details.csv, api_statistic.csv →
//    metadata only (they aggregate the kernels above; see ascend_csv_reader.h).
//  - The rank comes from `profiler_info_{rank}.json` (or "rank_id" inside profiler_info*.json)
//    in the *_ascend_pt folder; with a rank, device processes are named "rank 3:NPU 0", carry
//    a ("rank", "3") label and CSV devices get per-rank pids (ascend_device_pid()), so several
//    ranks can be imported into one store. Pids of trace_view.json are the file's own plus
//    ReadOptions::pid_offset, or, when that is 0 and the rank is known, plus rank × 2^44 (ranks
//    repeat the pids of their device layers).
//    torch_npu_version / cann_version / rank go to store metadata ("ascend.*").
//
// msprof: `PROF_{n}_{ts}_{rand}/` (or a folder holding several of them).
//  - Current layout: mindstudio_profiler_output/ with msprof_*.json (the whole timeline:
//    CANN API, device tasks, HostToDevice flows, counters), op_summary_*.csv, task_time_*.csv,
//    op_statistic_*.csv, api_statistic_*.csv (each possibly split into *_slice_<n>_* files).
//  - Older layout: device_<id>/timeline/{msprof,task_time,hccl,step_trace}_*.json.
//  - Device tasks from exactly one source per PROF folder, by preference: the msprof_*.json
//    timeline (all of its slices and devices); else op_summary_*.csv; else task_time_*.csv;
//    else the timeline parts task_time_*.json + hccl_*.json. step_trace_*.json (iteration
//    marks, part of msprof_*.json) is read only when msprof_*.json is absent. The files passed
//    over are counted in store.skips(). Statistic CSVs → metadata (one key per table kind:
//    with several devices' tables, the last one read is kept).
//  - Device folders (device_<id>/) give the device index to their CSV rows and to an
//    "Ascend Hardware" process whose labels do not name it.
//
// Errors: a kernel source that cannot be read fails the import (its message names the file);
// a statistic or step table that cannot be read is counted in store.skips() and skipped.
#pragma once

#include <string>

#include "src/readers/format.h"

namespace huoyan {

const FolderFormat& ascend_profiler_output_format();
const FolderFormat& msprof_prof_folder_format();

// msprof timelines describe communication twice: the HCCL/Communication process (operators and
// their per-plane tasks) and the same tasks on the "Ascend Hardware" streams. When one input
// (a file or folder: processes from `first_process` on) has both, the communication layer
// becomes a mirror (ProcessRole::kMirror: shown, not counted) and the streams' tasks are the
// device work, counted once.
void mirror_communication_layers(TraceStore& store, size_t first_process);

Result<ReadStats> read_ascend_profiler_output(const std::string& dir, TraceStore& store,
                                              const ReadOptions& options = {});
Result<ReadStats> read_msprof_prof_folder(const std::string& dir, TraceStore& store,
                                          const ReadOptions& options = {});

}  // namespace huoyan
