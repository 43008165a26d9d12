// The one entry point for reading inputs of any supported format: a file (plain or gzip), a
// folder, or a list of them. The format is picked by content (format.h), from the ordered
// registry in format_registry.cc.
//
// Files: the first 64 KiB of decompressed bytes go to each FormatInfo::sniff in registry order;
// the first that claims the file reads it. Nothing claims it → an error naming the file and the
// formats tried.
// Folders: each FolderFormat is asked first (a layout knows which of its files carry the events,
// so nothing is counted twice); when none claims the folder it is walked recursively and every
// file some format claims is read, in path order (byte-wise, so the order is the same
// everywhere). Files nobody claims are skipped and listed in the InputReport; a folder in which
// no file is claimed is an error.
// Several inputs: input i (from 0) is read with pid_offset = i * kInputPidStride added to the
// caller's, so the processes, threads and devices of different files (ranks) never share a
// track. The first input keeps its own pids.
// Clocks of several inputs: before input i is read, its format's clock probe reads the sync
// information of its files (input_clock.h); an aligned input's times are moved onto the Unix
// epoch as they are read (TraceStore::set_input_time_offset), an unaligned one keeps its own.
// The result goes to the store's metadata, per input i: "clock.input<i>.rank", ".file",
// ".clock", then ".offset_ns" and ".basis" (aligned) or ".unaligned" (the reason); and
// "clock.timeline" = "Unix epoch ns" when every input was aligned. A single input is never
// shifted.
// "-" is standard input: it is spooled to a temporary file first (SQLite needs random access),
// at most HUOYAN_STDIN_MAX_BYTES (default kDefaultStdinMax; more is an error, not a full disk);
// the file is removed at the end, and on SIGINT/SIGTERM where the program asked for it
// (src/io/temp_files.h).
// Folders are walked following symlinks, each folder once: a link back to a parent ends there.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/readers/format.h"

namespace huoyan {

inline constexpr size_t kSniffBytes = size_t{64} << 10;
inline constexpr uint64_t kDefaultStdinMax = uint64_t{16} << 30;
// Above every pid an input can use (OS pids < 2^22, device pids < 2^31, Ascend pids < 2^32).
inline constexpr int64_t kInputPidStride = int64_t{1} << 32;
// … and step ids moved by i << kInputStepShift (TraceStore::set_input_step_offset).
inline constexpr int kInputStepShift = 40;

// What read_input/read_inputs did, file by file (for the CLI's report).
struct InputReport {
  struct File {
    std::string path;
    std::string format;  // FormatInfo/FolderFormat name
    ReadStats stats;
    // When several inputs were merged (merged true): the input's rank (declared, else its
    // position), its clock and the offset added to its times.
    bool merged = false;
    std::string rank;
    InputClock clock;
    int64_t offset_ns = 0;
  };
  std::vector<File> read;
  std::vector<std::string> unclaimed;  // files of walked folders that no format claims
};

// The registry (format_registry.cc), in sniffing order.
std::span<const FormatInfo> file_formats();
std::span<const FolderFormat> folder_formats();

// "chrome, nsys-sqlite, msprof-db, folded": the names of the file formats, in order.
std::string file_format_names();

// First `max` bytes of `path` after gzip decompression (fewer for a short file).
Result<std::string> read_head(const std::string& path, size_t max = kSniffBytes);

// The format that claims a file with this head, or nullptr.
const FormatInfo* sniff_file(std::string_view head, const std::string& path);

Result<ReadStats> read_input(const std::string& path, TraceStore& store, const ReadOptions& options,
                             InputReport* report = nullptr);
Result<ReadStats> read_inputs(const std::vector<std::string>& paths, TraceStore& store,
                              const ReadOptions& options, InputReport* report = nullptr);

}  // namespace huoyan
