// Every CSV table of the shared real-trace collection (ascend/) is imported and checked against
// the expected counts recorded per file in SOURCES.md, which this test parses so the two cannot
// drift apart: rows, the distribution of Stream ID / Accelerator Core (Task Type) / Step Id, and
// the duration sum, which must equal the exact decimal sum of the column rounded per row to ns.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "src/readers/ascend_csv_reader.h"
#include "src/readers/csv_reader.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

const fs::path kReal = HUOYAN_TESTDATA_REAL;

struct Expected {
  std::string path;
  uint64_t rows = 0;
  std::map<std::string, std::map<std::string, uint64_t>> distinct;  // column → value → rows
  std::string duration_column;
  std::string duration_sum;  // as printed by Python
  std::string header;
};

std::vector<Expected> load_expected() {
  std::ifstream in(kReal / "SOURCES.md");
  std::vector<Expected> out;
  const std::regex line_re(R"(^\* `(ascend/[^`]+\.csv)` \()");
  const std::regex rows_re(R"(: rows=(\d+);)");
  const std::regex distinct_re(R"(distinct ([A-Za-z ]+)=\{([^}]*)\})");
  const std::regex item_re(R"re("([^"]*)":(\d+))re");
  const std::regex sum_re(R"(sum ([A-Za-z ]+\(us\))=([0-9.]+))");
  const std::regex header_re(R"(header=(.*)$)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, line_re)) continue;
    Expected e;
    e.path = m[1].str();
    if (std::regex_search(line, m, rows_re)) e.rows = std::stoull(m[1].str());
    for (std::sregex_iterator it(line.begin(), line.end(), distinct_re), end; it != end; ++it) {
      const std::string items = (*it)[2].str();
      auto& values = e.distinct[(*it)[1].str()];
      for (std::sregex_iterator jt(items.begin(), items.end(), item_re); jt != end; ++jt) {
        values[(*jt)[1].str()] = std::stoull((*jt)[2].str());
      }
    }
    if (std::regex_search(line, m, sum_re)) {
      e.duration_column = m[1].str();
      e.duration_sum = m[2].str();
    }
    if (std::regex_search(line, m, header_re)) e.header = m[1].str();
    out.push_back(std::move(e));
  }
  return out;
}

// A decimal as an integer count of 10^-4 units (µs → 0.1 ns), by its digits.
int64_t tenths_of_ns(std::string_view s) {
  while (!s.empty() && (s.back() == '\t' || s.back() == ' ')) s.remove_suffix(1);
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool in_frac = false;
  for (const char c : s) {
    if (c == '.') {
      in_frac = true;
      continue;
    }
    EXPECT_TRUE(c >= '0' && c <= '9') << s;
    if (in_frac) {
      EXPECT_LT(frac_digits, 4) << "more than 4 decimals: " << s;
      frac = frac * 10 + (c - '0');
      ++frac_digits;
    } else {
      whole = whole * 10 + (c - '0');
    }
  }
  for (; frac_digits < 4; ++frac_digits) frac *= 10;
  return whole * 10000 + frac;
}

std::string arg_text(const Snapshot& snap, const EventView& ev, std::string_view key) {
  for (const StoredArg& a : ev.args()) {
    if (snap.str(a.key) != key) continue;
    const ArgValue v = a.value();
    if (v.type == ArgType::kString) return std::string(v.s);
    if (v.type == ArgType::kInt) return std::to_string(v.i);
    return "?";
  }
  return "N/A";
}

TEST(AscendCsvReal, EveryCsvIsListed) {
  size_t listed = load_expected().size();
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kReal / "ascend")) {
    if (entry.is_regular_file() && entry.path().extension() == ".csv") ++files;
  }
  EXPECT_EQ(listed, files);
  EXPECT_GE(files, 9u);
}

TEST(AscendCsvReal, CountsMatchSources) {
  const std::vector<Expected> all = load_expected();
  ASSERT_GE(all.size(), 9u);
  for (const Expected& x : all) {
    SCOPED_TRACE(x.path);
    const std::string path = (kReal / x.path).string();
    {
      std::ifstream in(path, std::ios::binary);
      std::string head(64 << 10, '\0');
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
      EXPECT_TRUE(ascend_csv_format().sniff(head, path));
    }
    TraceStore store;
    auto r = read_ascend_csv_file(path, store);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->skipped, 0u);
    const Snapshot snap = store.snapshot();
    const AscendCsvKind kind = ascend_csv_kind(csv_header_of(x.header));

    if (kind == AscendCsvKind::kKernels) {
      EXPECT_EQ(r->events, x.rows);
      std::map<std::string, std::map<std::string, uint64_t>> seen;
      int64_t dur_ns = 0;
      snap.for_each([&](const EventView& ev) {
        // Operators are kernels; HCCL operators collectives (docs/formats.md).
        const bool hccl = arg_text(snap, ev, "Accelerator Core") == "HCCL" ||
                          arg_text(snap, ev, "Task Type") == "HCCL";
        EXPECT_EQ(ev->kind, hccl ? EventKind::kCollective : EventKind::kKernel);
        const Track& t = snap.track(ev->track);
        seen["Stream ID"][t.tid < 0 ? "N/A" : std::to_string(t.tid)]++;
        const std::string core = arg_text(snap, ev, "Accelerator Core");
        seen[core != "N/A" ? "Accelerator Core" : "Task Type"]
            [core != "N/A" ? core : arg_text(snap, ev, "Task Type")]++;
        seen["Type"][arg_text(snap, ev, "Type")]++;
        seen["OP Type"][arg_text(snap, ev, "OP Type")]++;
        seen["Step Id"][std::to_string(ev->step)]++;
        dur_ns += ev->dur;
      });
      for (const auto& [column, values] : x.distinct) {
        if (values.empty()) continue;  // only a count of distinct values was recorded
        EXPECT_EQ(seen[column], values) << column;
      }
      // The exact decimal sum of the column, from the file's own text.
      auto src = ByteSource::open(path);
      ASSERT_TRUE(src.ok());
      CsvParser csv(**src);
      ASSERT_EQ(csv.next(), CsvParser::Next::kRow);
      int col = -1;
      for (size_t i = 0; i < csv.fields().size(); ++i) {
        if (csv.fields()[i] == x.duration_column) col = static_cast<int>(i);
      }
      ASSERT_GE(col, 0) << x.duration_column;
      int64_t exact = 0, rounded = 0;
      while (csv.next() == CsvParser::Next::kRow) {
        const int64_t t = tenths_of_ns(csv.fields()[col]);
        exact += t;
        rounded += t / 10 + (t % 10 >= 5 ? 1 : 0);
      }
      EXPECT_EQ(exact, tenths_of_ns(x.duration_sum));
      EXPECT_EQ(dur_ns, rounded);
    } else {
      EXPECT_EQ(r->events, 0u);
      EXPECT_EQ(store.appended(), 0u);
      ASSERT_EQ(store.metadata().size(), 1u);
      simdjson::dom::parser parser;
      simdjson::dom::array rows;
      ASSERT_EQ(parser.parse(store.metadata()[0].second).get(rows), simdjson::SUCCESS);
      EXPECT_EQ(rows.size(), x.rows);
      if (kind == AscendCsvKind::kStepTrace) {
        for (const auto& [value, n] : x.distinct.at("Step")) {
          EXPECT_TRUE(store.step(std::stoull(value)).has_value()) << value;
        }
      }
      if (x.path.find("operator_details") != std::string::npos) {
        EXPECT_EQ(store.metadata()[0].first, "ascend.operator_details");
        // The quoted multi-line call stacks survive as one cell each.
        std::string_view stack;
        ASSERT_EQ(rows.at(0)["Call Stack"].get(stack), simdjson::SUCCESS);
        EXPECT_NE(stack.find(";\n"), std::string_view::npos);
      }
    }
  }
}

}  // namespace
}  // namespace huoyan
