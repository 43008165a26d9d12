// A fixture for tests of the real `huoyan` binary (HUOYAN_BIN, set by ctest): a scratch folder
// per test, files written into it, and shell commands run with their stdout, stderr and exit
// code captured.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace huoyan {

struct CliOutcome {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  // `prefix` names the scratch folder: <tmp>/huoyan_<prefix>_<pid>_<test>.
  explicit CliTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    const char* bin = std::getenv("HUOYAN_BIN");
    ASSERT_NE(bin, nullptr) << "HUOYAN_BIN is not set: run through ctest (it points at the CLI)";
    bin_ = bin;
    dir_ = std::filesystem::temp_directory_path() /
           ("huoyan_" + prefix_ + "_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `sh -c "<command> 2>stderr"`: its stdout, stderr and exit code.
  CliOutcome run_command(const std::string& command) {
    const std::string err = (dir_ / "stderr").string();
    const std::string cmd = command + " 2>'" + err + "'";
    CliOutcome r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err);
    r.err.assign(std::istreambuf_iterator<char>(in), {});
    return r;
  }

  // Writes `content` (bytes as they are) to dir_/rel; returns its path.
  std::string write(const std::string& rel, const std::string& content) {
    const std::filesystem::path p = dir_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  std::string bin_;
  std::filesystem::path dir_;

 private:
  std::string prefix_;
};

}  // namespace huoyan
