#include "src/readers/nsys_sync_info.h"

#include <fmt/format.h>

#include "src/readers/sqlite_db.h"

namespace huoyan {

InputClock nsys_input_clock(const std::string& path) {
  constexpr std::string_view kClock = "Nsight Systems session";
  auto db = SqliteDb::open(path);
  if (!db.ok()) return InputClock::invalid(std::string(kClock), db.status().message());
  if (!db->has_table("TARGET_INFO_SESSION_START_TIME")) {
    return InputClock::unknown("no sync info (no TARGET_INFO_SESSION_START_TIME table)");
  }
  auto st = db->prepare(
      "SELECT CAST(utcEpochNs AS TEXT), typeof(utcEpochNs) FROM "
      "TARGET_INFO_SESSION_START_TIME");
  if (!st.ok()) return InputClock::invalid(std::string(kClock), st.status().message());
  InputClock out = InputClock::unknown("no sync info (TARGET_INFO_SESSION_START_TIME is empty)");
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    InputClock row;
    if (st->is_null(0)) {
      row = InputClock::invalid(std::string(kClock), "utcEpochNs is NULL");
    } else if (st->text(1) != "integer") {
      row = InputClock::invalid(std::string(kClock),
                                fmt::format("utcEpochNs is not an integer ({})", st->text(0)));
    } else {
      int64_t ns = 0;
      std::string why;
      row = parse_epoch_anchor(st->text(0), 1, &ns, &why)
                ? InputClock::anchored(
                      std::string(kClock), ns,
                      fmt::format("TARGET_INFO_SESSION_START_TIME.utcEpochNs={}", ns))
                : InputClock::invalid(std::string(kClock), "utcEpochNs " + why);
    }
    out = agree(out, row);
  }
  if (rc != SQLITE_DONE) {
    return InputClock::invalid(std::string(kClock),
                               db->error("TARGET_INFO_SESSION_START_TIME").message());
  }
  return out;
}

}  // namespace huoyan
