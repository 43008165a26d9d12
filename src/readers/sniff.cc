#include "src/readers/sniff.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "src/io/input.h"

namespace huoyan {
namespace {

namespace fs = std::filesystem;

struct Walk {
  TraceStore& store;
  const ReadOptions& options;
  InputReport* report;
  int64_t next_input = 0;  // index of the next file or folder layout read: its pid offset
  ReadStats total;

  // Each input read: its first process, and the store's "rank" metadata before and after it
  // (readers record the rank a file declares there).
  struct Part {
    size_t first_process = 0;
    std::string rank_before;
    std::string rank;
  };
  std::vector<Part> parts;

  ~Walk() { store.set_input_step_offset(0); }

  std::string rank_metadata() const {
    for (auto& [k, v] : store.metadata()) {
      if (k == "rank") return v;
    }
    return "";
  }

  // Input i also moves its step ids by i << 40: two files' step 7 stay two steps.
  ReadOptions next_options() {
    ReadOptions o = options;
    o.pid_offset = options.pid_offset + next_input * kInputPidStride;
    store.set_input_step_offset(static_cast<uint64_t>(next_input) << kInputStepShift);
    ++next_input;
    parts.push_back({store.snapshot().processes().size(), rank_metadata(), ""});
    return o;
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
      const std::string rank = parts[i].rank.empty() ? std::to_string(i) : parts[i].rank;
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

  void add(const std::string& path, std::string_view format, const ReadStats& s) {
    if (!parts.empty()) {
      const std::string after = rank_metadata();
      if (after != parts.back().rank_before) parts.back().rank = after;
    }
    total.events += s.events;
    total.skipped += s.skipped;
    total.bytes += s.bytes;
    if (report) report->read.push_back({path, std::string(format), s});
  }

  Status file(const std::string& path, bool in_walk, bool* claimed) {
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
    auto r = f->read_file(path, store, next_options());
    if (!r.ok()) return r.status();
    add(path, f->name, *r);
    return OkStatus();
  }

  // Reads `dir` as a layout some FolderFormat claims, else file by file (recursing).
  Status folder(const std::string& dir, uint64_t* claimed_files) {
    for (const FolderFormat& ff : folder_formats()) {
      if (!ff.claims(dir)) continue;
      auto r = ff.read_dir(dir, store, next_options());
      if (!r.ok()) return r.status();
      add(dir, ff.name, *r);
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
        HUOYAN_RETURN_IF_ERROR(folder(p, claimed_files));
      } else if (e.is_regular_file(ec)) {
        bool claimed = false;
        HUOYAN_RETURN_IF_ERROR(file(p, true, &claimed));
        if (claimed) ++*claimed_files;
      }
    }
    return OkStatus();
  }

  Status input(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return Status::Error(fmt::format("{}: cannot open: {}", path,
                                       ec ? ec.message() : std::string("no such file")));
    }
    if (fs::is_directory(st)) {
      uint64_t claimed = 0;
      HUOYAN_RETURN_IF_ERROR(folder(path, &claimed));
      if (claimed == 0) {
        return Status::Error(
            fmt::format("{}: no trace in this folder (no folder layout matched; no file is {})",
                        path, file_format_names()));
      }
      return OkStatus();
    }
    bool claimed = false;
    return file(path, false, &claimed);
  }
};

// Copies standard input to a temporary file; returns its path.
Result<std::string> spool_stdin() {
  const char* tmp = std::getenv("TMPDIR");
  std::string name = fmt::format("{}/huoyan-stdin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return Status::Error(
        fmt::format("<stdin>: cannot create a temporary file: {}", std::strerror(errno)));
  }
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

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) {
    s.replace(i, from.size(), to);
  }
  return s;
}

Status walk_input(Walk& walk, const std::string& path) {
  if (path != "-") return walk.input(path);
  auto tmp = spool_stdin();
  if (!tmp.ok()) return tmp.status();
  const size_t first = walk.report ? walk.report->read.size() : 0;
  Status st = walk.input(*tmp);
  ::unlink(tmp->c_str());
  if (walk.report) {
    for (size_t i = first; i < walk.report->read.size(); ++i) walk.report->read[i].path = "<stdin>";
  }
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
  walk.name_devices_by_rank();
  return walk.total;
}

Result<ReadStats> read_inputs(const std::vector<std::string>& paths, TraceStore& store,
                              const ReadOptions& options, InputReport* report) {
  Walk walk{store, options, report};
  for (const std::string& p : paths) HUOYAN_RETURN_IF_ERROR(walk_input(walk, p));
  walk.name_devices_by_rank();
  return walk.total;
}

}  // namespace huoyan
