#include "src/io/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace huoyan {
namespace {

class FdSource : public ByteSource {
 public:
  FdSource(int fd, std::string name, uint64_t size, bool owned)
      : fd_(fd), size_(size), owned_(owned) {
    name_ = std::move(name);
  }
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        pos_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      return Status::Error(fmt::format("{}: read failed at byte {}: {}", name_, pos_,
                                       std::strerror(errno)));
    }
  }
  uint64_t file_size() const override { return size_; }
  uint64_t file_position() const override { return pos_; }

 private:
  int fd_;
  uint64_t size_;
  uint64_t pos_ = 0;
  bool owned_;
};

// Streaming gzip decoder over another source; handles concatenated members (as `cat a.gz b.gz`).
class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), in_(1 << 18) {
    name_ = inner_->name();
    std::memset(&zs_, 0, sizeof(zs_));
    ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK;  // 32: auto-detect gzip/zlib header
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  Result<size_t> read(char* buf, size_t n) override {
    if (!ok_) return Status::Error(name_ + ": cannot initialise gzip decoder");
    if (done_) return size_t{0};
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (zs_.avail_out > 0) {
      if (zs_.avail_in == 0) {
        auto r = inner_->read(in_.data(), in_.size());
        if (!r.ok()) return r.status();
        if (*r == 0) {
          if (!member_done_) {
            return Status::Error(fmt::format(
                "{}: gzip stream truncated after {} compressed bytes", name_,
                inner_->file_position()));
          }
          done_ = true;
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(*r);
      }
      if (member_done_) {
        // Another gzip member follows (or trailing garbage, which zlib reports below).
        inflateReset(&zs_);
        member_done_ = false;
      }
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_done_ = true;
        continue;
      }
      if (rc == Z_BUF_ERROR && zs_.avail_in == 0) continue;
      if (rc != Z_OK) {
        return Status::Error(fmt::format("{}: corrupt gzip data near compressed byte {}: {}",
                                         name_, inner_->file_position() - zs_.avail_in,
                                         zs_.msg ? zs_.msg : "inflate error"));
      }
    }
    const size_t produced = n - zs_.avail_out;
    produced_ += produced;
    return produced;
  }
  uint64_t file_size() const override { return inner_->file_size(); }
  uint64_t file_position() const override { return inner_->file_position(); }
  bool compressed() const override { return true; }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  z_stream zs_;
  bool ok_ = false;
  bool done_ = false;
  bool member_done_ = false;
  uint64_t produced_ = 0;
};

class StringSource : public ByteSource {
 public:
  StringSource(std::string data, std::string name) : data_(std::move(data)) {
    name_ = std::move(name);
  }
  Result<size_t> read(char* buf, size_t n) override {
    const size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t file_size() const override { return data_.size(); }
  uint64_t file_position() const override { return pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Wraps a source whose first bytes were already consumed for sniffing.
class PrefixedSource : public ByteSource {
 public:
  PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> inner)
      : prefix_(std::move(prefix)), inner_(std::move(inner)) {
    name_ = inner_->name();
  }
  Result<size_t> read(char* buf, size_t n) override {
    if (pos_ < prefix_.size()) {
      const size_t k = std::min(n, prefix_.size() - pos_);
      std::memcpy(buf, prefix_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return inner_->read(buf, n);
  }
  uint64_t file_size() const override { return inner_->file_size(); }
  uint64_t file_position() const override { return inner_->file_position(); }
  bool compressed() const override { return inner_->compressed(); }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  std::unique_ptr<ByteSource> inner_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> ByteSource::open(const std::string& path) {
  std::unique_ptr<ByteSource> raw;
  if (path == "-") {
    raw = std::make_unique<FdSource>(0, "<stdin>", 0, false);
  } else {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::Error(fmt::format("{}: is a directory, not a file", path));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    raw = std::make_unique<FdSource>(fd, path, static_cast<uint64_t>(st.st_size), true);
  }
  // Sniff the gzip magic from the content, not the name.
  std::string head(2, '\0');
  size_t got = 0;
  while (got < 2) {
    auto r = raw->read(head.data() + got, 2 - got);
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    got += *r;
  }
  head.resize(got);
  const bool gz = got == 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
                  static_cast<unsigned char>(head[1]) == 0x8b;
  std::unique_ptr<ByteSource> src = std::make_unique<PrefixedSource>(head, std::move(raw));
  if (gz) src = std::make_unique<GzipSource>(std::move(src));
  return src;
}

std::unique_ptr<ByteSource> ByteSource::with_prefix(std::string prefix,
                                                    std::unique_ptr<ByteSource> rest) {
  return std::make_unique<PrefixedSource>(std::move(prefix), std::move(rest));
}

std::unique_ptr<ByteSource> ByteSource::from_string(std::string data, std::string name) {
  return std::make_unique<StringSource>(std::move(data), std::move(name));
}

Result<std::string> read_all(const std::string& path, size_t max_bytes) {
  auto src = ByteSource::open(path);
  if (!src.ok()) return src.status();
  std::string out;
  std::vector<char> buf(1 << 20);
  while (true) {
    auto r = (*src)->read(buf.data(), buf.size());
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    if (out.size() + *r > max_bytes) {
      return Status::Error(fmt::format("{}: larger than {} bytes", path, max_bytes));
    }
    out.append(buf.data(), *r);
  }
  return out;
}

bool is_gzip_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char m[2] = {0, 0};
  const bool ok = ::read(fd, m, 2) == 2 && m[0] == 0x1f && m[1] == 0x8b;
  ::close(fd);
  return ok;
}

}  // namespace huoyan
