#include "harness/analysis/compare.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "harness/analysis/capacity.hpp"
#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

using nlohmann::json;

enum class MetricClass { time, throughput, memory };

struct Sample {
  std::vector<double> values;
  std::optional<double> sd;  // given by the source (a stddev aggregate); else computed
  int n = 0;                 // how many measurements the mean stands for
  double mean() const {
    double s = 0;
    for (double v : values) s += v;
    return s / values.size();
  }
  double spread() const {
    if (sd) return *sd;
    if (values.size() < 2) return 0;
    const double m = mean();
    double ss = 0;
    for (double v : values) ss += (v - m) * (v - m);
    return std::sqrt(ss / (values.size() - 1));
  }
};

double threshold_for(const Thresholds& t, const std::string& run, const std::string& metric,
                     MetricClass cls) {
  if (auto it = t.per_run.find(run); it != t.per_run.end()) return it->second;
  if (auto it = t.per_metric.find(metric); it != t.per_metric.end()) return it->second;
  switch (cls) {
    case MetricClass::time: return t.time;
    case MetricClass::throughput: return t.throughput.value_or(t.time);
    case MetricClass::memory: return t.memory;
  }
  return t.time;
}

MetricChange judge(std::string scenario, std::string run, std::string metric, std::string unit,
                   MetricClass cls, const Sample& base, const Sample& cand, const Thresholds& t) {
  MetricChange c;
  c.scenario = std::move(scenario);
  c.run = std::move(run);
  c.metric = std::move(metric);
  c.unit = std::move(unit);
  c.higher_is_better = cls == MetricClass::throughput;
  c.threshold_pct = threshold_for(t, c.run, c.metric, cls) * 100.0;
  c.base_n = base.n;
  c.new_n = cand.n;
  if (base.values.empty() || cand.values.empty()) {
    c.status = ChangeStatus::not_available;
    return c;
  }
  c.base_mean = base.mean();
  c.new_mean = cand.mean();
  c.base_sd = base.spread();
  c.new_sd = cand.spread();
  if (c.base_mean == 0) {
    c.status = ChangeStatus::not_available;
    return c;
  }
  c.change_pct = (c.new_mean - c.base_mean) / std::abs(c.base_mean) * 100.0;
  c.worse_pct = c.higher_is_better ? -c.change_pct : c.change_pct;
  c.noise_band = t.noise_k * std::max(c.base_sd, c.new_sd);
  const bool outside_noise = std::abs(c.new_mean - c.base_mean) > c.noise_band;
  if (std::abs(c.worse_pct) <= c.threshold_pct)
    c.status = ChangeStatus::ok;
  else if (!outside_noise)
    c.status = ChangeStatus::noise;
  else
    c.status = c.worse_pct > 0 ? ChangeStatus::regression : ChangeStatus::improvement;
  return c;
}

struct ReportMetric {
  const char* name;
  const char* unit;
  MetricClass cls;
  std::optional<double> RunFields::*field;
};

constexpr ReportMetric kReportMetrics[] = {
    {"wall_s", "s", MetricClass::time, &RunFields::wall_s},
    {"throughput_fps", "fps", MetricClass::throughput, &RunFields::throughput_fps},
    {"ready_ms_p50", "ms", MetricClass::time, &RunFields::ready_p50_ms},
    {"memory_added_kib", "KiB", MetricClass::memory, &RunFields::mean_memory_added_kib},
    {"peak_rss_kib", "KiB", MetricClass::memory, &RunFields::sum_peak_rss_kib},
};

using RunGroups = std::map<std::string, std::vector<const RunFields*>>;

RunGroups group_runs(const ScenarioFields& s) {
  RunGroups g;
  for (const RunFields& r : s.runs)
    if (!r.warmup) g[params_label(r.params)].push_back(&r);
  return g;
}

Sample sample_of(const std::vector<const RunFields*>& runs, std::optional<double> RunFields::*f) {
  Sample s;
  for (const RunFields* r : runs)
    if (r->*f) s.values.push_back(*(r->*f));
  s.n = static_cast<int>(s.values.size());
  return s;
}

void finish(Comparison& c) {
  for (const auto& m : c.changes)
    if (m.status == ChangeStatus::regression) c.regressed = true;
}

double to_ns(double value, const std::string& unit, const std::string& where) {
  if (unit == "ns" || unit.empty()) return value;
  if (unit == "us") return value * 1e3;
  if (unit == "ms") return value * 1e6;
  if (unit == "s") return value * 1e9;
  throw std::runtime_error(where + ": unknown time_unit \"" + unit + "\"");
}

struct BenchSamples {
  Sample real, cpu;
  bool has_aggregate = false;
};

std::map<std::string, BenchSamples> read_benchmarks(const json& doc, std::string_view source) {
  const std::string where(source);
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw std::runtime_error(where +
                             ": not a Google Benchmark JSON file (no \"benchmarks\" "
                             "array); write one with --benchmark_out=FILE "
                             "--benchmark_out_format=json");
  std::map<std::string, BenchSamples> iterations, aggregates;
  for (const json& b : doc["benchmarks"]) {
    if (!b.is_object() || !b.contains("name")) continue;
    if (b.value("error_occurred", false)) continue;
    const std::string name = b.value("run_name", b["name"].get<std::string>());
    const std::string unit = b.value("time_unit", "ns");
    const std::string here = where + ": benchmark " + name;
    if (!b.contains("real_time") || !b.contains("cpu_time") || !b["real_time"].is_number() ||
        !b["cpu_time"].is_number())
      throw std::runtime_error(here + ": real_time/cpu_time missing or not numbers");
    const double real = to_ns(b["real_time"].get<double>(), unit, here);
    const double cpu = to_ns(b["cpu_time"].get<double>(), unit, here);
    if (b.value("run_type", "iteration") == "aggregate") {
      BenchSamples& s = aggregates[name];
      const std::string agg = b.value("aggregate_name", "");
      const int reps = b.value("repetitions", 0);
      if (agg == "mean") {
        s.real.values = {real};
        s.cpu.values = {cpu};
        s.real.n = s.cpu.n = reps;
        s.has_aggregate = true;
      } else if (agg == "stddev") {
        s.real.sd = real;
        s.cpu.sd = cpu;
      }
    } else {
      BenchSamples& s = iterations[name];
      s.real.values.push_back(real);
      s.cpu.values.push_back(cpu);
      s.real.n = s.cpu.n = static_cast<int>(s.real.values.size());
    }
  }
  for (auto& [name, s] : aggregates)
    if (s.has_aggregate) {
      if (s.real.n == 0) s.real.n = s.cpu.n = static_cast<int>(iterations[name].real.values.size());
      iterations[name] = s;
    }
  return iterations;
}

std::string fmt_value(double v, const std::string& unit) {
  if (unit == "KiB") return fmt::format("{:.1f} MiB", v / 1024.0);
  if (unit == "ns") {
    if (v >= 1e9) return fmt::format("{:.3f} s", v / 1e9);
    if (v >= 1e6) return fmt::format("{:.3f} ms", v / 1e6);
    if (v >= 1e3) return fmt::format("{:.3f} us", v / 1e3);
    return fmt::format("{:.1f} ns", v);
  }
  return fmt::format("{:.3f} {}", v, unit);
}

std::string fmt_sample(double mean, double sd, int n, const std::string& unit) {
  std::string s = fmt_value(mean, unit);
  if (n >= 2 && sd > 0) s += " ± " + fmt_value(sd, unit);
  if (n >= 2) s += fmt::format(" (n={})", n);
  return s;
}

std::string mark(const YAML::Node& node, std::string_view source) {
  const auto m = node.Mark();
  if (m.is_null()) return std::string(source);
  return fmt::format("{}:{}:{}", source, m.line + 1, m.column + 1);
}

double percent_at(const YAML::Node& node, std::string_view source, const std::string& key) {
  try {
    if (!node.IsScalar()) throw std::invalid_argument("not a scalar");
    return parse_percent(node.as<std::string>());
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}: expected a percentage like 10%: {}",
                                         mark(node, source), key, e.what()));
  }
}

// A mapping of names to percentages; with `known`, names outside it are errors.
std::map<std::string, double> percent_map(const YAML::Node& v, std::string_view source,
                                          const std::string& what,
                                          const std::set<std::string>* known = nullptr) {
  if (!v.IsMap()) throw std::runtime_error(mark(v, source) + ": " + what);
  std::map<std::string, double> out;
  for (const auto& kv : v) {
    const std::string name = kv.first.as<std::string>();
    if (known && !known->count(name)) {
      std::string names;
      for (const auto& n : *known) names += (names.empty() ? "" : ", ") + n;
      throw std::runtime_error(
          fmt::format("{}: unknown metric \"{}\"; known: {}", mark(kv.first, source), name, names));
    }
    out[name] = percent_at(kv.second, source, name);
  }
  return out;
}

}  // namespace

std::string_view to_string(ChangeStatus status) {
  switch (status) {
    case ChangeStatus::ok: return "ok";
    case ChangeStatus::regression: return "regression";
    case ChangeStatus::improvement: return "improvement";
    case ChangeStatus::noise: return "noise";
    case ChangeStatus::not_available: return "n/a";
  }
  return "?";
}

Thresholds parse_thresholds(std::string_view text, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(
        fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  Thresholds t;
  if (root.IsNull()) return t;
  if (!root.IsMap())
    throw std::runtime_error(mark(root, source) +
                             ": thresholds must be a mapping like {time: 10%, memory: 5%}");
  std::set<std::string> known_metrics = {"real_time", "cpu_time"};
  for (const auto& m : kReportMetrics) known_metrics.insert(m.name);
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "time")
      t.time = percent_at(v, source, key);
    else if (key == "throughput")
      t.throughput = percent_at(v, source, key);
    else if (key == "memory")
      t.memory = percent_at(v, source, key);
    else if (key == "noise_k") {
      try {
        t.noise_k = v.as<double>();
      } catch (const YAML::Exception&) {
        throw std::runtime_error(mark(v, source) + ": noise_k must be a number, e.g. 2");
      }
      if (!(t.noise_k >= 0)) throw std::runtime_error(mark(v, source) + ": noise_k must be >= 0");
    } else if (key == "per_metric") {
      t.per_metric = percent_map(v, source,
                                 "per_metric must map metric names to percentages, "
                                 "e.g. {wall_s: 15%}",
                                 &known_metrics);
    } else if (key == "per_run") {
      t.per_run = percent_map(v, source,
                              "per_run must map benchmark names or run params to percentages, "
                              "e.g. {\"BM_SampleSmaps/1\": 100%}");
    } else {
      throw std::runtime_error(
          fmt::format("{}: unknown key \"{}\"; known keys: time, throughput, memory, noise_k, "
                      "per_metric, per_run",
                      mark(kv.first, source), key));
    }
  }
  return t;
}

Thresholds load_thresholds(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_thresholds(text.str(), path.string());
}

Comparison compare(const json& base, const json& candidate, const Thresholds& thresholds) {
  const ReportFields b = read_report_fields(base, "base report");
  const ReportFields n = read_report_fields(candidate, "new report");
  Comparison c;
  std::map<std::string, const ScenarioFields*> new_by_name;
  for (const auto& s : n.scenarios) new_by_name[s.name] = &s;
  std::set<std::string> base_names;
  for (const auto& bs : b.scenarios) {
    base_names.insert(bs.name);
    auto it = new_by_name.find(bs.name);
    if (it == new_by_name.end()) {
      c.only_in_base.push_back(bs.name);
      continue;
    }
    const RunGroups bg = group_runs(bs);
    const RunGroups ng = group_runs(*it->second);
    for (const auto& [label, bruns] : bg) {
      auto nit = ng.find(label);
      if (nit == ng.end()) {
        c.unmatched_runs.push_back(bs.name + ": " + label + " (only in base)");
        continue;
      }
      for (const auto& m : kReportMetrics)
        c.changes.push_back(judge(bs.name, label, m.name, m.unit, m.cls, sample_of(bruns, m.field),
                                  sample_of(nit->second, m.field), thresholds));
    }
    for (const auto& [label, nruns] : ng)
      if (!bg.count(label)) c.unmatched_runs.push_back(bs.name + ": " + label + " (only in new)");
  }
  for (const auto& s : n.scenarios)
    if (!base_names.count(s.name)) c.only_in_new.push_back(s.name);
  finish(c);
  return c;
}

Comparison compare_benchmarks(const json& base, const json& candidate,
                              const Thresholds& thresholds) {
  const auto b = read_benchmarks(base, "base benchmarks");
  const auto n = read_benchmarks(candidate, "new benchmarks");
  Comparison c;
  for (const auto& [name, bs] : b) {
    auto it = n.find(name);
    if (it == n.end()) {
      c.only_in_base.push_back(name);
      continue;
    }
    c.changes.push_back(judge("benchmarks", name, "real_time", "ns", MetricClass::time, bs.real,
                              it->second.real, thresholds));
    c.changes.push_back(judge("benchmarks", name, "cpu_time", "ns", MetricClass::time, bs.cpu,
                              it->second.cpu, thresholds));
  }
  for (const auto& [name, ns] : n)
    if (!b.count(name)) c.only_in_new.push_back(name);
  finish(c);
  return c;
}

Comparison compare_files(const std::filesystem::path& base, const std::filesystem::path& candidate,
                         const Thresholds& thresholds) {
  const json b = read_json_file(base);
  const json n = read_json_file(candidate);
  auto is_bench = [](const json& j) { return j.is_object() && j.contains("benchmarks"); };
  auto is_report = [](const json& j) { return j.is_object() && j.contains("scenarios"); };
  if (is_bench(b) && is_bench(n)) return compare_benchmarks(b, n, thresholds);
  if (is_report(b) && is_report(n)) return compare(b, n, thresholds);
  auto kind = [&](const json& j) {
    return is_bench(j) ? "a Google Benchmark file" : is_report(j) ? "a report.json" : "neither";
  };
  throw std::runtime_error(fmt::format(
      "cannot compare {} ({}) with {} ({}): give two report.json files or two Google Benchmark "
      "JSON files",
      base.string(), kind(b), candidate.string(), kind(n)));
}

std::string format_compare_markdown(const Comparison& c) {
  int counts[5] = {};
  for (const auto& m : c.changes) ++counts[static_cast<int>(m.status)];
  std::string out = fmt::format(
      "**{}**: {} regression(s), {} improvement(s), {} change(s) within noise, {} within "
      "threshold, {} not comparable.\n\n",
      c.regressed ? "REGRESSION" : "OK", counts[int(ChangeStatus::regression)],
      counts[int(ChangeStatus::improvement)], counts[int(ChangeStatus::noise)],
      counts[int(ChangeStatus::ok)], counts[int(ChangeStatus::not_available)]);
  bool header = false;
  for (const auto& m : c.changes) {
    if (m.status == ChangeStatus::ok || m.status == ChangeStatus::not_available) continue;
    if (!header) {
      out += "| scenario | run | metric | base | new | change | threshold | status |\n";
      out += "| --- | --- | --- | --- | --- | ---: | ---: | --- |\n";
      header = true;
    }
    out += fmt::format("| {} | {} | {} | {} | {} | {:+.1f} % | {:.0f} % | {}{} |\n", m.scenario,
                       m.run, m.metric, fmt_sample(m.base_mean, m.base_sd, m.base_n, m.unit),
                       fmt_sample(m.new_mean, m.new_sd, m.new_n, m.unit), m.change_pct,
                       m.threshold_pct, to_string(m.status),
                       m.status == ChangeStatus::noise
                           ? fmt::format(" (inside ±{})", fmt_value(m.noise_band, m.unit))
                           : "");
  }
  if (!header) out += "No metric changed beyond its threshold.\n";
  auto list = [&](const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out += fmt::format("\n{}:\n", title);
    for (const auto& n : names) out += "- " + n + "\n";
  };
  list("Only in base (not compared)", c.only_in_base);
  list("Only in new (not compared)", c.only_in_new);
  list("Runs without a match (not compared)", c.unmatched_runs);
  return out;
}

json comparison_to_json(const Comparison& c) {
  json changes = json::array();
  for (const auto& m : c.changes)
    changes.push_back({{"scenario", m.scenario},
                       {"run", m.run},
                       {"metric", m.metric},
                       {"unit", m.unit},
                       {"higher_is_better", m.higher_is_better},
                       {"base", {{"mean", m.base_mean}, {"sd", m.base_sd}, {"n", m.base_n}}},
                       {"new", {{"mean", m.new_mean}, {"sd", m.new_sd}, {"n", m.new_n}}},
                       {"change_pct", m.change_pct},
                       {"worse_pct", m.worse_pct},
                       {"threshold_pct", m.threshold_pct},
                       {"noise_band", m.noise_band},
                       {"status", to_string(m.status)}});
  return {{"regressed", c.regressed},
          {"changes", changes},
          {"only_in_base", c.only_in_base},
          {"only_in_new", c.only_in_new},
          {"unmatched_runs", c.unmatched_runs}};
}

}  // namespace harness
