// Running CANN's `msprof --export=on --output=<PROF dir>`, which turns the raw data of an ACL
// profiling collection into the CSV/JSON/SQLite files huoyan's readers import.
//
// msprof is a launcher script (Python behind it) that may start children of its own, so it
// runs in a process group of its own and a timeout kills the whole group. It gets no shell: the
// arguments go to the program as they are.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "src/core/status.h"

namespace huoyan {

// Where msprof is: `explicit_path` when given (it must be an executable file: no fallback),
// else the first executable of $ASCEND_TOOLKIT_HOME and $ASCEND_HOME_PATH under
// tools/profiler/bin/msprof (CANN ≤ 8.x) or bin/msprof, else `msprof` on $PATH. The error
// names every place that was tried.
Result<std::string> find_msprof(const std::string& explicit_path);

struct ProcessOutcome {
  bool exited = false;  // ended by exit(); exit_code is valid
  int exit_code = -1;
  int signal = 0;          // the signal that ended it (SIGKILL after a timeout)
  bool timed_out = false;  // killed (with its process group) when the timeout passed
  std::string output;      // the last 4 KiB of its stdout and stderr, interleaved
};

// Runs argv[0] (a path) with argv, stdin from /dev/null, stdout and stderr captured. Returns an
// error only when it could not be started.
Result<ProcessOutcome> run_process(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout);

// "msprof --export=on --output=/tmp/prof/PROF_000001_…", as a user would type it (arguments
// quoted when needed).
std::vector<std::string> msprof_export_argv(const std::string& msprof, const std::string& dir);
std::string command_line(const std::vector<std::string>& argv);

// Exports one PROF_* folder. The error says what went wrong (exit code and msprof's last
// output, or the timeout).
Status msprof_export(const std::string& msprof, const std::string& prof_dir,
                     std::chrono::milliseconds timeout);

}  // namespace huoyan
