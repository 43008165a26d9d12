// JSON text emission helpers shared by every writer: RFC 8259 string escaping (control
// characters as \n \t \r \b \f or \u00XX, DEL as \u007f; invalid UTF-8 — overlongs,
// surrogates, truncated sequences, bytes above F4 — replaced by U+FFFD, one per maximal ill-formed
// subpart as Unicode recommends, so an event is never dropped for its bytes), integers, shortest
// round-trip doubles, and ns → µs with three decimals.
//
// Output is always valid UTF-8 JSON. The BufferedOut must have a capacity of at least 64 bytes
// (numbers and escapes are formatted in place); longer strings stream through any capacity.
#pragma once

#include <cstdint>
#include <string_view>

#include "src/io/sink.h"

namespace huoyan {

// Appends `s` as a quoted JSON string.
void json_string(BufferedOut& out, std::string_view s);
void json_int(BufferedOut& out, int64_t v);
void json_uint(BufferedOut& out, uint64_t v);
// Shortest representation that parses back to the same double; NaN/Inf become null.
void json_double(BufferedOut& out, double v);
// ns written as µs with exactly three decimals (Chrome "ts"/"dur").
void json_us(BufferedOut& out, int64_t ns);

// True when `s` is valid UTF-8 (used by tests and by readers that repair input).
bool is_valid_utf8(std::string_view s);

}  // namespace huoyan
