// The CLI against careless and hostile use, through the real binary (HUOYAN_BIN): `-o` onto
// special files and symlinks, endless or interrupted standard input, symlink loops in folders,
// the serve token kept off stdout.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "src/cli/cli_test_util.h"
#include "src/io/temp_files.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTrace =
    R"({"traceEvents":[{"ph":"X","name":"gemm","cat":"kernel","pid":1,"tid":7,"ts":10,"dur":5}]})";

using Outcome = CliOutcome;

class CliHardening : public CliTest {
 protected:
  CliHardening() : CliTest("cli_hardening") {}
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    fs::create_directories(dir_ / "tmp");
    trace_ = write("trace.json", kTrace);
  }

  // Runs `sh -c "<prefix> env TMPDIR=… huoyan <args>"`, TMPDIR inside the test folder.
  Outcome run(const std::string& args, const std::string& prefix = "") {
    return run_command(prefix + "env TMPDIR='" + (dir_ / "tmp").string() + "' '" + bin_ + "' " +
                       args);
  }
  static std::string run_shell(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  size_t temp_files_left() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "tmp")) n += e.path().filename() != "";
    return n;
  }

  std::string trace_;
};

// The literal "/dev/stdout" is special-cased too, but not run here: a regression would replace
// the machine's own /dev/stdout. /dev/fd/1 and a link to /proc/self/fd/1 take the same path.
TEST_F(CliHardening, OutputToStdoutNames) {
  fs::create_symlink("/proc/self/fd/1", dir_ / "to-stdout");
  const std::string link = (dir_ / "to-stdout").string();
  for (const std::string& out : {std::string("-"), std::string("/dev/fd/1"), link}) {
    const Outcome r = run("convert '" + trace_ + "' --to folded -o '" + out + "'");
    EXPECT_EQ(r.code, 0) << out << ": " << r.err;
    EXPECT_NE(r.out.find("gemm"), std::string::npos) << out;
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 4)
      << "only trace.json, tmp, stderr and the link";
}

TEST_F(CliHardening, OutputThroughASymlinkKeepsTheLink) {
  const std::string target = write("real.folded", "old\n");
  fs::create_symlink(target, dir_ / "link.folded");
  fs::create_symlink("new.folded", dir_ / "dangling.folded");  // relative, target missing
  EXPECT_EQ(run("convert '" + trace_ + "' -o '" + (dir_ / "link.folded").string() + "'").code, 0);
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.folded"));
  EXPECT_NE(slurp(target).find("gemm"), std::string::npos);
  EXPECT_EQ(run("convert '" + trace_ + "' -o '" + (dir_ / "dangling.folded").string() + "'").code,
            0);
  EXPECT_TRUE(fs::is_symlink(dir_ / "dangling.folded"));
  EXPECT_NE(slurp(dir_ / "new.folded").find("gemm"), std::string::npos);
  fs::create_symlink("loop-b", dir_ / "loop-a");
  fs::create_symlink("loop-a", dir_ / "loop-b");
  const Outcome loop = run("convert '" + trace_ + "' -o '" + (dir_ / "loop-a").string() + "'");
  EXPECT_EQ(loop.code, 2) << loop.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "loop-a"));
}

TEST_F(CliHardening, OutputToAFifoWritesThroughIt) {
  const fs::path fifo = dir_ / "out.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Both ends opened here, so nothing blocks whatever huoyan does (even replacing the FIFO):
  // the reader sees EOF once huoyan and `writer` have closed it.
  const int writer = ::open(fifo.c_str(), O_RDWR);
  const int in = ::open(fifo.c_str(), O_RDONLY);
  ASSERT_GE(writer, 0);
  ASSERT_GE(in, 0);
  std::string got;
  std::thread reader([&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(in, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  });
  const Outcome r = run("convert '" + trace_ + "' --to folded -o '" + fifo.string() + "'");
  ::close(writer);
  reader.join();
  ::close(in);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(got.find("gemm"), std::string::npos);
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(temp_files_left(), 0u);
}

// Device nodes made here (as root) stand in for /dev/null and /dev/full: a regression must not
// replace the machine's own.
TEST_F(CliHardening, OutputToADeviceNeverReplacesIt) {
  const fs::path null = dir_ / "null", full = dir_ / "full";
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0 ||
      ::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "mknod needs root";
  }
  const Outcome ok = run("convert '" + trace_ + "' -o '" + null.string() + "'");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(fs::is_character_file(null));
  const Outcome bad = run("convert '" + trace_ + "' -o '" + full.string() + "'");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("No space left"), std::string::npos) << bad.err;
  EXPECT_TRUE(fs::is_character_file(full));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST_F(CliHardening, EndlessStdinStopsAtTheLimit) {
  const auto start = std::chrono::steady_clock::now();
  // 64 MB stand for endless input: a regression fails the test rather than filling the disk.
  const Outcome r =
      run("top -", "yes '" + std::string(kTrace) +
                       "' | head -c 64000000 | HUOYAN_STDIN_MAX_BYTES=4000000 timeout 20 ");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("HUOYAN_STDIN_MAX_BYTES"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(temp_files_left(), 0u);
}

TEST_F(CliHardening, InterruptedStdinLeavesNoSpool) {
  ::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGTERM}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string tmpdir = (dir_ / "tmp").string();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(fds[0], 0);
      ::close(fds[0]);
      ::close(fds[1]);
      ::setenv("TMPDIR", tmpdir.c_str(), 1);
      ::execl(bin_.c_str(), "huoyan", "top", "-", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    // Input that never ends: huoyan is still spooling when the signal comes.
    std::thread writer([fd = fds[1]] {
      const std::string line = std::string(kTrace) + "\n";
      while (::write(fd, line.data(), line.size()) > 0) {
      }
    });
    for (int i = 0; i < 300 && temp_files_left() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(temp_files_left(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(fds[1]);
    writer.join();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_EQ(temp_files_left(), 0u) << "signal " << sig;
  }
}

TEST_F(CliHardening, SymlinkLoopInAFolderEnds) {
  write("ranks/rank0/trace.json", kTrace);
  fs::create_symlink("..", dir_ / "ranks/rank0/up");          // back to the parent
  fs::create_symlink("../rank0", dir_ / "ranks/rank0/self");  // to itself
  const Outcome r = run("top '" + (dir_ / "ranks").string() + "' --json", "timeout 20 ");
  EXPECT_EQ(r.code, 0) << r.err;
  // Read once, not once per path that reaches it.
  EXPECT_NE(r.out.find("\"count\":1"), std::string::npos) << r.out;
}

// The token stays off stdout (a log) and off the command line (ps): --token-file.
TEST_F(CliHardening, ServeTokenFromAFileIsNeverPrinted) {
  const std::string token = "f1le-t0ken-9f8e";
  const std::string file = write("token", token + "\n");
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(bin_.c_str(), "huoyan", "serve", trace_.c_str(), "--listen", "127.0.0.1:0",
            "--token-file", file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string printed;
  char buf[512];
  while (printed.find("token=<token>") == std::string::npos) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    printed.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(printed.find(token), std::string::npos) << printed;
  const size_t at = printed.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << printed;
  const int port = std::atoi(printed.c_str() + at + 17);
  const auto status = [&](const std::string& auth) {
    const std::string cmd = "curl -s -o /dev/null -w '%{http_code}' " + auth +
                            " http://127.0.0.1:" + std::to_string(port) + "/api/status";
    return run_shell(cmd);
  };
  EXPECT_EQ(status(""), "401");
  EXPECT_EQ(status("-H 'Authorization: Bearer " + token + "'"), "200");
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(out[0]);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

TEST(TempFileGuard, SignalRemovesGuardedFiles) {
  const std::string path =
      (fs::temp_directory_path() / ("huoyan_guard_" + std::to_string(::getpid()))).string();
  std::ofstream(path) << "partial";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    remove_temp_files_on_signals();
    TempFileGuard guard(path);
    ::raise(SIGTERM);
    ::_exit(0);  // not reached
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_FALSE(fs::exists(path));
  fs::remove(path);
}

}  // namespace
}  // namespace huoyan
