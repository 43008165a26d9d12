// Output sinks for the streaming writers: a file (written to a temporary name and renamed on
// finish(), gzip-compressed when the name ends in ".gz"), standard output, a string, or a
// callback (an HTTP response body). Writers never build a whole trace in memory.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "src/core/status.h"

namespace huoyan {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status write(std::string_view data) = 0;
  // Completes the output. For files: flush, compress trailer, rename into place. A sink
  // destroyed without finish() leaves no partial file behind.
  virtual Status finish() { return OkStatus(); }
};

class StringSink : public Sink {
 public:
  Status write(std::string_view data) override {
    out_.append(data);
    return OkStatus();
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// Calls `fn` for every buffer; `fn` returns false to abort (e.g. the HTTP client went away).
class CallbackSink : public Sink {
 public:
  explicit CallbackSink(std::function<bool(std::string_view)> fn) : fn_(std::move(fn)) {}
  Status write(std::string_view data) override {
    if (!fn_(data)) return Status::Error("output closed by the receiver");
    return OkStatus();
  }

 private:
  std::function<bool(std::string_view)> fn_;
};

// Opens `path` for writing ("-" and "/dev/stdout" = standard output). gzip when `path` ends in
// ".gz". A symlink is followed to its target. A regular file or a new name is written through a
// temporary file renamed into place by finish() (removed on SIGINT/SIGTERM, temp_files.h); a
// FIFO, device or other special file is opened and written directly, never replaced.
Result<std::unique_ptr<Sink>> open_file_sink(const std::string& path);

// Buffers small appends in front of a sink; the hot path of every writer. The first error is
// kept and reported by status(); later writes are ignored.
class BufferedOut {
 public:
  explicit BufferedOut(Sink* sink, size_t capacity = size_t{1} << 20);
  ~BufferedOut();
  BufferedOut(const BufferedOut&) = delete;
  BufferedOut& operator=(const BufferedOut&) = delete;

  void put(char c) {
    if (pos_ == cap_) flush_buffer();
    buf_[pos_++] = c;
  }
  void put(std::string_view s) {
    if (s.size() > cap_ - pos_) {
      flush_buffer();
      if (s.size() > cap_) {
        write_through(s);
        return;
      }
    }
    std::memcpy(buf_.get() + pos_, s.data(), s.size());
    pos_ += s.size();
  }
  // Room for at least n bytes, to be committed with commit(n) after writing into the pointer.
  char* reserve(size_t n) {
    if (n > cap_ - pos_) flush_buffer();
    return buf_.get() + pos_;
  }
  void commit(size_t n) { pos_ += n; }
  size_t capacity() const { return cap_; }
  uint64_t bytes_written() const { return total_ + pos_; }

  // Pushes buffered bytes to the sink (not finish()).
  Status flush();
  const Status& status() const { return status_; }

 private:
  void flush_buffer();
  void write_through(std::string_view s);

  Sink* sink_;
  std::unique_ptr<char[]> buf_;
  size_t cap_;
  size_t pos_ = 0;
  uint64_t total_ = 0;
  Status status_;
};

}  // namespace huoyan
