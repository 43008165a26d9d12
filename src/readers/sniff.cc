#include "src/readers/sniff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "src/io/input.h"
#include "src/io/temp_files.h"
#include "src/readers/ascend_folder.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) {
    s.replace(i, from.size(), to);
  }
  return s;
}

// Reading is planned first (which files and folder layouts, by which format), then done: the
// number of inputs decides whether clocks are aligned, and each input's offset must be known
// before it is read.
struct Walk {
  TraceStore& store;
  const ReadOptions& options;
  InputReport* report;
  ReadStats total;

  struct Planned {
    std::string path;   // what is read
    std::string shown;  // what messages and the report call it ("<stdin>" for a spooled "-")
    const FormatInfo* file = nullptr;
    const FolderFormat* folder = nullptr;
  };
  std::vector<Planned> planned;
  std::vector<std::string> spooled;  // temporary files of "-", removed at the end
  std::vector<TempFileGuard> spool_guards;
  // Folders walked, by (device, inode): a symlink back to a parent (or a second link to a folder
  // already read) is skipped, so a walk always ends and reads no file twice.
  std::set<std::pair<dev_t, ino_t>> walked;

  // Each input read: its first process, and the store's "rank" metadata before and after it
  // (readers record the rank a file declares there), and its clock.
  struct Part {
    size_t first_process = 0;
    std::string rank_before;
    std::string rank;
    std::string shown;
    InputClock clock;
    int64_t offset_ns = 0;
  };
  std::vector<Part> parts;

  ~Walk() {
    store.set_input_step_offset(0);
    store.set_input_time_offset(0);
    for (const std::string& t : spooled) ::unlink(t.c_str());
  }

  std::string rank_metadata() const {
    for (auto& [k, v] : store.metadata()) {
      if (k == "rank") return v;
    }
    return "";
  }

  std::string rank_of(size_t i) const {
    return parts[i].rank.empty() ? std::to_string(i) : parts[i].rank;
  }

  // With several inputs, the devices of each are named after its rank ("rank 1:GPU 0"): the rank
  // the input declared, else its position. Devices already named by rank are left alone.
  void name_devices_by_rank() {
    if (parts.size() < 2) return;
    const Snapshot snap = store.snapshot();
    const auto& procs = snap.processes();
    auto w = store.writer();
    for (size_t i = 0; i < parts.size(); ++i) {
      const size_t end = i + 1 < parts.size() ? parts[i + 1].first_process : procs.size();
      const std::string rank = rank_of(i);
      for (size_t pi = parts[i].first_process; pi < end && pi < procs.size(); ++pi) {
        const Process& p = procs[pi];
        if (p.device_type == DeviceType::kNone) continue;
        const std::string base = p.name != 0    ? std::string(snap.str(p.name))
                                 : p.label != 0 ? std::string(snap.str(p.label))
                                                : fmt::format("pid {}", p.pid);
        if (base.starts_with("rank ")) continue;
        w.process_at(static_cast<uint32_t>(pi)).name =
            store.intern(fmt::format("rank {}:{}", rank, base));
      }
    }
  }

  // The alignment of merged inputs, in the store's metadata ("clock.input<i>.*"; the offset of
  // aligned inputs as "clock.input<i>.offset_ns", which /api/status lists) and the report.
  void record_clocks() {
    if (parts.size() < 2) return;
    bool all_aligned = true;
    auto w = store.writer();
    for (size_t i = 0; i < parts.size(); ++i) {
      const Part& p = parts[i];
      const std::string key = fmt::format("clock.input{}.", i);
      w.set_metadata(key + "rank", rank_of(i));
      w.set_metadata(key + "file", p.shown);
      if (!p.clock.clock.empty()) w.set_metadata(key + "clock", p.clock.clock);
      if (p.clock.aligned()) {
        w.set_metadata(key + "offset_ns", std::to_string(p.offset_ns));
        w.set_metadata(key + "basis", p.clock.basis);
      } else {
        all_aligned = false;
        w.set_metadata(key + "unaligned", p.clock.reason);
      }
      if (report != nullptr && report->read.size() >= parts.size()) {
        InputReport::File& f = report->read[report->read.size() - parts.size() + i];
        f.merged = true;
        f.rank = rank_of(i);
        f.clock = p.clock;
        f.offset_ns = p.offset_ns;
      }
    }
    if (all_aligned) w.set_metadata("clock.timeline", "Unix epoch ns");
  }

  // --- planning ---

  Status plan_file(const std::string& path, const std::string& shown, bool in_walk, bool* claimed) {
    auto head = read_head(path);
    if (!head.ok()) return head.status();
    const FormatInfo* f = sniff_file(*head, path);
    *claimed = f != nullptr;
    if (f == nullptr) {
      if (in_walk) {
        if (report) report->unclaimed.push_back(path);
        return OkStatus();
      }
      if (head->empty()) return Status::Error(fmt::format("{}: empty file", path));
      return Status::Error(
          fmt::format("{}: not a recognised trace (tried {})", path, file_format_names()));
    }
    planned.push_back({path, shown, f, nullptr});
    return OkStatus();
  }

  // Plans `dir` as a layout some FolderFormat claims, else file by file (recursing).
  Status plan_folder(const std::string& dir, uint64_t* claimed_files) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && !walked.insert({st.st_dev, st.st_ino}).second) {
      return OkStatus();
    }
    for (const FolderFormat& ff : folder_formats()) {
      if (!ff.claims(dir)) continue;
      planned.push_back({dir, dir, nullptr, &ff});
      ++*claimed_files;
      return OkStatus();
    }
    std::vector<fs::directory_entry> entries;
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      entries.push_back(*it);
    }
    if (ec) return Status::Error(fmt::format("{}: cannot list the folder: {}", dir, ec.message()));
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path().native() < b.path().native(); });
    for (const fs::directory_entry& e : entries) {
      const std::string p = e.path().string();
      if (e.is_directory(ec)) {
        HUOYAN_RETURN_IF_ERROR(plan_folder(p, claimed_files));
      } else if (e.is_regular_file(ec)) {
        bool claimed = false;
        HUOYAN_RETURN_IF_ERROR(plan_file(p, p, true, &claimed));
        if (claimed) ++*claimed_files;
      }
    }
    return OkStatus();
  }

  Status plan(const std::string& path, const std::string& shown) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return Status::Error(fmt::format("{}: cannot open: {}", path,
                                       ec ? ec.message() : std::string("no such file")));
    }
    if (fs::is_directory(st)) {
      uint64_t claimed = 0;
      HUOYAN_RETURN_IF_ERROR(plan_folder(path, &claimed));
      if (claimed == 0) {
        return Status::Error(
            fmt::format("{}: no trace in this folder (no folder layout matched; no file is {})",
                        path, file_format_names()));
      }
      return OkStatus();
    }
    bool claimed = false;
    return plan_file(path, shown, false, &claimed);
  }

  // --- reading ---

  // Input i is read with its pids moved by i * kInputPidStride, its step ids by i << 40 (two
  // files' step 7 stay two steps) and, when several inputs are merged, its times by its clock's
  // offset to the Unix epoch (0 when it has none).
  Status read_all() {
    const bool merged = planned.size() >= 2;
    for (size_t i = 0; i < planned.size(); ++i) {
      const Planned& in = planned[i];
      Part part{store.snapshot().processes().size(), rank_metadata(), "", in.shown, {}, 0};
      if (merged) {
        auto probe = in.file ? in.file->clock : in.folder->clock;
        part.clock = probe != nullptr ? probe(in.path)
                                      : InputClock::unknown("no sync info (format records none)");
        if (part.clock.aligned()) part.offset_ns = part.clock.to_epoch_ns;
      }
      ReadOptions o = options;
      o.pid_offset = options.pid_offset + static_cast<int64_t>(i) * kInputPidStride;
      store.set_input_step_offset(static_cast<uint64_t>(i) << kInputStepShift);
      store.set_input_time_offset(part.offset_ns);
      auto r =
          in.file ? in.file->read_file(in.path, store, o) : in.folder->read_dir(in.path, store, o);
      store.set_input_time_offset(0);
      if (r.ok()) mirror_communication_layers(store, part.first_process);
      if (!r.ok()) {
        return in.path == in.shown
                   ? r.status()
                   : Status::Error(replace_all(r.status().message(), in.path, in.shown));
      }
      const std::string after = rank_metadata();
      if (after != part.rank_before) part.rank = after;
      parts.push_back(std::move(part));
      total.events += r->events;
      total.skipped += r->skipped;
      total.bytes += r->bytes;
      if (report) {
        report->read.push_back(
            {in.shown, std::string(in.file ? in.file->name : in.folder->name), *r});
      }
    }
    return OkStatus();
  }

  Status finish() {
    HUOYAN_RETURN_IF_ERROR(read_all());
    name_devices_by_rank();
    record_clocks();
    return OkStatus();
  }
};

// HUOYAN_STDIN_MAX_BYTES, else kDefaultStdinMax: how much of "-" may be spooled.
uint64_t stdin_limit() {
  const char* env = std::getenv("HUOYAN_STDIN_MAX_BYTES");
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end != nullptr && *end == '\0' && v > 0) return v;
  }
  return kDefaultStdinMax;
}

// Copies standard input to a temporary file (named by *guard until the walk removes it);
// returns its path. Endless input stops at stdin_limit() with an error, the file removed.
Result<std::string> spool_stdin(TempFileGuard* guard) {
  const char* tmp = std::getenv("TMPDIR");
  std::string name = fmt::format("{}/huoyan-stdin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return Status::Error(
        fmt::format("<stdin>: cannot create a temporary file: {}", std::strerror(errno)));
  }
  *guard = TempFileGuard(name);
  const uint64_t limit = stdin_limit();
  uint64_t total = 0;
  std::vector<char> buf(1 << 20);
  while (true) {
    const ssize_t n = ::read(0, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      ::unlink(name.c_str());
      return Status::Error(fmt::format("<stdin>: read error: {}", std::strerror(errno)));
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > limit) {
      ::close(fd);
      ::unlink(name.c_str());
      return Status::Error(fmt::format(
          "<stdin>: more than {} bytes (HUOYAN_STDIN_MAX_BYTES): save the trace to a file and "
          "pass its name",
          limit));
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(fd, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        ::close(fd);
        ::unlink(name.c_str());
        return Status::Error(
            fmt::format("<stdin>: cannot spool to {}: {}", name, std::strerror(errno)));
      }
      done += w;
    }
  }
  ::close(fd);
  return name;
}

Status walk_input(Walk& walk, const std::string& path) {
  if (path != "-") return walk.plan(path, path);
  TempFileGuard guard;
  auto tmp = spool_stdin(&guard);
  if (!tmp.ok()) return tmp.status();
  walk.spooled.push_back(*tmp);
  walk.spool_guards.push_back(std::move(guard));
  Status st = walk.plan(*tmp, "<stdin>");
  return st.ok() ? st : Status::Error(replace_all(st.message(), *tmp, "<stdin>"));
}

}  // namespace

std::string file_format_names() {
  std::string out;
  for (const FormatInfo& f : file_formats()) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

Result<std::string> read_head(const std::string& path, size_t max) {
  auto src = ByteSource::open(path);
  if (!src.ok()) return src.status();
  std::string head(max, '\0');
  size_t got = 0;
  while (got < max) {
    auto r = (*src)->read(head.data() + got, max - got);
    if (!r.ok()) {
      if (got > 0) break;  // a damaged stream past the head: the reader will report it
      return r.status();
    }
    if (*r == 0) break;
    got += *r;
  }
  head.resize(got);
  return head;
}

const FormatInfo* sniff_file(std::string_view head, const std::string& path) {
  for (const FormatInfo& f : file_formats()) {
    if (f.sniff(head, path)) return &f;
  }
  return nullptr;
}

Result<ReadStats> read_input(const std::string& path, TraceStore& store, const ReadOptions& options,
                             InputReport* report) {
  Walk walk{store, options, report};
  HUOYAN_RETURN_IF_ERROR(walk_input(walk, path));
  HUOYAN_RETURN_IF_ERROR(walk.finish());
  return walk.total;
}

Result<ReadStats> read_inputs(const std::vector<std::string>& paths, TraceStore& store,
                              const ReadOptions& options, InputReport* report) {
  Walk walk{store, options, report};
  for (const std::string& p : paths) HUOYAN_RETURN_IF_ERROR(walk_input(walk, p));
  HUOYAN_RETURN_IF_ERROR(walk.finish());
  return walk.total;
}

}  // namespace huoyan
