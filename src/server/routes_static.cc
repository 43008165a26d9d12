// The embedded web UI: every GET that no API route took. Assets come only from the lookup in
// ServerOptions::assets (compiled into the binary), by exact path, so no request can reach the
// filesystem. "/" is "/index.html"; an unknown path without a file extension is a route of the
// single-page app and gets index.html; an unknown file is a 404.
#include <zlib.h>

#include <string>

#include "src/server/api_context.h"

namespace huoyan::server {
namespace {

// Paths the UI never uses and that only probing produces: dot segments, backslashes, control
// bytes (httplib has already percent-decoded the path, so "%2e%2e%2f" arrives as "../").
bool suspicious_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return true;
  for (char c : path) {
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  size_t pos = 0;
  while (pos < path.size()) {
    const size_t next = path.find('/', pos + 1);
    const std::string_view seg =
        path.substr(pos + 1, (next == std::string_view::npos ? path.size() : next) - pos - 1);
    if (seg == "." || seg == "..") return true;
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return false;
}

bool has_extension(std::string_view path) {
  const size_t slash = path.rfind('/');
  return path.find('.', slash == std::string_view::npos ? 0 : slash) != std::string_view::npos;
}

bool accepts_gzip(const httplib::Request& req) {
  return req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
}

// For the rare client that does not take gzip: assets are small, inflate in memory.
bool gunzip(std::string_view in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[1 << 14];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

// Tokens travel in a cookie only if they are plain cookie text.
bool cookie_safe(std::string_view token) {
  for (char c : token) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
                    c == '=';
    if (!ok) return false;
  }
  return true;
}

void not_found(httplib::Response& res) { send_error(res, 404, "not found"); }

void handle_static(ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;
  if (path == "/api" || path.starts_with("/api/")) {
    if (path == "/api/capture" || path == "/api/capture/stop") {
      res.set_header("Allow", "POST");
      return send_error(res, 405, path + ": use POST");
    }
    return send_error(res, 404, "no such endpoint: " + req.method + " " + path);
  }
  if (suspicious_path(path)) return not_found(res);
  // "/?token=…" (what `huoyan serve --token … --open` opens): remember the token in a cookie
  // the API accepts, then drop it from the address bar.
  const std::string& token = ctx.options.token;
  if (!token.empty() && req.has_param("token") &&
      constant_time_equals(token, req.get_param_value("token")) && cookie_safe(token)) {
    res.set_header("Set-Cookie", "huoyan_token=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    res.set_redirect(path, 303);
    return;
  }
  if (!ctx.options.assets) {
    return send_error(res, 404,
                      "this huoyan binary has no web UI built in; the REST API is under /api/ "
                      "(see docs/api.md)");
  }
  WebAsset asset;
  const std::string lookup = path == "/" ? "/index.html" : path;
  if (!ctx.options.assets(lookup, &asset)) {
    if (has_extension(lookup) || !ctx.options.assets("/index.html", &asset)) return not_found(res);
  }
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  // Vite names files under /assets/ by content hash: cache them for good; everything else
  // (index.html) is revalidated so a new build shows at once.
  res.set_header("Cache-Control", asset.path.starts_with("/assets/")
                                      ? "public, max-age=31536000, immutable"
                                      : "no-cache");
  if (!asset.gzip) {
    res.set_content(asset.data.data(), asset.data.size(), std::string(asset.content_type).c_str());
    return;
  }
  res.set_header("Vary", "Accept-Encoding");
  if (accepts_gzip(req)) {
    // Through a provider of known length: httplib compresses plain bodies (and chunked
    // streams) itself, and would wrap the gzip bytes in a second encoding.
    res.set_header("Content-Encoding", "gzip");
    const std::string_view data = asset.data;  // static
    res.set_content_provider(data.size(), std::string(asset.content_type),
                             [data](size_t offset, size_t length, httplib::DataSink& sink) {
                               return sink.write(data.data() + offset, length);
                             });
    return;
  }
  std::string plain;
  if (!gunzip(asset.data, &plain)) return send_error(res, 500, "corrupt embedded asset");
  res.set_content(std::move(plain), std::string(asset.content_type).c_str());
}

}  // namespace

void register_static_routes(httplib::Server& http, ApiContext& ctx) {
  http.Get(".*",
           [&ctx](const httplib::Request& q, httplib::Response& r) { handle_static(ctx, q, r); });
}

}  // namespace huoyan::server
