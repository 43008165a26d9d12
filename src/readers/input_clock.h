// Where an input's timestamps sit on the wall clock: the sync information a trace file carries,
// as read by its format (FormatInfo::clock / FolderFormat::clock), before the file is read.
//
// The common timeline of merged inputs is the Unix epoch in ns. An input is aligned when its
// files say where their ts 0 sits on it: already on the epoch (offset 0: msprof and torch_npu
// CSV/SQLite outputs), or relative to an anchor the file records (Kineto `baseTimeNanoseconds`,
// Nsight Systems `TARGET_INFO_SESSION_START_TIME.utcEpochNs`, huoyan's own
// `clock.mspti.offset_ns`). Anything else is unaligned, with the reason, and is never shifted:
// a missing or unreadable sync field is reported, not guessed around.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace huoyan {

struct InputClock {
  enum class Kind : uint8_t {
    kUnknown,   // the input carries no sync information
    kEpoch,     // its timestamps are Unix epoch time already
    kAnchored,  // its timestamps are relative to an anchor on the Unix epoch
    kInvalid,   // it carries sync fields, but they are unusable (reason says why)
  };
  Kind kind = Kind::kUnknown;
  std::string clock;        // the input's time base: "Unix epoch", "Nsight Systems session"…
  int64_t to_epoch_ns = 0;  // ts + to_epoch_ns = Unix epoch ns (aligned kinds only)
  std::string basis;        // the fields it rests on: "baseTimeNanoseconds=1719853884000000000"
  std::string reason;       // why it is not aligned (kUnknown, kInvalid)

  bool aligned() const { return kind == Kind::kEpoch || kind == Kind::kAnchored; }

  static InputClock epoch(std::string clock, std::string basis);
  static InputClock anchored(std::string clock, int64_t to_epoch_ns, std::string basis);
  static InputClock unknown(std::string reason);
  static InputClock invalid(std::string clock, std::string reason);
};

// Epoch anchors are accepted from 1970 up to 2^62 ns (year 2116): past that, adding a file's
// relative ts could overflow int64, and such an anchor is absurd anyway.
inline constexpr int64_t kMaxEpochAnchorNs = int64_t{1} << 62;

// Parses a sync field's text (a JSON number or SQLite integer as written: optional quotes,
// digits only) into ns × `scale`. False, with *why set, when it is negative, not an integer,
// zero, or beyond kMaxEpochAnchorNs.
bool parse_epoch_anchor(std::string_view text, int64_t scale, int64_t* out, std::string* why);

// Combines two readings of the same anchor (e.g. a key written twice): equal values, or
// kInvalid "contradictory".
InputClock agree(const InputClock& a, const InputClock& b);

// "rank 1  nsys.sqlite  Nsight Systems session  +1696392839587175550 ns  utcEpochNs=…" style
// line of the alignment report (the CLI prints one per merged input).
std::string clock_report_line(std::string_view rank, std::string_view path, const InputClock& c,
                              int64_t offset_ns);

}  // namespace huoyan
