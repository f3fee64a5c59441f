#include "harness/supervise/protocol.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

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

// One linear pass over the line as JSON text: the deepest nesting of objects and arrays, and
// the number literals a double cannot hold (1e999, a 400-digit integer), which nlohmann refuses
// as "number overflow" although they are valid JSON.
struct Scan {
  int depth = 0;
  std::vector<std::pair<std::size_t, std::size_t>> huge_numbers;  // offset, length
};

Scan scan(std::string_view line) {
  Scan out;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      out.depth = std::max(out.depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t j = i + 1;
      while (j < line.size() &&
             std::string_view("0123456789+-.eE").find(line[j]) != std::string_view::npos)
        ++j;
      const std::string literal(line.substr(i, j - i));
      const double v = std::strtod(literal.c_str(), nullptr);
      if (!std::isfinite(v)) out.huge_numbers.emplace_back(i, j - i);
      i = j - 1;
    }
  }
  return out;
}

// The line with every huge number literal turned into a string of its digits.
std::string quote_huge_numbers(std::string_view line, const Scan& s) {
  std::string out;
  std::size_t at = 0;
  for (const auto& [off, len] : s.huge_numbers) {
    out.append(line.substr(at, off - at));
    out += '"';
    out.append(line.substr(off, len));
    out += '"';
    at = off + len;
  }
  out.append(line.substr(at));
  return out;
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

  // Worker JSON is bounded before it is parsed: the harness's reports, expectations and
  // destructors walk it recursively, and a line nested 25,000 deep would overflow the stack.
  const Scan shape = scan(line);
  if (shape.depth > kMaxEventDepth) {
    if (looks_like_event(line))
      return violation("event nested " + std::to_string(shape.depth) +
                           " levels deep, more than the " + std::to_string(kMaxEventDepth) +
                           " the harness accepts",
                       line);
    return p;
  }
  // allow_exceptions=false: invalid JSON and invalid UTF-8 yield a discarded value, not a throw.
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() && !shape.huge_numbers.empty()) {
    const std::string quoted = quote_huge_numbers(line, shape);
    j = nlohmann::json::parse(quoted.begin(), quoted.end(), nullptr, false);
  }
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
