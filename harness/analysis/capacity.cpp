#include "harness/analysis/capacity.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

using nlohmann::json;

bool is_sweep(const ScenarioFields& s) {
  if (!s.matrix.is_object()) return false;
  auto it = s.matrix.find("instances");
  return it != s.matrix.end() && it->is_array() && it->size() >= 2;
}

// Mean of the values that are known; unknown if any run lacks it, so a point never mixes
// measured and missing repeats silently.
std::optional<double> mean_of(const std::vector<const RunFields*>& runs,
                              std::optional<double> RunFields::*field) {
  double sum = 0;
  for (const RunFields* r : runs) {
    if (!(r->*field)) return std::nullopt;
    sum += *(r->*field);
  }
  return runs.empty() ? std::nullopt : std::optional<double>(sum / runs.size());
}

CapacityPoint make_point(int workers, const std::vector<const RunFields*>& runs) {
  CapacityPoint p;
  p.workers = workers;
  p.repeats = static_cast<int>(runs.size());
  p.throughput_fps = mean_of(runs, &RunFields::throughput_fps);
  p.latency_p50_s = mean_of(runs, &RunFields::latency_p50_s);
  p.latency_p95_s = mean_of(runs, &RunFields::latency_p95_s);
  p.latency_p99_s = mean_of(runs, &RunFields::latency_p99_s);
  p.ready_p50_ms = mean_of(runs, &RunFields::ready_p50_ms);
  p.sum_rss_kib = mean_of(runs, &RunFields::sum_peak_rss_kib);
  p.sum_peak_pss_kib = mean_of(runs, &RunFields::sum_peak_pss_kib);
  p.sum_pss_kib = mean_of(runs, &RunFields::concurrent_pss_kib);
  p.uss_per_worker_kib = mean_of(runs, &RunFields::concurrent_uss_per_worker_kib);
  p.concurrent = p.sum_pss_kib && p.uss_per_worker_kib;
  if (!p.concurrent) {
    p.sum_pss_kib = p.sum_peak_pss_kib;
    p.uss_per_worker_kib = mean_of(runs, &RunFields::mean_peak_uss_kib);
  }
  p.cpus_wanted = mean_of(runs, &RunFields::cpu_wanted);
  p.cpu_wait_share = mean_of(runs, &RunFields::cpu_wait_share);
  for (const RunFields* r : runs) {
    if (r->threads_per_worker)
      p.threads_per_worker = std::max(p.threads_per_worker.value_or(0), *r->threads_per_worker);
    p.oversubscribed = p.oversubscribed || r->oversubscribed;
  }
  return p;
}

// Fits the memory model of DESIGN in capacity.hpp and fills the per-point checks.
void fit_memory_model(CapacitySeries& s) {
  auto total_at = [](const CapacityPoint& p) {
    return p.sum_pss_kib ? p.sum_pss_kib : p.sum_rss_kib;
  };
  const CapacityPoint* first = nullptr;
  for (const auto& p : s.points)
    if (total_at(p)) {
      first = &p;
      break;
    }
  if (!first) {
    s.notes.push_back(
        "no memory measured (sum_peak_pss_kib and sum_peak_rss_kib are null): "
        "memory fit unknown; check that the sampler can read /proc/PID/smaps_rollup");
    return;
  }
  if (!first->sum_pss_kib)
    s.notes.push_back("PSS unknown: totals use RSS, which overstates shared pages");

  const CapacityPoint* priv = nullptr;
  for (const auto& p : s.points)
    if (p.workers >= 2 && p.uss_per_worker_kib) {
      priv = &p;
      break;
    }
  MemoryModel m;
  m.total_from_n = first->workers;
  if (priv) {
    m.private_kib = *priv->uss_per_worker_kib;
    m.private_from_n = priv->workers;
  } else if (first->uss_per_worker_kib) {
    m.private_kib = *first->uss_per_worker_kib;
    m.private_from_n = first->workers;
    s.notes.push_back(fmt::format(
        "private memory taken from USS at N={}: a lone worker's USS includes library and model "
        "pages that siblings would share, so predictions for more workers are high",
        first->workers));
  } else {
    m.private_kib = *total_at(*first) / first->workers;
    m.private_from_n = first->workers;
    s.notes.push_back(
        "USS unknown: every page counted as private (no sharing), so predictions "
        "are an upper bound");
  }
  m.shared_kib = std::max(0.0, *total_at(*first) - first->workers * m.private_kib);
  if (*total_at(*first) - first->workers * m.private_kib < 0)
    s.notes.push_back(
        "USS with siblings exceeds the total at the smallest N: shared part set to "
        "0; the sweep's memory readings are inconsistent, re-run it");

  double max_err = -1;
  for (auto& p : s.points) {
    p.predicted_kib = m.predict_kib(p.workers);
    if (!p.sum_pss_kib || *p.sum_pss_kib <= 0) continue;
    const double t = *p.sum_pss_kib;
    p.prediction_error_pct = (*p.predicted_kib - t) / t * 100.0;
    if (p.sum_rss_kib) p.rss_sum_error_pct = (*p.sum_rss_kib - t) / t * 100.0;
    if (p.workers != m.total_from_n) max_err = std::max(max_err, std::abs(*p.prediction_error_pct));
  }
  if (max_err >= 0) s.max_abs_error_pct = max_err;
  if (max_err > 5.0)
    s.notes.push_back(
        fmt::format("memory model misses the measured total by up to {:.1f} % "
                    "(target 5 %): keep a larger margin",
                    max_err));
  for (const auto& p : s.points)
    if (p.sum_pss_kib && !p.concurrent) {
      s.notes.push_back(
          "no PSS samples while all workers were alive (report without memory timelines): "
          "totals and USS are per-worker peaks summed, which overstate a survivor's shared "
          "pages; re-run the sweep with this harness version");
      break;
    }
  s.model = m;
}

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json point_to_json(const CapacityPoint& p) {
  return {{"workers", p.workers},
          {"repeats", p.repeats},
          {"throughput_fps", opt(p.throughput_fps)},
          {"latency_s",
           {{"p50", opt(p.latency_p50_s)},
            {"p95", opt(p.latency_p95_s)},
            {"p99", opt(p.latency_p99_s)}}},
          {"ready_p50_ms", opt(p.ready_p50_ms)},
          {"sum_rss_kib", opt(p.sum_rss_kib)},
          {"sum_pss_kib", opt(p.sum_pss_kib)},
          {"sum_pss_from", p.concurrent ? "concurrent samples" : "sum of per-worker peaks"},
          {"sum_peak_pss_kib", opt(p.sum_peak_pss_kib)},
          {"uss_per_worker_kib", opt(p.uss_per_worker_kib)},
          {"predicted_kib", opt(p.predicted_kib)},
          {"prediction_error_pct", opt(p.prediction_error_pct)},
          {"rss_sum_error_pct", opt(p.rss_sum_error_pct)},
          {"cpus_wanted", opt(p.cpus_wanted)},
          {"cpu_wait_share", opt(p.cpu_wait_share)},
          {"threads_per_worker", p.threads_per_worker ? json(*p.threads_per_worker) : json()},
          {"oversubscribed", p.oversubscribed}};
}

}  // namespace

json series_to_json(const CapacitySeries& s) {
  json points = json::array();
  for (const auto& p : s.points) points.push_back(point_to_json(p));
  json model = nullptr;
  if (s.model)
    model = {{"shared_kib", s.model->shared_kib},
             {"private_kib", s.model->private_kib},
             {"total_from_n", s.model->total_from_n},
             {"private_from_n", s.model->private_from_n},
             {"formula", "total(N) = shared + N * private"}};
  json knee = s.knee ? json(*s.knee) : json(nullptr);
  return {{"scenario", s.scenario},
          {"config", s.config},
          {"label", s.label},
          {"model", model},
          {"knee", knee},
          {"knee_found", s.knee_found},
          {"knee_gain", PlanOptions{}.knee_gain},
          {"max_abs_error_pct", opt(s.max_abs_error_pct)},
          {"points", points},
          {"cores", s.cores ? json(*s.cores) : json()},
          {"notes", s.notes}};
}

std::optional<int> find_knee(const CapacitySeries& s, double gain, bool* found) {
  *found = false;
  if (s.points.empty()) return std::nullopt;
  for (const auto& p : s.points)
    if (!p.throughput_fps) return std::nullopt;
  for (std::size_t i = 0; i + 1 < s.points.size(); ++i) {
    const auto& a = s.points[i];
    const auto& b = s.points[i + 1];
    const double g = *a.throughput_fps > 0
                         ? (*b.throughput_fps / *a.throughput_fps - 1.0) / (b.workers - a.workers)
                         : 1.0;
    if (g < gain) {
      *found = true;
      return a.workers;
    }
  }
  return s.points.back().workers;
}

std::vector<CapacitySeries> extract_sweeps(const json& report) {
  const ReportFields fields = read_report_fields(report);
  std::vector<CapacitySeries> out;
  for (const ScenarioFields& sc : fields.scenarios) {
    if (!is_sweep(sc)) continue;
    // config label -> workers -> runs
    std::map<std::string, std::pair<json, std::map<int, std::vector<const RunFields*>>>> groups;
    std::optional<int> cores = fields.host_cpus;
    for (const RunFields& run : sc.runs) {
      if (run.cpu_cores) cores = run.cpu_cores;
      if (run.warmup) continue;
      if (!run.instances)
        throw std::runtime_error(fmt::format(
            "scenario {}: run {} does not say how many instances it ran (params.instances and "
            "metrics.instances are missing); re-run it with this harness version",
            sc.name, params_label(run.params)));
      json config = run.params;
      config.erase("instances");
      auto& g = groups[params_label(config)];
      g.first = config;
      g.second[*run.instances].push_back(&run);
    }
    for (auto& [label, group] : groups) {
      CapacitySeries s;
      s.scenario = sc.name;
      s.config = group.first;
      s.label = group.first.empty() ? sc.name : sc.name + " " + label;
      s.cores = cores;
      for (auto& [workers, runs] : group.second) s.points.push_back(make_point(workers, runs));
      fit_memory_model(s);
      s.knee = find_knee(s, PlanOptions{}.knee_gain, &s.knee_found);
      out.push_back(std::move(s));
    }
  }
  if (out.empty())
    throw std::runtime_error(std::string("report has no concurrency sweep (no scenario with a "
                                         "matrix over `instances` of two or more values): ") +
                             std::string(kSweepHint));
  return out;
}

json capacity_series(const json& report) {
  json out = json::array();
  for (const auto& s : extract_sweeps(report)) out.push_back(series_to_json(s));
  return out;
}

bool is_concurrency_sweep(const json& matrix) {
  if (!matrix.is_object()) return false;
  const auto n = matrix.find("instances");
  return n != matrix.end() && n->is_array() && n->size() >= 2;
}

json scenario_capacity(const json& scenario) {
  if (!scenario.is_object() || !is_concurrency_sweep(scenario.value("matrix", json()))) {
    return nullptr;
  }
  const json report = {{"schema", 1}, {"scenarios", json::array({scenario})}};
  return {{"series", capacity_series(report)}};
}

}  // namespace harness
