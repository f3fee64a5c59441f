#include "harness/core/redis_url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace harness {

namespace {

bool hex_value(char c, int& v) {
  if (c >= '0' && c <= '9')
    v = c - '0';
  else if (c >= 'a' && c <= 'f')
    v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F')
    v = c - 'A' + 10;
  else
    return false;
  return true;
}

// Percent-decodes `in` (credentials may hold ':' '@' '/' as %3A %40 %2F); false on a bad escape
// or a NUL byte, which no AUTH argument may carry.
bool percent_decode(std::string_view in, std::string& out, std::size_t& bad_at) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = 0, lo = 0;
    if (i + 2 >= in.size() || !hex_value(in[i + 1], hi) || !hex_value(in[i + 2], lo)) {
      bad_at = i;
      return false;
    }
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') {
      bad_at = i;
      return false;
    }
    out += c;
    i += 2;
  }
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.';
}

bool parse_int(std::string_view text, int lo, int hi, int& out) {
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= lo && out <= hi;
}

}  // namespace

std::string RedisEndpoint::display() const {
  std::string auth = password.empty() ? "" : (user.empty() ? ":***@" : user + ":***@");
  if (is_unix()) return "unix://" + auth + unix_path;
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string out = fmt::format("redis://{}{}:{}", auth, h, port);
  if (db != 0) out += fmt::format("/{}", db);
  return out;
}

std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& error) {
  RedisEndpoint ep;
  auto fail = [&](std::size_t at, const std::string& what) -> std::optional<RedisEndpoint> {
    error = fmt::format(
        "bad Redis URL at character {}: {}; expected redis://[:password@]host[:port]"
        "[/db] or unix://[:password@]/path/to/socket",
        at + 1, what);
    return std::nullopt;
  };
  if (url.size() > 1024) return fail(1024, "longer than 1024 bytes");
  for (std::size_t i = 0; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c >= 0x7f) return fail(i, "a space, control or non-ASCII byte");
  }
  std::size_t pos = 0;
  bool unix_socket = false;
  if (url.substr(0, 8) == "redis://") {
    pos = 8;
  } else if (url.substr(0, 7) == "unix://") {
    pos = 7;
    unix_socket = true;
  } else {
    return fail(0, "the scheme must be redis:// or unix://");
  }

  // Credentials end at the first '@' (a password holds '@' only as %40), before the path.
  std::string_view rest = url.substr(pos);
  std::size_t at = std::string_view::npos;
  if (unix_socket)
    at = !rest.empty() && rest[0] != '/' ? rest.find('@') : std::string_view::npos;
  else
    at = rest.substr(0, rest.find('/')).find('@');
  if (at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    const std::size_t colon = cred.find(':');
    std::size_t bad = 0;
    if (colon == std::string_view::npos)
      return fail(pos, "credentials are user:password or :password");
    if (!percent_decode(cred.substr(0, colon), ep.user, bad))
      return fail(pos + bad, "a bad %-escape in the user");
    if (!percent_decode(cred.substr(colon + 1), ep.password, bad))
      return fail(pos + colon + 1 + bad, "a bad %-escape in the password");
    if (ep.password.empty()) return fail(pos + colon + 1, "an empty password");
    pos += at + 1;
    rest = url.substr(pos);
  }

  if (unix_socket) {
    if (rest.empty() || rest[0] != '/') return fail(pos, "the socket path must be absolute");
    if (rest.size() > 107) return fail(pos + 107, "the socket path is over 107 bytes");
    ep.unix_path = std::string(rest);
    return ep;
  }

  std::size_t host_end = 0;
  if (!rest.empty() && rest[0] == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail(pos, "an IPv6 address without its ']'");
    for (std::size_t i = 1; i < close; ++i)
      if (!ipv6_char(rest[i])) return fail(pos + i, "not a character of an IPv6 address");
    if (close == 1) return fail(pos + 1, "an empty IPv6 address");
    ep.host = std::string(rest.substr(1, close - 1));
    host_end = close + 1;
  } else {
    while (host_end < rest.size() && host_char(rest[host_end])) ++host_end;
    if (host_end == 0) return fail(pos, "no host");
    if (host_end > 253) return fail(pos + 253, "a host name over 253 bytes");
    ep.host = std::string(rest.substr(0, host_end));
  }
  rest = rest.substr(host_end);
  pos += host_end;
  if (!rest.empty() && rest[0] == ':') {
    const std::size_t end = std::min(rest.find('/'), rest.size());
    if (!parse_int(rest.substr(1, end - 1), 1, 65535, ep.port))
      return fail(pos + 1, "the port must be 1-65535");
    rest = rest.substr(end);
    pos += end;
  }
  if (!rest.empty() && rest[0] == '/') {
    if (rest.size() > 1 && !parse_int(rest.substr(1), 0, 15, ep.db))
      return fail(pos + 1, "the db must be 0-15");
    rest = {};
  }
  if (!rest.empty()) return fail(pos, "unexpected text after the host");
  return ep;
}

}  // namespace harness
