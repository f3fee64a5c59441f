#include "harness/supervise/protocol.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace harness {
namespace {

std::string_view skip_space(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

ParsedLine violation(std::string why, std::string_view line) {
  ParsedLine p;
  p.kind = ParsedLine::Kind::violation;
  p.violation = std::move(why) + ": " + excerpt(line);
  return p;
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (out.size() >= max && text.size() > max) out += "...";
  return out;
}

bool looks_like_event(std::string_view line) {
  line = skip_space(line);
  if (line.empty() || line.front() != '{') return false;
  return skip_space(line.substr(1)).starts_with("\"event\"");
}

ParsedLine parse_protocol_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ParsedLine p;
  if (skip_space(line).empty() || skip_space(line).front() != '{') return p;  // log text

  // allow_exceptions=false: invalid JSON and invalid UTF-8 yield a discarded value, not a throw.
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) {
    if (looks_like_event(line)) return violation("event line is not valid JSON", line);
    return p;
  }
  if (!j.is_object()) return p;
  auto it = j.find("event");
  if (it == j.end()) return p;
  if (!it->is_string()) return violation("\"event\" is not a string", line);
  if (it->get_ref<const std::string&>().empty()) return violation("\"event\" is empty", line);
  p.kind = ParsedLine::Kind::event;
  p.event.type = it->get<std::string>();
  p.event.body = std::move(j);
  return p;
}

}  // namespace harness
