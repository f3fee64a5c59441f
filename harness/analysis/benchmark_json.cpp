#include "harness/analysis/benchmark_json.hpp"

#include "harness/analysis/report_fields.hpp"

#include <stdexcept>

namespace harness {
namespace {

using nlohmann::json;

double to_ns(double value, const std::string& unit, const std::string& where) {
  if (unit == "ns" || unit.empty()) return value;
  if (unit == "us") return value * 1e3;
  if (unit == "ms") return value * 1e6;
  if (unit == "s") return value * 1e9;
  throw std::runtime_error(where + ": unknown time_unit \"" + unit + "\"");
}

}  // namespace

bool is_benchmark_json(const json& doc) {
  return doc.is_object() && doc.contains("benchmarks") && doc["benchmarks"].is_array();
}

void read_benchmark_samples(const json& doc, std::string_view source,
                            std::map<std::string, BenchmarkSamples>& into) {
  const std::string where(source);
  if (!is_benchmark_json(doc))
    throw std::runtime_error(where +
                             ": not a Google Benchmark JSON file (no \"benchmarks\" array); "
                             "write one with --benchmark_out=FILE --benchmark_out_format=json");
  std::map<std::string, BenchmarkSamples> repetitions, means;
  for (const json& b : doc["benchmarks"]) {
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string()) continue;
    const std::string entry = where + ": benchmark " + b["name"].get<std::string>();
    if (field_or(b, "error_occurred", false, entry)) continue;
    const std::string name = field_or(b, "run_name", b["name"].get<std::string>(), entry);
    const std::string here = where + ": benchmark " + name;
    if (!b.contains("real_time") || !b.contains("cpu_time") || !b["real_time"].is_number() ||
        !b["cpu_time"].is_number())
      throw std::runtime_error(here + ": real_time/cpu_time missing or not numbers");
    const std::string unit = field_or(b, "time_unit", std::string("ns"), here);
    const double real = to_ns(b["real_time"].get<double>(), unit, here);
    const double cpu = to_ns(b["cpu_time"].get<double>(), unit, here);
    const bool aggregate = field_or(b, "run_type", std::string("iteration"), here) == "aggregate";
    if (aggregate && field_or(b, "aggregate_name", std::string(), here) != "mean") continue;
    BenchmarkSamples& s = (aggregate ? means : repetitions)[name];
    s.real_ns.push_back(real);
    s.cpu_ns.push_back(cpu);
    s.from_aggregate = aggregate;
  }
  for (auto& [name, s] : means)
    if (!repetitions.count(name)) repetitions[name] = std::move(s);
  for (auto& [name, s] : repetitions) {
    BenchmarkSamples& to = into[name];
    to.real_ns.insert(to.real_ns.end(), s.real_ns.begin(), s.real_ns.end());
    to.cpu_ns.insert(to.cpu_ns.end(), s.cpu_ns.begin(), s.cpu_ns.end());
    to.from_aggregate = to.from_aggregate || s.from_aggregate;
  }
}

}  // namespace harness
