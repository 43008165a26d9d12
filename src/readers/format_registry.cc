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
          sniff_chrome, [](const std::string& path, TraceStore& store, const ReadOptions& o) {
            return read_chrome_json_file(path, store, o);
          }};
}

}  // namespace

std::span<const FormatInfo> file_formats() {
  static const auto kFormats = std::to_array<FormatInfo>({
      chrome_format(),
      nsys_sqlite_format(),
      msprof_db_format(),
      ascend_csv_format(),  // before folded: folded stacks is the loosest format
      folded_format(),
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
