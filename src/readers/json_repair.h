// In-place repairs that let an event with bad bytes be parsed instead of dropped. Both keep the
// length of the text (one byte in, one byte out), so offsets into it stay valid.
#pragma once

#include <cstddef>

namespace huoyan {

// Replaces every byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) with '?'. Returns how many bytes were
// replaced.
size_t repair_utf8(char* p, size_t n);

// Replaces raw control characters (bytes below 0x20, which JSON only allows escaped) inside
// string literals of the JSON text with ' ' (tab, CR, LF) or '?' (others, NUL included).
// Returns how many bytes were replaced.
size_t repair_string_controls(char* p, size_t n);

}  // namespace huoyan
