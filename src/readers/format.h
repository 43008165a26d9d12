// The contract between an input format and the sniffer: every format huoyan imports is one
// FormatInfo (a file format) or FolderFormat (a directory layout such as a torch_npu
// ASCEND_PROFILER_OUTPUT folder or an msprof PROF_* folder). The sniffer (sniff.h) tries them in
// order and picks the first that claims the input, by content, never by name alone.
#pragma once

#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/core/trace_store.h"
#include "src/readers/input_clock.h"
#include "src/readers/reader.h"

namespace huoyan {

struct FormatInfo {
  std::string_view name;         // short id shown by `huoyan formats`: "chrome", "nsys-sqlite"
  std::string_view description;  // one line: what produces these files, what is imported
  // True when this format takes the file. `head` is the first bytes of the (decompressed)
  // file, up to 64 KiB; `path` only helps break ties (CSV kinds), it is never the sole test.
  bool (*sniff)(std::string_view head, std::string_view path) = nullptr;
  // Reads the whole file into the store (a path, because some formats, SQLite, are not
  // streams). Errors name the file.
  Result<ReadStats> (*read_file)(const std::string& path, TraceStore& store,
                                 const ReadOptions& options) = nullptr;
  // The file's sync information (input_clock.h), read before the file when several inputs are
  // merged, so its offset can be applied as it is read. Never fails: unreadable sync fields
  // make an unaligned InputClock with the reason. nullptr: the format has no clock to tell.
  InputClock (*clock)(const std::string& path) = nullptr;
};

struct FolderFormat {
  std::string_view name;
  std::string_view description;
  // True when `dir` is this layout (looks at the names and heads of the files inside).
  bool (*claims)(const std::string& dir) = nullptr;
  // Imports the folder: picks which of its files carry the events so nothing is counted twice.
  Result<ReadStats> (*read_dir)(const std::string& dir, TraceStore& store,
                                const ReadOptions& options) = nullptr;
  // As FormatInfo::clock, for the folder.
  InputClock (*clock)(const std::string& dir) = nullptr;
};

}  // namespace huoyan
