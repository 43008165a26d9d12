#include "src/io/sink.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "src/io/temp_files.h"

namespace huoyan {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status write_fd(int fd, const std::string& name, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Error(fmt::format("{}: write failed: {}", name, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return OkStatus();
}

class StdoutSink : public Sink {
 public:
  Status write(std::string_view data) override { return write_fd(1, "<stdout>", data); }
};

// With a `tmp` name: writes to "<dir>/.<name>.tmp-XXXX" and renames over `path` in finish():
// readers of `path` never see half a trace, even if the process dies mid-write. Without one
// (a FIFO, a device, a terminal): writes to `fd`, which is `path` itself.
class FileSink : public Sink {
 public:
  FileSink(std::string path, std::string tmp, int fd, bool gzip)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd), gzip_(gzip) {
    if (!tmp_.empty()) guard_ = TempFileGuard(tmp_);
    if (gzip_) {
      std::memset(&zs_, 0, sizeof(zs_));
      // Level 3: most of the size win of level 6 at several times the speed.
      deflateInit2(&zs_, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
      zbuf_.resize(1 << 18);
    }
  }
  ~FileSink() override {
    if (gzip_) deflateEnd(&zs_);
    if (fd_ >= 0) {
      ::close(fd_);
      if (!tmp_.empty()) ::unlink(tmp_.c_str());
    }
  }
  Status write(std::string_view data) override {
    if (!gzip_) return write_fd(fd_, path_, data);
    return deflate_some(data, Z_NO_FLUSH);
  }
  Status finish() override {
    if (fd_ < 0) return Status::Error(path_ + ": already finished");
    if (gzip_) HUOYAN_RETURN_IF_ERROR(deflate_some({}, Z_FINISH));
    if (tmp_.empty()) {
      const int rc = ::close(fd_);
      fd_ = -1;
      if (rc != 0 && errno != EINTR) {
        return Status::Error(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
      }
      return OkStatus();
    }
    if (::fsync(fd_) != 0 && errno != EINVAL) {
      return Status::Error(fmt::format("{}: fsync failed: {}", path_, std::strerror(errno)));
    }
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp_.c_str());
      return Status::Error(
          fmt::format("{}: cannot rename into place: {}", path_, std::strerror(err)));
    }
    guard_.release();
    return OkStatus();
  }

 private:
  Status deflate_some(std::string_view data, int flush) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs_.avail_in = static_cast<uInt>(data.size());
    while (true) {
      zs_.next_out = reinterpret_cast<Bytef*>(zbuf_.data());
      zs_.avail_out = static_cast<uInt>(zbuf_.size());
      const int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) return Status::Error(path_ + ": gzip compression failed");
      const size_t produced = zbuf_.size() - zs_.avail_out;
      if (produced > 0) HUOYAN_RETURN_IF_ERROR(write_fd(fd_, path_, {zbuf_.data(), produced}));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
    }
    return OkStatus();
  }

  std::string path_;
  std::string tmp_;
  int fd_;
  bool gzip_;
  z_stream zs_{};
  std::vector<char> zbuf_;
  TempFileGuard guard_;
};

// Follows `path` through symlinks (relative targets against the link's folder) to the name that
// is really written; a dangling link resolves to its missing target, which is then created.
Result<std::string> resolve_symlinks(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char target[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n < 0) {
      return Status::Error(fmt::format("{}: cannot read the link: {}", path, std::strerror(errno)));
    }
    std::string next(target, static_cast<size_t>(n));
    const size_t slash = path.find_last_of('/');
    if (next.front() != '/' && slash != std::string::npos) next = path.substr(0, slash + 1) + next;
    path = std::move(next);
  }
  return Status::Error(fmt::format("{}: too many levels of symbolic links", path));
}

}  // namespace

Result<std::unique_ptr<Sink>> open_file_sink(const std::string& requested) {
  if (requested == "-" || requested == "/dev/stdout") {
    return std::unique_ptr<Sink>(std::make_unique<StdoutSink>());
  }
  // Only a regular file (or a new name) is replaced atomically: renaming over a device, a FIFO
  // or a link would replace the special file itself (as root, /dev/null by a regular file).
  // stat() lets the kernel follow links, /proc/self/fd/N and /dev/stderr included.
  const bool gzip = ends_with(requested, ".gz");
  std::string path = requested;
  struct stat st {};
  if (::stat(requested.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Error(fmt::format("{}: is a folder", requested));
    if (!S_ISREG(st.st_mode)) {
      const int fd = ::open(requested.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) {
        return Status::Error(fmt::format("{}: cannot open: {}", requested, std::strerror(errno)));
      }
      return std::unique_ptr<Sink>(std::make_unique<FileSink>(requested, "", fd, gzip));
    }
    // A regular file, perhaps behind links: replace the file, not the link.
    if (char* real = ::realpath(requested.c_str(), nullptr)) {
      path = real;
      std::free(real);
    }
  } else if (errno == ENOENT) {
    // A new name, or a dangling link: create its target.
    auto resolved = resolve_symlinks(requested);
    if (!resolved.ok()) return resolved.status();
    path = *resolved;
  } else {
    return Status::Error(fmt::format("{}: cannot open: {}", requested, std::strerror(errno)));
  }
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return Status::Error(fmt::format("{}: not a file name", path));
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::string tmp = fmt::format("{}/.{}.tmp-{:08x}", dir, base, rd());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      return std::unique_ptr<Sink>(std::make_unique<FileSink>(path, tmp, fd, gzip));
    }
    if (errno != EEXIST) {
      return Status::Error(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
    }
  }
  return Status::Error(fmt::format("{}: cannot create a temporary file", path));
}

BufferedOut::BufferedOut(Sink* sink, size_t capacity)
    : sink_(sink), buf_(new char[capacity]), cap_(capacity) {}

BufferedOut::~BufferedOut() = default;

void BufferedOut::flush_buffer() {
  if (pos_ > 0 && status_.ok()) status_ = sink_->write({buf_.get(), pos_});
  total_ += pos_;
  pos_ = 0;
}

void BufferedOut::write_through(std::string_view s) {
  if (status_.ok()) status_ = sink_->write(s);
  total_ += s.size();
}

Status BufferedOut::flush() {
  flush_buffer();
  return status_;
}

}  // namespace huoyan
