// The records that producers write into their thread's ring and the drain thread decodes.
//
// A record is one 32-byte header slot followed by `payload_slots` slots of payload bytes.
// Payload fields appear in a fixed order, each present when its flag says so:
//   [request id: str][name: str][device: u8 kind, i32 device, i64 stream][attrs][step members]
// where str = u16 length + bytes, attrs = u16 count + per attr {u8 type, str key, value: 8 bytes
// (int/double) or str}, step members = u32 count + per member {u32 tokens, str request id}.
// Everything is host byte order: records never leave the process.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "huoyan/huoyan.h"

namespace huoyan::recording {

enum class RecordKind : uint8_t {
  kSpan = 1,     // t0..t1 on the thread's row; name = site or payload name
  kInstant,      // t0
  kCounter,      // t0; t1 holds the value (a double's bits)
  kKernel,       // t0..t1 in ns on a device row; name and device in the payload
  kStepMembers,  // members of step `step` (a long list spans several records)
  kStepEnd,      // step `step` ran t0..t1
  kRequestMark,  // t0; flags carry the mark; t1 the tokens; payload the request id
};

namespace record_flags {
inline constexpr uint8_t kTicks = 1 << 0;       // t0/t1 are cycle-counter ticks, else ns
inline constexpr uint8_t kHasRequest = 1 << 1;  // payload starts with a request id
inline constexpr uint8_t kHasName = 1 << 2;     // name in the payload (site is 0)
inline constexpr uint8_t kHasAttrs = 1 << 3;
inline constexpr uint8_t kMarkShift = 5;  // kRequestMark: mark in bits 5-6
}  // namespace record_flags

enum class MarkKind : uint8_t { kArrival, kFirstToken, kFinish };

struct RecordHeader {
  uint64_t t0;
  uint64_t t1;
  uint64_t step;
  uint32_t site;  // call-site id (SiteRegistry), 0 when the name is in the payload
  RecordKind kind;
  uint8_t flags;
  uint16_t payload_slots;
};

inline constexpr size_t kSlotBytes = 32;
static_assert(sizeof(RecordHeader) == kSlotBytes, "a record header is exactly one slot");

// Longest string kept in a record (names, request ids, attribute text); longer ones are cut.
inline constexpr size_t kMaxString = 1024;
// Most attributes kept per event.
inline constexpr size_t kMaxAttrs = 64;

inline size_t str_size(std::string_view s) { return 2 + std::min(s.size(), kMaxString); }
// Bytes PayloadWriter::attrs(a, b) writes.
size_t attrs_size(std::span<const Attr> a, std::span<const Attr> b = {});

// Appends payload fields to a byte destination that may wrap (the ring); the caller sized it
// with the *_size() functions.
class PayloadWriter {
 public:
  // Bytes [pos, pos + n) of a ring of `ring_bytes` (a power of two) starting at `base`.
  PayloadWriter(unsigned char* base, size_t ring_bytes, size_t pos)
      : base_(base), mask_(ring_bytes - 1), pos_(pos) {}
  void bytes(const void* p, size_t n);
  template <typename T>
  void pod(const T& v) {
    bytes(&v, sizeof(T));
  }
  void str(std::string_view s);
  void attrs(std::span<const Attr> attrs);
  void attrs(std::span<const Attr> a, std::span<const Attr> b);  // one block of both lists

 private:
  unsigned char* base_;
  size_t mask_;
  size_t pos_;
};

// Reads a contiguous payload. Bounds-checked: a malformed payload reads as empty values and
// sets failed() instead of reading out of range.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const unsigned char> bytes) : p_(bytes) {}
  template <typename T>
  T pod() {
    T v{};
    if (pos_ + sizeof(T) > p_.size()) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, p_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view str();
  bool failed() const { return failed_; }

 private:
  std::span<const unsigned char> p_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace huoyan::recording
