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

#include "src/cli/cli_test_util.h"
#include "src/readers/sniff.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

using Outcome = CliOutcome;

class CliFormatsTest : public CliTest {
 protected:
  CliFormatsTest() : CliTest("cli_formats") {}
  Outcome run(const std::string& args) { return run_command("'" + bin_ + "' " + args); }
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
