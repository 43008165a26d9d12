#include "src/recording/record.h"

#include <algorithm>

namespace huoyan::recording {

namespace {
size_t attr_size(const Attr& a) {
  size_t n = 1 + str_size(a.key);
  return n + (a.value.type() == AttrValue::Type::kString ? str_size(a.value.as_string()) : 8);
}
}  // namespace

size_t attrs_size(std::span<const Attr> a, std::span<const Attr> b) {
  const size_t na = std::min(a.size(), kMaxAttrs);
  const size_t nb = std::min(b.size(), kMaxAttrs - na);
  size_t n = 2;
  for (size_t i = 0; i < na; ++i) n += attr_size(a[i]);
  for (size_t i = 0; i < nb; ++i) n += attr_size(b[i]);
  return n;
}

void PayloadWriter::bytes(const void* p, size_t n) {
  const auto* src = static_cast<const unsigned char*>(p);
  while (n > 0) {
    const size_t at = pos_ & mask_;
    const size_t run = std::min(n, mask_ + 1 - at);  // up to the end of the ring
    std::memcpy(base_ + at, src, run);
    src += run;
    n -= run;
    pos_ += run;
  }
}

void PayloadWriter::str(std::string_view s) {
  const auto n = static_cast<uint16_t>(std::min(s.size(), kMaxString));
  pod(n);
  bytes(s.data(), n);
}

void PayloadWriter::attrs(std::span<const Attr> attrs) { this->attrs(attrs, {}); }

void PayloadWriter::attrs(std::span<const Attr> a, std::span<const Attr> b) {
  const size_t na = std::min(a.size(), kMaxAttrs);
  const size_t nb = std::min(b.size(), kMaxAttrs - na);
  pod(static_cast<uint16_t>(na + nb));
  for (size_t i = 0; i < na + nb; ++i) {
    const Attr& attr = i < na ? a[i] : b[i - na];
    pod(static_cast<uint8_t>(attr.value.type()));
    str(attr.key);
    switch (attr.value.type()) {
      case AttrValue::Type::kInt:
        pod(attr.value.as_int());
        break;
      case AttrValue::Type::kDouble:
        pod(attr.value.as_double());
        break;
      case AttrValue::Type::kString:
        str(attr.value.as_string());
        break;
    }
  }
}

std::string_view PayloadReader::str() {
  const auto n = pod<uint16_t>();
  if (failed_ || pos_ + n > p_.size()) {
    failed_ = true;
    return {};
  }
  std::string_view s(reinterpret_cast<const char*>(p_.data() + pos_), n);
  pos_ += n;
  return s;
}

}  // namespace huoyan::recording
