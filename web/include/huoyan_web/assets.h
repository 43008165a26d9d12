// The web UI, embedded into the binary at build time (see web/CMakeLists.txt).
#pragma once

#include <span>
#include <string_view>

namespace huoyan::web {

struct Asset {
  std::string_view path;          // "/index.html", "/assets/index-abc.js"
  std::string_view content_type;  // ready for the Content-Type header
  std::string_view data;          // file bytes; gzip-compressed when `gzip`
  bool gzip;                      // send with `Content-Encoding: gzip`
};

// Exact lookup by URL path; "/" and "" give "/index.html". nullptr if absent.
const Asset* find_asset(std::string_view path);

// Every asset, sorted by path.
std::span<const Asset> all_assets();

// The template of `huoyan analyze --format html`: one HTML file with the report UI's scripts and
// styles inlined and the marker <!--huoyan:data--> where the report's JSON goes. Empty when the
// UI was embedded from a prebuilt dist without it.
std::string_view report_template();

}  // namespace huoyan::web
