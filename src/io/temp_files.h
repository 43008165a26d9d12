// Temporary files the process must not leave behind when a signal ends it: the atomic file
// sink's "<dir>/.<name>.tmp-XXXX" and the spool of standard input.
//
// A TempFileGuard names a file while it is temporary; remove_temp_files_on_signals() (called
// once by a program that owns its signals, the CLI) makes SIGINT, SIGTERM and SIGHUP unlink every
// named file and then end the process as the signal would have. Libraries never install it: an
// embedder's signals stay its own.
#pragma once

#include <string>

namespace huoyan {

class TempFileGuard {
 public:
  TempFileGuard() = default;
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard() { release(); }
  TempFileGuard(TempFileGuard&& o) noexcept : slot_(o.slot_) { o.slot_ = -1; }
  TempFileGuard& operator=(TempFileGuard&& o) noexcept;
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

  // Forgets the file (it was renamed into place or unlinked); it is not touched.
  void release();

 private:
  int slot_ = -1;  // -1: no file (or more files than slots: not guarded)
};

void remove_temp_files_on_signals();

}  // namespace huoyan
