// A stand-in for CANN's `msprof` program, export mode only: `msprof --export=on
// --output=<PROF dir>`. It checks its arguments and that <PROF dir> holds raw collection data
// (host/ or device_<id>/), then "exports" by copying the exported files of a real msprof output
// folder into it. Driven by the environment (the collector passes its own to msprof):
//   HUOYAN_MSPROF_DOUBLE_SAMPLE  a real exported PROF folder whose files are copied (required
//                                in mode ok)
//   HUOYAN_MSPROF_DOUBLE_MODE    ok (default) | fail (error on stderr, exit 1) | hang (sleeps,
//                                with a child that sleeps too, until killed)
//   HUOYAN_MSPROF_DOUBLE_LOG     a file each run appends its arguments to, one line per run
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

bool has_raw_data(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir / "host", ec)) return true;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind("device_", 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string line;
  for (int i = 1; i < argc; ++i) line += (i == 1 ? "" : " ") + std::string(argv[i]);
  if (const std::string log = env("HUOYAN_MSPROF_DOUBLE_LOG"); !log.empty()) {
    if (FILE* f = std::fopen(log.c_str(), "a")) {
      std::fprintf(f, "%s\n", line.c_str());
      std::fclose(f);
    }
  }
  std::string output;
  bool export_on = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--export=on") {
      export_on = true;
    } else if (a.rfind("--output=", 0) == 0) {
      output = a.substr(9);
    } else {
      std::fprintf(stderr, "[ERROR] [MSPROF] unexpected argument: %s\n", a.c_str());
      return 2;
    }
  }
  if (!export_on || output.empty()) {
    std::fprintf(stderr, "[ERROR] [MSPROF] usage: msprof --export=on --output=<dir>\n");
    return 2;
  }
  std::printf("[INFO] [MSPROF] Start exporting data in %s\n", output.c_str());
  std::fflush(stdout);

  const std::string mode = env("HUOYAN_MSPROF_DOUBLE_MODE");
  if (mode == "fail") {
    std::fprintf(stderr, "[ERROR] [MSPROF] Analysis failed: the data in %s is incomplete\n",
                 output.c_str());
    return 1;
  }
  if (mode == "hang") {
    if (fork() == 0) {
      pause();  // a child of its own: the timeout must kill the whole group
      return 0;
    }
    pause();
    return 0;
  }
  if (!has_raw_data(output)) {
    std::fprintf(stderr, "[ERROR] [MSPROF] %s is not a PROF directory with collected data\n",
                 output.c_str());
    return 1;
  }
  const std::string sample = env("HUOYAN_MSPROF_DOUBLE_SAMPLE");
  std::error_code ec;
  fs::copy(sample, output, fs::copy_options::recursive | fs::copy_options::skip_existing, ec);
  if (sample.empty() || ec) {
    std::fprintf(stderr, "[ERROR] [MSPROF] cannot export from '%s': %s\n", sample.c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::printf("[INFO] [MSPROF] Export finished.\n");
  return 0;
}
