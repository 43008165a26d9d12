#include "src/server/http_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <charconv>

#include "src/writers/json_out.h"

namespace huoyan::server {
namespace {

// Bad values are echoed in messages; cap them so an error never grows with the request.
std::string echoed(std::string_view v) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  out.append(v.substr(0, kMax));
  if (v.size() > kMax) out += "…";
  out += "'";
  return out;
}

}  // namespace

bool Query::has(const char* name) const {
  return req_.has_param(name) && !req_.get_param_value(name).empty();
}

std::string Query::text(const char* name) const {
  return req_.has_param(name) ? req_.get_param_value(name) : std::string();
}

int64_t Query::integer(const char* name, int64_t def, int64_t min, int64_t max) {
  if (!has(name)) return def;
  const std::string v = req_.get_param_value(name);
  int64_t out = 0;
  const char* end = v.data() + v.size();
  // from_chars accepts no '+', no spaces and no hex: exactly the strict decimal we want.
  const auto [p, ec] = std::from_chars(v.data(), end, out);
  if (ec == std::errc::result_out_of_range) {
    fail(std::string(name) + ": out of range: " + echoed(v));
    return def;
  }
  if (ec != std::errc() || p != end) {
    fail(std::string(name) + ": expected an integer, got " + echoed(v));
    return def;
  }
  if (out < min || out > max) {
    fail(std::string(name) + ": must be between " + std::to_string(min) + " and " +
         std::to_string(max) + ", got " + echoed(v));
    return def;
  }
  return out;
}

AttributionMode Query::mode(const char* name, AttributionMode def) {
  if (!has(name)) return def;
  AttributionMode m = def;
  if (!parse_attribution_mode(text(name), &m)) {
    fail(std::string(name) + ": expected shared or apportioned, got " + echoed(text(name)));
  }
  return m;
}

GroupBy Query::group(const char* name, GroupBy def) {
  if (!has(name)) return def;
  GroupBy g = def;
  if (!parse_group_by(text(name), &g)) {
    fail(std::string(name) + ": expected name, stream or device, got " + echoed(text(name)));
  }
  return g;
}

KindSet Query::kinds(const char* name, KindSet def) {
  if (!has(name)) return def;
  KindSet k = def;
  if (!parse_kind_set(text(name), &k)) {
    fail(std::string(name) +
         ": expected kernel, memcpy, memset, collective, wait, work or all (comma-separated), "
         "got " +
         echoed(text(name)));
  }
  return k;
}

std::string Query::one_of(const char* name, std::string_view def,
                          std::initializer_list<std::string_view> allowed) {
  if (!has(name)) return std::string(def);
  const std::string v = text(name);
  for (std::string_view a : allowed) {
    if (v == a) return v;
  }
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  fail(std::string(name) + ": expected one of " + list + ", got " + echoed(v));
  return std::string(def);
}

void Query::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

void send_json(httplib::Response& res, std::string body, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // set_content() would copy: bodies of whole-store queries run to megabytes.
  res.body = std::move(body);
  res.headers.erase("Content-Type");
  res.set_header("Content-Type", kJsonType);
}

void send_error(httplib::Response& res, int status, std::string_view message) {
  send_json(res, build_json([&](BufferedOut& out) {
              out.put("{\"error\":");
              json_string(out, message);
              out.put("}\n");
            }),
            status);
}

void send_stream(httplib::Response& res, const char* content_type, BodyWriter write,
                 const std::atomic<bool>* stopping) {
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider(
      content_type, [write = std::move(write), stopping](size_t, httplib::DataSink& sink) {
        CallbackSink out([&](std::string_view data) {
          if (stopping != nullptr && stopping->load(std::memory_order_relaxed)) return false;
          return sink.write(data.data(), data.size());
        });
        const Status st = write(out);
        if (!st.ok()) return false;  // no final chunk: the client sees the transfer fail
        sink.done();
        return true;
      });
}

std::string response_encoding(std::string_view accept_encoding) {
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  // Comma-separated codings, each with optional parameters: "gzip;q=0.8". q=0 refuses one.
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? "" : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    if (lower(trim(item.substr(0, semi))) != "gzip") continue;
    const std::string params =
        lower(trim(semi == std::string_view::npos ? "" : item.substr(semi + 1)));
    const bool refused =
        params.starts_with("q=") && params.find_first_not_of("0.", 2) == std::string::npos;
    return refused ? "" : "gzip";
  }
  return "";
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Every byte of `b` (the presented value) is compared, against `a` cyclically, so the time
  // depends only on the presented length.
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  if (a.empty()) return b.empty();
  for (size_t i = 0; i < b.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i % a.size()]) ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

std::string safe_filename_part(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return "";
}

bool is_loopback_host(std::string_view host) {
  // Strip the port: "[::1]:8080", "127.0.0.1:8080", "localhost:8080".
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    return host.substr(1, close - 1) == "::1";
  }
  if (host == "::1") return true;
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  if (host == "localhost" || host == "localhost.") return true;
  // 127.0.0.0/8 in dotted decimal.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace huoyan::server

namespace huoyan::server {

std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = close == std::string_view::npos ? std::string_view() : host.substr(1, close - 1);
  } else if (const size_t colon = host.find(':');
             colon != std::string_view::npos &&
             host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string out(host);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ip_literal(std::string_view name) {
  const std::string s(name);
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool bearer_token(std::string_view auth, std::string_view* token) {
  constexpr std::string_view kScheme = "bearer";
  if (auth.size() <= kScheme.size() ||
      (auth[kScheme.size()] != ' ' && auth[kScheme.size()] != '\t')) {
    return false;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) != kScheme[i]) return false;
  }
  auth.remove_prefix(kScheme.size());
  while (!auth.empty() && (auth.front() == ' ' || auth.front() == '\t')) auth.remove_prefix(1);
  while (!auth.empty() && (auth.back() == ' ' || auth.back() == '\t')) auth.remove_suffix(1);
  *token = auth;
  return !auth.empty();
}

bool same_origin(std::string_view origin, std::string_view host) {
  // Browsers put the port in both only when it is not the scheme's default.
  const auto lower = [](std::string_view v) {
    std::string out(v);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.substr(0, scheme.size()) != scheme) continue;
    const std::string_view authority = origin.substr(scheme.size());
    return !host.empty() && lower(authority) == lower(host);
  }
  return false;
}

std::string prometheus_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace huoyan::server
