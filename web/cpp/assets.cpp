#include "huoyan_web/assets.h"

#include <algorithm>
#include <cstddef>

namespace huoyan::web {
namespace detail {
// Defined in the generated source, sorted by path.
extern const Asset kAssets[];
extern const std::size_t kAssetCount;
extern const std::string_view kReportTemplate;
}  // namespace detail

std::span<const Asset> all_assets() { return {detail::kAssets, detail::kAssetCount}; }

std::string_view report_template() { return detail::kReportTemplate; }

const Asset* find_asset(std::string_view path) {
  if (path.empty() || path == "/") path = "/index.html";
  const auto assets = all_assets();
  const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                   [](const Asset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

}  // namespace huoyan::web
