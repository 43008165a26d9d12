// The one place where nanoseconds meet Chrome's microseconds. Both directions are exact: no
// floating point is involved, so values beyond 2^53 ns and negative values survive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace huoyan {

// Writes ns as microseconds with exactly three decimals ("-1.500", "1704161511420306.491").
// `out` needs 24 bytes; returns the number of characters written (no terminator).
size_t format_ns_as_us(int64_t ns, char* out);

// Parses a JSON number (or the text of a numeric string) given in `unit_ns` units — 1000 for
// microseconds — into integer ns, by its digits: "1704161511420306.491" µs → 1704161511420306491.
// Accepts an optional sign, fraction and exponent; digits below 1 ns are rounded half away from
// zero. Returns false for text that is not a number, NaN/Infinity, or a result outside int64.
bool parse_decimal_to_ns(std::string_view text, int64_t unit_ns, int64_t* ns);

// Same for an unsigned integer id (flow ids, correlation ids above 2^53); accepts decimal and
// "0x…" hex text. Returns false when not an integer or out of range.
bool parse_u64(std::string_view text, uint64_t* value, bool* was_hex = nullptr);

}  // namespace huoyan
