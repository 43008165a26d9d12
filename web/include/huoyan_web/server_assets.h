// The embedded web UI as the asset lookup of huoyan::ServerOptions, for `huoyan serve` and for
// applications built in this tree that serve the UI themselves (link huoyan_web_assets).
#pragma once

#include <huoyan/server.h>
#include <huoyan_web/assets.h>

namespace huoyan::web {

inline AssetLookup server_assets() {
  return [](std::string_view path, WebAsset* out) {
    const Asset* a = find_asset(path);
    if (a == nullptr) return false;
    *out = {a->path, a->content_type, a->data, a->gzip};
    return true;
  };
}

}  // namespace huoyan::web
