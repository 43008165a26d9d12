// The request list behind GET /api/requests: one row per request the store knows, with its
// lifecycle, token counts and device/host totals, plus an index sorted by id for prefix search.
//
// Built in one pass over a snapshot (O(events × batch size) for the exact apportioned split),
// then immutable: queries are O(log n + limit) for id order and prefix search, and use lazily
// built per-key orders otherwise. Totals match the per-request analysis functions:
//  - device_shared / device_apportioned: the device events of every step the request was a
//    member of, as request_device_events() counts them (apportioned per event, exactly);
//  - host: the time covered by the request's own host spans (queueing, tokenization…), each
//    track's overlapping spans counted once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "src/core/trace_store.h"
#include "src/io/sink.h"

namespace huoyan::server {

struct RequestRow {
  StringId id = 0;
  std::string_view id_text;   // in the store's string table (kept alive by the index)
  int64_t arrival = kNoTime;  // kNoTime: unknown
  int64_t first_token = kNoTime;
  int64_t finish = kNoTime;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
  uint64_t steps = 0;
  int64_t device_shared = 0;
  int64_t device_apportioned = 0;
  int64_t host = 0;
};

// The totals of a row as JSON members: ,"tokens_in":…,"tokens_out":…,"steps":…,
// "device_ns_shared":…,"device_ns_apportioned":…,"host_ns":… (the shape of /api/requests).
void write_request_totals_json(BufferedOut& out, const RequestRow& row);

enum class RequestSortKey { kId, kArrival, kSteps, kDevice, kHost, kTokensOut };
inline constexpr size_t kRequestSortKeys = 6;

// "id", "arrival_ns", "steps", "device_ns", "host_ns", "tokens_out", each optionally preceded
// by '-' (descending).
bool parse_request_sort(std::string_view text, RequestSortKey* key, bool* descending);

class RequestIndex {
 public:
  static std::shared_ptr<const RequestIndex> build(const TraceStore& store);

  struct Page {
    size_t total = 0;  // rows matching the prefix
    std::vector<const RequestRow*> rows;
  };
  // Rows whose id starts with `prefix` (byte-wise), ordered by `key` (unknown values last in
  // both directions; ties by id): at most `limit` of them, after skipping the first `offset`.
  Page query(std::string_view prefix, RequestSortKey key, bool descending, size_t offset,
             size_t limit) const;
  size_t size() const { return rows_.size(); }

 private:
  const std::vector<uint32_t>& order(RequestSortKey key, bool descending) const;

  std::shared_ptr<const StringTable> strings_;
  std::vector<RequestRow> rows_;
  std::vector<uint32_t> by_id_;    // row indexes sorted by id text
  std::vector<uint32_t> id_rank_;  // row index → position in by_id_
  // Orders by the other keys, built on first use (most lists are only ever shown by id).
  mutable std::array<std::once_flag, kRequestSortKeys * 2> order_once_;
  mutable std::array<std::vector<uint32_t>, kRequestSortKeys * 2> orders_;
};

}  // namespace huoyan::server
