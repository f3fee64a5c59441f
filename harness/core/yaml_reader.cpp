#include "harness/core/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/core/units.hpp"

namespace harness {
namespace {

bool is_plain(const YAML::Node& n) {
  return n.Tag() == "?";
}

bool looks_integer(std::string_view s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> to_int(std::string_view s) {
  if (!looks_integer(s)) return std::nullopt;
  if (s[0] == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> to_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  // from_chars takes "inf"/"nan"; a bound of "nan" makes no sense in a scenario.
  if (v != v || v > 1e300 || v < -1e300) return std::nullopt;
  return v;
}

bool is_null_scalar(const YAML::Node& n) {
  return n.IsNull() || (n.IsScalar() && is_plain(n) &&
                        (n.Scalar() == "~" || n.Scalar() == "null" || n.Scalar().empty()));
}

// At most 60 bytes of `s`, cut before a UTF-8 continuation byte so no character is split.
std::string quote(std::string_view s) {
  std::size_t keep = std::min<std::size_t>(s.size(), 60);
  while (keep < s.size() && keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80)
    --keep;
  std::string out = "'";
  out.append(s.substr(0, keep));
  if (keep < s.size()) out += "...";
  return out + "'";
}

}  // namespace

YAML::Mark mark_of(const YamlEntry& e) {
  // yaml-cpp marks an empty value at the start of the next line; the key is the better place.
  if (e.value.IsDefined() && !e.value.IsNull() && e.value.Mark().line >= 0) return e.value.Mark();
  return e.key.Mark();
}

YamlReader::YamlReader(std::string file, std::size_t node_budget, int max_depth)
    : file_(std::move(file)), budget_(node_budget), max_depth_(max_depth) {}

void YamlReader::error(const YAML::Mark& mark, std::string message) {
  Diagnostic d;
  d.file = file_;
  d.line = mark.line >= 0 ? mark.line + 1 : 0;
  d.column = mark.column >= 0 ? mark.column + 1 : 0;
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

void YamlReader::error(const YamlEntry& entry, std::string message) {
  error(mark_of(entry), std::move(message));
}

std::string YamlReader::describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  if (!is_plain(node)) return "the string " + quote(node.Scalar());
  return quote(node.Scalar());
}

std::vector<YamlEntry> YamlReader::entries(
    const YAML::Node& map, const YAML::Mark& where, const std::string& section,
    const std::vector<std::string>& allowed,
    const std::vector<std::pair<std::string, std::string>>& elsewhere) {
  std::vector<YamlEntry> out;
  const std::string in = section.empty() ? "at the top level" : "in '" + section + "'";
  if (!map.IsMap()) {
    error(map.IsDefined() && !map.IsNull() ? map.Mark() : where,
          (section.empty() ? std::string("a scenario") : "'" + section + "'") +
              " must be a map of 'key: value' lines, got " + describe(map));
    return out;
  }
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key.Mark(), "a key " + in + " must be a plain name, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = section.empty() ? name : section + "." + name;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string msg = "unknown key " + quote(name) + " " + in;
      auto home = std::find_if(elsewhere.begin(), elsewhere.end(),
                               [&](const auto& p) { return p.first == name; });
      std::string near = closest_match(name, allowed);
      if (home != elsewhere.end())
        msg += " (it belongs in '" + home->second + "')";
      else if (!near.empty())
        msg += " (did you mean '" + near + "'?)";
      else {
        msg += "; allowed keys: ";
        for (std::size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : "") + allowed[i];
      }
      error(key.Mark(), msg);
      continue;
    }
    if (!seen.insert(name).second) {
      error(key.Mark(), "duplicate key " + quote(name) + " " + in + "; keep only one");
      continue;
    }
    out.push_back(YamlEntry{path, key, it->second});
  }
  return out;
}

std::optional<std::string> YamlReader::scalar(const YamlEntry& e) {
  if (!e.value.IsScalar() || is_null_scalar(e.value)) {
    error(e, "'" + e.path + "' must be a single value, got " + describe(e.value));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<std::string> YamlReader::string(const YamlEntry& e) {
  if (!e.value.IsScalar() || is_null_scalar(e.value)) {
    error(e, "'" + e.path + "' must be a string, got " + describe(e.value));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<std::int64_t> YamlReader::integer(const YamlEntry& e, std::int64_t min,
                                                std::int64_t max) {
  std::optional<std::int64_t> v;
  if (e.value.IsScalar() && is_plain(e.value)) v = to_int(e.value.Scalar());
  if (!v) {
    error(e, "'" + e.path + "' must be a whole number, got " + describe(e.value));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(e, "'" + e.path + "' must be between " + std::to_string(min) + " and " +
                 std::to_string(max) + ", got " + std::to_string(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> YamlReader::number(const YamlEntry& e) {
  std::optional<double> v;
  if (e.value.IsScalar() && is_plain(e.value)) v = to_double(e.value.Scalar());
  if (!v) error(e, "'" + e.path + "' must be a number, got " + describe(e.value));
  return v;
}

std::optional<double> YamlReader::percent(const YamlEntry& e, double max) {
  std::optional<double> v;
  if (e.value.IsScalar() && is_plain(e.value)) {
    const std::string& text = e.value.Scalar();
    if (text.size() > 1 && text.back() == '%') v = to_double(text.substr(0, text.size() - 1));
  }
  if (!v || *v < 0 || *v > max) {
    error(e, fmt::format("'{}' must be a percentage such as 50%, from 0% to {:g}%, got {}", e.path,
                         max, describe(e.value)));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlReader::boolean(const YamlEntry& e) {
  if (e.value.IsScalar() && is_plain(e.value)) {
    if (e.value.Scalar() == "true") return true;
    if (e.value.Scalar() == "false") return false;
  }
  error(e, "'" + e.path + "' must be true or false, got " + describe(e.value));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> YamlReader::duration(const YamlEntry& e,
                                                              std::chrono::milliseconds min,
                                                              std::chrono::milliseconds max) {
  if (!e.value.IsScalar() || is_null_scalar(e.value)) {
    error(e,
          "'" + e.path + "' must be a duration such as 250ms, 30s or 2m, got " + describe(e.value));
    return std::nullopt;
  }
  try {
    auto d = parse_duration(e.value.Scalar());
    if (d < min || d > max) {
      error(e, "'" + e.path + "' must be between " + format_duration(min) + " and " +
                   format_duration(max) + ", got " + e.value.Scalar());
      return std::nullopt;
    }
    return d;
  } catch (const std::invalid_argument& ex) {
    error(e, "'" + e.path + "': " + ex.what());
    return std::nullopt;
  }
}

std::optional<std::int64_t> YamlReader::size(const YamlEntry& e) {
  if (!e.value.IsScalar() || is_null_scalar(e.value)) {
    error(e, "'" + e.path + "' must be a size such as 512KiB or 600MiB, got " + describe(e.value));
    return std::nullopt;
  }
  if (is_plain(e.value)) {
    if (auto v = to_int(e.value.Scalar())) {
      if (*v < 0) {
        error(e, "'" + e.path + "' must not be negative, got " + e.value.Scalar());
        return std::nullopt;
      }
      return v;
    }
  }
  try {
    return parse_size(e.value.Scalar());
  } catch (const std::invalid_argument& ex) {
    error(e, "'" + e.path + "': " + ex.what());
    return std::nullopt;
  }
}

std::optional<std::vector<std::string>> YamlReader::string_list(const YamlEntry& e,
                                                                bool allow_single) {
  std::vector<std::string> out;
  if (allow_single && e.value.IsScalar() && !is_null_scalar(e.value)) {
    out.push_back(e.value.Scalar());
    return out;
  }
  if (!e.value.IsSequence()) {
    error(e, "'" + e.path + "' must be a list such as [a, b], got " + describe(e.value));
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    if (!item.IsScalar() || is_null_scalar(item)) {
      error(item.Mark().line >= 0 ? item.Mark() : mark_of(e),
            "'" + e.path + "[" + std::to_string(i) + "]' must be a single value, got " +
                describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

nlohmann::json YamlReader::scalar_to_json(const YAML::Node& node) {
  if (is_null_scalar(node)) return nullptr;
  const std::string& s = node.Scalar();
  if (!is_plain(node)) return s;
  if (s == "true") return true;
  if (s == "false") return false;
  if (auto i = to_int(s)) return *i;
  if (auto d = to_double(s); d && s.find_first_of("0123456789") != std::string::npos) return *d;
  return s;
}

nlohmann::json YamlReader::to_json(const YAML::Node& node) {
  return to_json(node, 0);
}

nlohmann::json YamlReader::to_json(const YAML::Node& node, int depth) {
  if (budget_ == 0 || depth > max_depth_) {
    if (!budget_reported_) {
      budget_reported_ = true;
      error(node.Mark(), depth > max_depth_
                             ? "nesting deeper than " + std::to_string(max_depth_) +
                                   " levels; a scenario needs only a few"
                             : "the document expands to too many values (aliases that repeat "
                               "each other?); refusing to walk it");
    }
    return nullptr;
  }
  --budget_;
  if (node.IsMap()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it)
      obj[it->first.IsScalar() ? it->first.Scalar() : "?"] = to_json(it->second, depth + 1);
    return obj;
  }
  if (node.IsSequence()) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto it = node.begin(); it != node.end(); ++it) arr.push_back(to_json(*it, depth + 1));
    return arr;
  }
  return scalar_to_json(node);
}

}  // namespace harness
