#pragma once
// Where a Redis server is: `redis://[[user]:password@]host[:port][/db]` (TCP, port 6379 by
// default) or `unix://[[user]:password@]/path/to/socket` (a unix socket), as Redis's own clients
// write them. The parser is strict, because a URL comes from the command line or a scenario and
// an error in it must say where: a host is a name of [A-Za-z0-9.-] or an IPv4 or [IPv6] address,
// a port 1-65535, a db 0-15 (Redis's default `databases`), a socket path absolute and at most
// 107 bytes (sun_path), and credentials are percent-decoded.

#include <optional>
#include <string>
#include <string_view>

namespace harness {

struct RedisEndpoint {
  std::string host;       // TCP: name or address (IPv6 without brackets); empty for unix
  int port = 6379;        // TCP
  std::string unix_path;  // unix socket; empty for TCP
  std::string user;       // AUTH user (Redis 6 ACL); empty: the default user
  std::string password;   // empty: no AUTH
  int db = 0;             // SELECT when not 0
  bool is_unix() const { return !unix_path.empty(); }
  // The URL again, without the password (for messages and reports).
  std::string display() const;
};

// The endpoint, or nullopt with `error` saying what is wrong and at which character.
std::optional<RedisEndpoint> parse_redis_url(std::string_view url, std::string& error);

}  // namespace harness
