// The formats huoyan reads, in sniffing order: specific formats first, loose text formats
// (folded stacks) last. Adding a format is one line here: its header exposes
// `FormatInfo <name>_format()` (or `FolderFormat <name>_folder_format()`).
#include <array>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/ascend_folder.h"
#include "src/readers/chrome_json_reader.h"
#include "src/readers/folded_reader.h"
#include "src/readers/msprof_db_reader.h"
#include "src/readers/nsys_sqlite_reader.h"
#include "src/readers/nsys_sync_info.h"
#include "src/readers/sniff.h"

namespace huoyan {
namespace {

// Chrome Trace Event JSON: an array of event objects, or an object with a "traceEvents" key
// (Kineto writes metadata before it, well inside the head).
bool sniff_chrome(std::string_view head, std::string_view /*path*/) {
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  auto skip_ws = [&head](size_t i) {
    while (i < head.size() &&
           (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) {
      ++i;
    }
    return i;
  };
  const size_t i = skip_ws(0);
  if (i >= head.size()) return false;
  if (head[i] == '[') {
    const size_t j = skip_ws(i + 1);
    return j >= head.size() || head[j] == '{' || head[j] == ']';
  }
  return head[i] == '{' && head.find("\"traceEvents\"") != std::string_view::npos;
}

FormatInfo chrome_format() {
  return {"chrome",
          "Chrome Trace Event JSON (array or object form, .gz): PyTorch/Kineto traces, torch_npu "
          "trace_view.json, msprof timelines, huoyan's own output",
          sniff_chrome,
          [](const std::string& path, TraceStore& store, const ReadOptions& o) {
            return read_chrome_json_file(path, store, o);
          },
          chrome_input_clock};
}

// The registry's own clock for formats whose files keep one time base by definition.
FormatInfo with_clock(FormatInfo f, InputClock (*clock)(const std::string&)) {
  f.clock = clock;
  return f;
}

// msprof's SQLite export stores "integer ns Unix time" (TASK.startNs, CANN_API.startNs…).
InputClock msprof_db_clock(const std::string& /*path*/) {
  return InputClock::epoch("Unix epoch", "msprof .db startNs/endNs are Unix epoch ns");
}

// op_summary / kernel_details "Task Start Time(us)" / "Start Time(us)": Unix epoch µs, as the
// msprof analysis converts them (collectionTimeBegin + t − clockMonotonicRaw).
InputClock ascend_csv_clock(const std::string& /*path*/) {
  return InputClock::epoch("Unix epoch",
                           "msprof/torch_npu CSV start times are Unix epoch µs "
                           "(collectionTimeBegin + t − clockMonotonicRaw)");
}

InputClock folded_clock(const std::string& /*path*/) {
  return InputClock::unknown("no clock (folded stacks carry no timestamps)");
}

}  // namespace

std::span<const FormatInfo> file_formats() {
  static const auto kFormats = std::to_array<FormatInfo>({
      chrome_format(),
      with_clock(nsys_sqlite_format(), nsys_input_clock),
      with_clock(msprof_db_format(), msprof_db_clock),
      // before folded: folded stacks is the loosest format
      with_clock(ascend_csv_format(), ascend_csv_clock),
      with_clock(folded_format(), folded_clock),
  });
  return kFormats;
}

std::span<const FolderFormat> folder_formats() {
  // A torch_npu *_ascend_pt folder also holds a PROF_* folder: it goes first. Folders no layout
  // claims are walked file by file (sniff.h).
  static const auto kFolders = std::to_array<FolderFormat>({
      ascend_profiler_output_format(),
      msprof_prof_folder_format(),
  });
  return kFolders;
}

}  // namespace huoyan
