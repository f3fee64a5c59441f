#include "harness/judge/bounds.hpp"

#include <cmath>
#include <sstream>

#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

}  // namespace

std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string format_bytes(double v) {
  return format_number(v) + " bytes";
}

std::optional<Bounds> read_bounds(YamlReader& r, const YamlEntry& e, bool sizes) {
  Bounds b;
  auto read_number = [&](const YamlEntry& x) -> std::optional<double> {
    if (sizes) {
      auto v = r.size(x);
      return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    }
    return r.number(x);
  };
  if (e.value.IsMap()) {
    auto entries = r.entries(e.value, mark_of(e), e.path, {"min", "max", "eq"});
    for (const auto& x : entries) {
      const std::string k = x.key.Scalar();
      if (k == "eq") {
        if (sizes) {
          if (auto v = read_number(x)) b.eq = *v;
        } else {
          b.eq = r.to_json(x.value);
        }
      } else if (auto v = read_number(x)) {
        (k == "min" ? b.min : b.max) = *v;
      }
    }
    if (b.min && b.max && *b.min > *b.max)
      r.error(mark_of(e), "'" + e.path + "' has min greater than max");
    if (!b.min && !b.max && !b.eq)
      r.error(mark_of(e), "'" + e.path + "' needs at least one of min, max, eq");
    return b;
  }
  if (sizes) {
    if (auto v = read_number(e)) b.eq = *v;
    return b;
  }
  if (e.value.IsNull()) {
    r.error(mark_of(e), "'" + e.path + "' needs a value, or {min: ..., max: ...}");
    return std::nullopt;
  }
  b.eq = r.to_json(e.value);
  return b;
}

std::string check_bounds(const Bounds& b, const nlohmann::json& actual,
                         std::string (*fmt)(double)) {
  if (!fmt) fmt = format_number;
  if (b.eq) {
    if (json_equal(*b.eq, actual)) return "";
    std::string want = b.eq->is_number() ? fmt(b.eq->get<double>()) : b.eq->dump();
    std::string got = actual.is_number() ? fmt(actual.get<double>()) : actual.dump();
    return "expected " + want + ", got " + got;
  }
  if (!actual.is_number()) return "expected a number, got " + actual.dump();
  double v = actual.get<double>();
  if (b.min && v < *b.min) return "expected >= " + fmt(*b.min) + ", got " + fmt(v);
  if (b.max && v > *b.max) return "expected <= " + fmt(*b.max) + ", got " + fmt(v);
  return "";
}

}  // namespace harness
