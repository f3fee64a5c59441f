#include "harness/judge/failure_text.hpp"

#include <cstdio>

namespace harness {

std::string printable(std::string_view s, std::size_t limit) {
  std::string out;
  for (unsigned char c : s.substr(0, limit)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

std::string context(const ProcessResult& p) {
  for (auto it = p.events.rbegin(); it != p.events.rend(); ++it)
    if (it->type == "error" && it->body.contains("message") && it->body["message"].is_string())
      return " (error: \"" + printable(it->body["message"].get<std::string>()) + "\")";
  std::string line = last_line(p.err.tail);
  if (!line.empty()) return " (stderr: \"" + printable(line) + "\")";
  return "";
}

std::string ending(const ProcessResult& p) {
  if (!p.spawn_error.empty()) return "no process (" + printable(p.spawn_error) + ")";
  if (p.exit_code) return std::to_string(*p.exit_code);
  if (p.signal) return "signal " + signal_name(*p.signal);
  return "no exit status";
}

const Event* last_event(const ProcessResult& p, const std::string& type) {
  for (auto it = p.events.rbegin(); it != p.events.rend(); ++it)
    if (it->type == type) return &*it;
  return nullptr;
}

}  // namespace harness
