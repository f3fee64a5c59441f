#include "harness/analysis/compare.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/analysis/benchmark_json.hpp"
#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

enum class MetricClass { time, throughput, memory };

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
    {"work_ms_p50", "ms", MetricClass::time, &RunFields::work_p50_ms},
    {"memory_added_kib", "KiB", MetricClass::memory, &RunFields::mean_memory_added_kib},
    {"peak_rss_kib", "KiB", MetricClass::memory, &RunFields::sum_peak_rss_kib},
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

// FNV-1a: a seed per metric, so each bootstrap is reproducible and independent of the others.
std::uint64_t seed_of(const std::string& a, const std::string& b, const std::string& c) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const std::string* s : {&a, &b, &c}) {
    for (unsigned char ch : *s) h = (h ^ ch) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  return h;
}

ChangeStatus status_of(Verdict v) {
  switch (v) {
    case Verdict::no_change: return ChangeStatus::ok;
    case Verdict::regression: return ChangeStatus::regression;
    case Verdict::improvement: return ChangeStatus::improvement;
    case Verdict::not_significant: return ChangeStatus::noise;
    case Verdict::not_enough_data: return ChangeStatus::not_enough_data;
  }
  return ChangeStatus::not_available;
}

// The values of one metric in pairs, base first; empty when they do not pair.
struct Pairs {
  std::vector<double> base, candidate;
};

MetricChange judge(std::string scenario, std::string run, std::string metric, std::string unit,
                   MetricClass cls, const std::vector<double>& base,
                   const std::vector<double>& cand, const Thresholds& t, const Pairs& pairs = {}) {
  MetricChange c;
  c.scenario = std::move(scenario);
  c.run = std::move(run);
  c.metric = std::move(metric);
  c.unit = std::move(unit);
  c.higher_is_better = cls == MetricClass::throughput;
  c.threshold_pct = threshold_for(t, c.run, c.metric, cls) * 100.0;
  c.base_n = static_cast<int>(base.size());
  c.new_n = static_cast<int>(cand.size());
  if (base.empty() || cand.empty()) {
    c.status = ChangeStatus::not_available;
    return c;
  }
  c.base_median = median(base);
  c.new_median = median(cand);
  if (c.base_median == 0) {
    c.status = ChangeStatus::not_available;
    return c;
  }
  DecisionOptions o;
  o.threshold = c.threshold_pct / 100.0;
  o.alpha = t.alpha;
  o.higher_is_better = c.higher_is_better;
  o.seed = seed_of(c.scenario, c.run, c.metric);
  const bool paired = !pairs.base.empty();
  const Decision d = paired ? decide_paired(pairs.base, pairs.candidate, o) : decide(base, cand, o);
  c.pairs = paired ? static_cast<int>(pairs.base.size()) : 0;
  c.ratio = d.ratio;
  c.ci = d.ci;
  if (d.test) c.p = d.test->p;
  if (d.signed_rank) c.p = d.signed_rank->p;
  c.change_pct = (d.ratio - 1) * 100.0;
  c.worse_pct = d.worse_pct;
  c.status = status_of(d.verdict);
  return c;
}

void finish(Comparison& c, const Thresholds& t) {
  c.alpha = t.alpha;
  c.regressed = std::any_of(c.changes.begin(), c.changes.end(), [](const MetricChange& m) {
    return m.status == ChangeStatus::regression;
  });
}

// A map that iterates in the order keys first came, so tables follow the reports' order.
template <class V>
struct Ordered {
  std::vector<std::string> keys;
  std::map<std::string, V> values;
  V& operator[](const std::string& key) {
    auto [it, inserted] = values.try_emplace(key);
    if (inserted) keys.push_back(key);
    return it->second;
  }
  const V* find(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }
};

// Every non-warmup run of a side, by scenario name and params label, over all its reports.
using RunPool = Ordered<Ordered<std::vector<RunFields>>>;

void add_runs(RunPool& pool, const ReportFields& f) {
  for (const ScenarioFields& s : f.scenarios) {
    auto& runs = pool[s.name];
    for (const RunFields& r : s.runs)
      if (!r.warmup) runs[params_label(r.params)].push_back(r);
  }
}

// The side's runs pooled over its reports, and (with `each`) one pool per report as well.
RunPool pool_runs(const std::vector<json>& reports, const char* side,
                  std::vector<RunPool>* each = nullptr) {
  RunPool pool;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const ReportFields f = read_report_fields(
        reports[i], reports.size() == 1 ? fmt::format("{} report", side)
                                        : fmt::format("{} report {}", side, i + 1));
    add_runs(pool, f);
    if (each) add_runs(each->emplace_back(), f);
  }
  return pool;
}

std::vector<double> values_of(const std::vector<RunFields>& runs,
                              std::optional<double> RunFields::*f) {
  std::vector<double> v;
  for (const RunFields& r : runs)
    if (r.*f && std::isfinite(*(r.*f))) v.push_back(*(r.*f));
  return v;
}

// Report i of one side against report i of the other, run i against run i of a (scenario,
// params): the pairs of one metric, or none when anything does not line up (a run or a value on
// one side only, a value not above 0): the metric is then judged on the pooled values.
Pairs pairs_of(const std::vector<RunPool>& base, const std::vector<RunPool>& cand,
               const std::string& name, const std::string& label,
               std::optional<double> RunFields::*f) {
  Pairs p;
  if (base.size() != cand.size()) return {};
  for (std::size_t k = 0; k < base.size(); ++k) {
    const auto* bs = base[k].find(name);
    const auto* ns = cand[k].find(name);
    if (!bs != !ns) return {};
    if (!bs) continue;
    const auto* br = bs->find(label);
    const auto* nr = ns->find(label);
    if (!br != !nr) return {};
    if (!br) continue;
    if (br->size() != nr->size()) return {};
    for (std::size_t i = 0; i < br->size(); ++i) {
      const auto& x = (*br)[i].*f;
      const auto& y = (*nr)[i].*f;
      if (!x && !y) continue;
      if (!x || !y || !std::isfinite(*x) || !std::isfinite(*y) || !(*x > 0) || !(*y > 0)) return {};
      p.base.push_back(*x);
      p.candidate.push_back(*y);
    }
  }
  return p;
}

}  // namespace

const std::vector<std::string>& compared_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : kReportMetrics) n.emplace_back(m.name);
    n.emplace_back("real_time");
    n.emplace_back("cpu_time");
    return n;
  }();
  return names;
}

std::string_view to_string(ChangeStatus status) {
  switch (status) {
    case ChangeStatus::ok: return "no change";
    case ChangeStatus::regression: return "regression";
    case ChangeStatus::improvement: return "improvement";
    case ChangeStatus::noise: return "not significant";
    case ChangeStatus::not_enough_data: return "not enough data";
    case ChangeStatus::not_available: return "n/a";
  }
  return "?";
}

Comparison compare_reports(const std::vector<json>& base, const std::vector<json>& candidate,
                           const Thresholds& thresholds, bool paired) {
  paired = paired && base.size() == candidate.size();
  std::vector<RunPool> per_base, per_new;  // report by report, for the pairs
  const RunPool b = pool_runs(base, "base", paired ? &per_base : nullptr);
  const RunPool n = pool_runs(candidate, "new", paired ? &per_new : nullptr);
  Comparison c;
  for (const std::string& name : b.keys) {
    const auto& bruns = *b.find(name);
    const auto* nruns = n.find(name);
    if (nruns == nullptr) {
      c.only_in_base.push_back(name);
      continue;
    }
    for (const std::string& label : bruns.keys) {
      const auto* nr = nruns->find(label);
      if (nr == nullptr) {
        c.unmatched_runs.push_back(name + ": " + label + " (only in base)");
        continue;
      }
      const auto& br = *bruns.find(label);
      for (const auto& m : kReportMetrics) {
        const std::vector<double> bv = values_of(br, m.field), nv = values_of(*nr, m.field);
        // Not measured on either side (no frames in an error scenario, no result event): no row.
        // A value on one side only stays, as n/a: that difference is worth seeing.
        if (bv.empty() && nv.empty()) continue;
        const Pairs pairs =
            per_base.empty() ? Pairs{} : pairs_of(per_base, per_new, name, label, m.field);
        c.changes.push_back(judge(name, label, m.name, m.unit, m.cls, bv, nv, thresholds, pairs));
      }
    }
    for (const std::string& label : nruns->keys)
      if (!bruns.find(label)) c.unmatched_runs.push_back(name + ": " + label + " (only in new)");
  }
  for (const std::string& name : n.keys)
    if (!b.find(name)) c.only_in_new.push_back(name);
  finish(c, thresholds);
  return c;
}

Comparison compare_benchmark_sets(const std::vector<json>& base, const std::vector<json>& candidate,
                                  const Thresholds& thresholds, const std::string& program) {
  std::map<std::string, BenchmarkSamples> b, n;
  for (std::size_t i = 0; i < base.size(); ++i)
    read_benchmark_samples(base[i], fmt::format("base {} {}", program, i + 1), b);
  for (std::size_t i = 0; i < candidate.size(); ++i)
    read_benchmark_samples(candidate[i], fmt::format("new {} {}", program, i + 1), n);
  Comparison c;
  for (const auto& [name, bs] : b) {
    auto it = n.find(name);
    if (it == n.end()) {
      c.only_in_base.push_back(program + ": " + name);
      continue;
    }
    c.changes.push_back(judge(program, name, "real_time", "ns", MetricClass::time, bs.real_ns,
                              it->second.real_ns, thresholds));
    c.changes.push_back(judge(program, name, "cpu_time", "ns", MetricClass::time, bs.cpu_ns,
                              it->second.cpu_ns, thresholds));
  }
  for (const auto& [name, ns] : n)
    if (!b.count(name)) c.only_in_new.push_back(program + ": " + name);
  finish(c, thresholds);
  return c;
}

Comparison compare(const json& base, const json& candidate, const Thresholds& thresholds) {
  return compare_reports({base}, {candidate}, thresholds);
}

Comparison compare_benchmarks(const json& base, const json& candidate,
                              const Thresholds& thresholds) {
  return compare_benchmark_sets({base}, {candidate}, thresholds);
}

void append(Comparison& into, Comparison&& from) {
  auto move_all = [](auto& to, auto& src) {
    to.insert(to.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
  };
  move_all(into.changes, from.changes);
  move_all(into.only_in_base, from.only_in_base);
  move_all(into.only_in_new, from.only_in_new);
  move_all(into.unmatched_runs, from.unmatched_runs);
  into.regressed = into.regressed || from.regressed;
  into.alpha = from.alpha;
}

namespace {

bool is_report(const json& j) {
  return j.is_object() && j.contains("scenarios");
}

// What a folder holds for the gate: report.json files, and benchmark files by program name.
struct FolderSet {
  std::vector<json> reports;
  std::vector<fs::path> report_paths;  // relative to the folder, in the order of `reports`
  std::map<std::string, std::vector<json>> benchmarks;
};

FolderSet read_folder(const fs::path& dir) {
  FolderSet set;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());  // rounds in order, whatever the directory order
  for (const fs::path& f : files) {
    if (f.filename() == "report.json") {
      set.reports.push_back(read_json_file(f));
      set.report_paths.push_back(fs::relative(f, dir));
    } else if (f.parent_path().filename() == "bench")
      set.benchmarks[f.stem().string()].push_back(read_json_file(f));
  }
  if (set.reports.empty() && set.benchmarks.empty())
    throw std::runtime_error(dir.string() +
                             ": no report.json and no bench/*.json below it; give the folder "
                             "`harness ab` wrote for one side, or two files");
  return set;
}

Comparison compare_folders(const fs::path& base, const fs::path& candidate, const Thresholds& t) {
  const FolderSet b = read_folder(base);
  const FolderSet n = read_folder(candidate);
  Comparison c;
  c.alpha = t.alpha;
  if (!b.reports.empty() && !n.reports.empty())
    append(c, compare_reports(b.reports, n.reports, t, b.report_paths == n.report_paths));
  else if (!b.reports.empty() || !n.reports.empty())
    (b.reports.empty() ? c.only_in_new : c.only_in_base).push_back("report.json (scenarios)");
  for (const auto& [program, docs] : b.benchmarks) {
    auto it = n.benchmarks.find(program);
    if (it == n.benchmarks.end())
      c.only_in_base.push_back(program);
    else
      append(c, compare_benchmark_sets(docs, it->second, t, program));
  }
  for (const auto& [program, docs] : n.benchmarks)
    if (!b.benchmarks.count(program)) c.only_in_new.push_back(program);
  return c;
}

}  // namespace

Comparison compare_files(const fs::path& base, const fs::path& candidate,
                         const Thresholds& thresholds) {
  const bool base_dir = fs::is_directory(base), new_dir = fs::is_directory(candidate);
  if (base_dir && new_dir) return compare_folders(base, candidate, thresholds);
  if (base_dir != new_dir)
    throw std::runtime_error(fmt::format("cannot compare {} with {}: give two files or two folders",
                                         base.string(), candidate.string()));
  const json b = read_json_file(base);
  const json n = read_json_file(candidate);
  if (is_benchmark_json(b) && is_benchmark_json(n)) return compare_benchmarks(b, n, thresholds);
  if (is_report(b) && is_report(n)) return compare(b, n, thresholds);
  auto kind = [&](const json& j) {
    return is_benchmark_json(j) ? "a Google Benchmark file"
           : is_report(j)       ? "a report.json"
                                : "neither";
  };
  throw std::runtime_error(fmt::format(
      "cannot compare {} ({}) with {} ({}): give two report.json files or two Google Benchmark "
      "JSON files",
      base.string(), kind(b), candidate.string(), kind(n)));
}

int min_repetitions(double alpha) {
  for (int k = 1; k < 10000; ++k)
    if (min_p_two_sided(k, k) < alpha) return k;
  return 10000;
}

}  // namespace harness
