// msprof SQLite database reader (`msprof_<timestamp>.db` of a PROF_* folder; schema in
// docs "profile_data_file_references_db"; times are integer ns of the Unix epoch, kept exact).
//
// What is imported:
//  - TASK → device activity on (NPU deviceId, Stream streamId). A task with a COMPUTE_TASK_INFO
//    row (joined by globalTaskId) is a kKernel (cat "kernel", name = its op name); one with a
//    COMMUNICATION_TASK_INFO row is a span (cat "communication", name = the HCCL op); any other
//    task is a span (cat "task", named by its taskType). Names go through STRING_IDS. Args:
//    device, stream, task id, task type, op type, block dim. id = connectionId.
//  - CANN_API → host spans (cat "cann_api", name through STRING_IDS, arg type from
//    ENUM_API_TYPE) on the thread of globalTid (pid << 32 | tid); id = connectionId. A flow
//    (cat "async_npu") links the innermost API call to the tasks of the same connectionId.
//  - MSTX_EVENTS → host spans or instants (cat "mstx", name = message).
//  - NPU_INFO names label the devices.
// TASK and STRING_IDS are required; the other tables are optional. A table without a column
// the reader needs is an error naming table and column; rows with a NULL or reversed time are
// skipped and counted.
#pragma once

#include <set>
#include <string>

#include "src/readers/format.h"

namespace huoyan {

class MsprofDbReader {
 public:
  std::string_view format_name() const { return "msprof-db"; }
  Result<ReadStats> read_file(const std::string& path, TraceStore& store,
                              const ReadOptions& options);
};

bool is_msprof_db_schema(const std::set<std::string, std::less<>>& tables);

FormatInfo msprof_db_format();

}  // namespace huoyan
