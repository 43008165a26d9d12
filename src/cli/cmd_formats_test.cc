// `huoyan formats` and the any-format inputs of the other verbs, through the real binary
// (HUOYAN_BIN, set by ctest): listing, JSON, bad usage (exit 2), unrecognised inputs, folders,
// and convert from nsys SQLite / folded stacks.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/readers/sniff.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

struct Outcome {
  int code = -1;
  std::string out, err;
};

class CliFormatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("HUOYAN_BIN");
    ASSERT_NE(bin, nullptr) << "HUOYAN_BIN is not set: run through ctest (it points at the CLI)";
    bin_ = bin;
    dir_ = fs::temp_directory_path() /
           ("huoyan_cli_formats_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome run(const std::string& args) {
    const std::string err = (dir_ / "stderr").string();
    const std::string cmd = "'" + bin_ + "' " + args + " 2>'" + err + "'";
    Outcome r;
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
  std::string write(const std::string& rel, const std::string& content) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  std::string bin_;
  fs::path dir_;
};

TEST_F(CliFormatsTest, ListsEveryFormat) {
  const Outcome r = run("formats");
  EXPECT_EQ(r.code, 0) << r.err;
  for (const FormatInfo& f : file_formats()) {
    EXPECT_NE(r.out.find(std::string(f.name)), std::string::npos) << f.name;
    EXPECT_NE(r.out.find(std::string(f.description)), std::string::npos) << f.name;
  }
  for (const FolderFormat& f : folder_formats()) {
    EXPECT_NE(r.out.find(std::string(f.name)), std::string::npos) << f.name;
  }
}

TEST_F(CliFormatsTest, Json) {
  const Outcome r = run("formats --json");
  ASSERT_EQ(r.code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  simdjson::dom::array items;
  ASSERT_EQ(doc.get_array().get(items), simdjson::SUCCESS);
  ASSERT_EQ(items.size(), file_formats().size() + folder_formats().size());
  size_t i = 0;
  for (simdjson::dom::element item : items) {
    const bool file = i < file_formats().size();
    std::string_view kind, name, description;
    ASSERT_EQ(item["kind"].get(kind), simdjson::SUCCESS);
    ASSERT_EQ(item["name"].get(name), simdjson::SUCCESS);
    ASSERT_EQ(item["description"].get(description), simdjson::SUCCESS);
    EXPECT_EQ(kind, file ? "file" : "folder");
    EXPECT_EQ(name,
              file ? file_formats()[i].name : folder_formats()[i - file_formats().size()].name);
    EXPECT_FALSE(description.empty());
    ++i;
  }
}

TEST_F(CliFormatsTest, BadUsageIsExit2) {
  Outcome r = run("formats --bogus");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  r = run("formats extra-argument");
  EXPECT_EQ(r.code, 2);
  r = run("formats --limit 3");  // an option of another verb
  EXPECT_EQ(r.code, 2);
}

TEST_F(CliFormatsTest, UnrecognisedInputIsExit2WithWhatWasTried) {
  const std::string bin = write("x.bin", std::string("\x00\x01\x02garbage", 10));
  const Outcome r = run("top '" + bin + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "huoyan: " + bin + ": not a recognised trace (tried " + file_format_names() + ")\n");
}

TEST_F(CliFormatsTest, FoldersAndSkippedFiles) {
  write("run/a.folded", "main;work 3\n");
  write("run/b.folded", "main;idle 1\n");
  const std::string notes = write("run/notes.txt", "not a trace\n");
  const Outcome r = run("convert '" + (dir_ / "run").string() + "' -o '" +
                        (dir_ / "out.folded").string() + "' --to folded");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped " + notes + ": not a recognised trace"), std::string::npos)
      << r.err;
  std::ifstream in(dir_ / "out.folded");
  const std::string folded((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(folded.find("main;work 3000000\n"), std::string::npos) << folded;
  EXPECT_NE(folded.find("main;idle 1000000\n"), std::string::npos) << folded;
}

TEST_F(CliFormatsTest, StandardInputOfAnyFormat) {
  const std::string db =
      (kReal / "nsys/pipit/pipit/tests/data/saxpy-mpi-cuda_nsys_perlmutter0.sqlite").string();
  Outcome r = run("top --by stream - < '" + db + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("GPU 0 / Stream 7"), std::string::npos) << r.out;
  r = run("top - < '" + write("junk", "neither json nor stacks\n") + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("huoyan: <stdin>: not a recognised trace (tried ", 0), 0u) << r.err;
}

TEST_F(CliFormatsTest, ConvertNsysExportToChrome) {
  const std::string db =
      (kReal / "nsys/pipit/pipit/tests/data/saxpy-mpi-cuda_nsys_perlmutter0.sqlite").string();
  const std::string out = (dir_ / "saxpy.json").string();
  const Outcome r = run("convert '" + db + "' -o '" + out + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  TraceStore store;
  InputReport report;
  ASSERT_TRUE(read_input(out, store, {}, &report).ok());
  EXPECT_EQ(report.read.at(0).format, "chrome");
  uint64_t kernels = 0, flows = 0;
  store.snapshot().for_each([&](const EventView& ev) {
    kernels += ev->kind == EventKind::kKernel;
    flows += ev->kind == EventKind::kFlowStart;
  });
  EXPECT_EQ(kernels, 5u);
  EXPECT_EQ(flows, 20u);  // 5 kernels + 15 memcpy, each linked to its runtime call
}

}  // namespace
}  // namespace huoyan
