// Byte sources for readers: plain or gzip-compressed files (detected by content, not name),
// standard input, and in-memory strings. Reading is streaming: callers pull chunks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/core/status.h"

namespace huoyan {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Opens `path` ("-" = standard input). gzip input (magic 1f 8b) is decompressed transparently,
  // including concatenated gzip members.
  static Result<std::unique_ptr<ByteSource>> open(const std::string& path);
  static std::unique_ptr<ByteSource> from_string(std::string data, std::string name = "<memory>");
  // `rest` with `prefix` read first: for bytes already consumed to look at a header.
  static std::unique_ptr<ByteSource> with_prefix(std::string prefix,
                                                 std::unique_ptr<ByteSource> rest);

  // Reads up to n bytes into buf; returns 0 at the end. Errors name the source.
  virtual Result<size_t> read(char* buf, size_t n) = 0;
  // Size of the underlying file in bytes (0 if unknown) and how much of it was consumed: for
  // progress reporting (compressed bytes for gzip input).
  virtual uint64_t file_size() const { return 0; }
  virtual uint64_t file_position() const { return 0; }
  virtual bool compressed() const { return false; }
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
};

// Reads a whole source into memory (for small side files: CSV headers, metadata, tests).
Result<std::string> read_all(const std::string& path, size_t max_bytes = size_t{1} << 32);

// True when the first bytes of `path` are the gzip magic.
bool is_gzip_file(const std::string& path);

}  // namespace huoyan
