#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/analysis/capacity.hpp"

// harness plan: how many workers fit a memory budget, where throughput stops rising and which
// N meets a latency bound, from a concurrency sweep's capacity series.
namespace harness {

using nlohmann::json;

namespace {

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}
std::string mib(std::optional<double> kib) {
  return kib ? fmt::format("{:.1f}", *kib / 1024.0) : "-";
}
std::string num(std::optional<double> v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : "-";
}
std::string pct(std::optional<double> v) {
  return v ? fmt::format("{:+.1f}%", *v) : "-";
}

void fit_into_memory(SeriesPlan& sp, const CapacitySeries& s) {
  if (!s.model)
    throw std::runtime_error(fmt::format(
        "sweep {}: no memory measurements, cannot fit workers into a budget; check that the "
        "sampler reads /proc and re-run the sweep",
        s.label));
  const MemoryModel& m = *s.model;
  if (m.private_kib <= 0) {
    sp.memory_fit = INT_MAX;
    sp.notes.push_back("per-worker private memory measured as 0: memory does not limit N");
  } else {
    const double n = std::floor((sp.usable_kib - m.shared_kib) / m.private_kib);
    sp.memory_fit = n < 0 ? 0 : static_cast<int>(std::min(n, double(INT_MAX)));
  }
}

// Workers that report no frames (no result.frames_processed) have no throughput: memory and
// latency still plan them, the knee is unknown.
void find_throughput_knee(SeriesPlan& sp, const CapacitySeries& s, const PlanOptions& options) {
  const auto knee = find_knee(s, options.knee_gain, &sp.knee_found);
  sp.knee_known = knee.has_value();
  sp.knee = knee.value_or(0);
  if (!knee)
    sp.notes.push_back(
        "no throughput at some N (the worker reports no frames_processed): knee unknown, "
        "recommended from memory and latency only");
  else if (!sp.knee_found)
    sp.notes.push_back(
        fmt::format("throughput still rises at N={}, the largest measured: "
                    "extend the sweep's instances to find the knee",
                    sp.knee));
}

void fit_latency(SeriesPlan& sp, const CapacitySeries& s, const PlanOptions& options) {
  if (!options.latency_p95_max_s) return;
  int fit = 0;
  for (const auto& p : s.points) {
    if (!p.latency_p95_s)
      throw std::runtime_error(
          fmt::format("sweep {}: N={} has no latency p95 (metrics.latency_s.p95); cannot apply "
                      "--latency-p95",
                      s.label, p.workers));
    if (*p.latency_p95_s > *options.latency_p95_max_s) break;
    fit = p.workers;
  }
  sp.latency_fit = fit;
  if (fit == 0)
    sp.notes.push_back(fmt::format("no measured N meets latency p95 <= {:.3f} s, not even N={}",
                                   *options.latency_p95_max_s, s.points.front().workers));
}

// The CPUs one worker wants, from the smallest N whose runs measured them: beyond it, N x that
// figure exceeds the cores and workers wait for CPUs instead of adding throughput.
void fit_cpu(SeriesPlan& sp, const CapacitySeries& s) {
  const CapacityPoint* first = nullptr;
  for (const auto& p : s.points)
    if (p.cpus_wanted && *p.cpus_wanted > 0) {
      first = &p;
      break;
    }
  if (first == nullptr || !s.cores || *s.cores <= 0) {
    sp.notes.push_back(
        "no CPU demand in the report (runs without cpu_demand): CPU not planned; re-run the "
        "sweep with this harness version");
    return;
  }
  const double per = *first->cpus_wanted / first->workers;
  sp.cpus_per_worker = per;
  sp.threads_assumed = first->threads_per_worker;
  const double n = std::floor(*s.cores * (1.0 + kCpuFitSlack) / per);
  sp.cpu_fit = std::max(1, static_cast<int>(std::min(n, double(INT_MAX))));
  const std::string threads = first->threads_per_worker ? fmt::format(" with up to {} threads each",
                                                                      *first->threads_per_worker)
                                                        : std::string();
  if (per > *s.cores * (1.0 + kCpuFitSlack))
    sp.notes.push_back(fmt::format(
        "one worker alone wants {:.2f} CPUs{} on {} cores: it is oversubscribed by itself; "
        "limit its threads (OMP_NUM_THREADS, or the worker's own thread option)",
        per, threads, *s.cores));
  if (first->threads_per_worker && *first->threads_per_worker > 1)
    sp.notes.push_back(fmt::format(
        "the CPU fit assumes {} threads per worker, as measured: fewer threads per worker "
        "(OMP_NUM_THREADS=1, or the worker's own thread option) usually fit more workers on "
        "the cores; re-run the sweep that way to plan with them",
        *first->threads_per_worker));
  for (const auto& p : s.points)
    if (p.oversubscribed)
      sp.notes.push_back(fmt::format(
          "N={} was oversubscribed: its workers wanted {:.1f} CPUs on {} cores and waited {:.0f} "
          "% of their runnable time",
          p.workers, p.cpus_wanted.value_or(0), *s.cores, p.cpu_wait_share.value_or(0) * 100));
}

// Hard limits first on ties: memory, latency, the cores, then the knee.
void recommend(SeriesPlan& sp, const CapacitySeries& s) {
  const MemoryModel& m = *s.model;
  sp.recommended = sp.memory_fit;
  sp.limiting = "memory";
  if (sp.latency_fit && *sp.latency_fit < sp.recommended) {
    sp.recommended = *sp.latency_fit;
    sp.limiting = "latency";
  }
  if (sp.cpu_fit && *sp.cpu_fit < sp.recommended) {
    sp.recommended = *sp.cpu_fit;
    sp.limiting = "cpu";
  }
  if (sp.knee_known && sp.knee < sp.recommended) {
    sp.recommended = sp.knee;
    sp.limiting = sp.knee_found ? "throughput" : "sweep";
  }
  if (sp.recommended > 0) sp.predicted_kib_at_recommended = m.predict_kib(sp.recommended);
  for (const auto& p : s.points)
    if (p.workers == sp.recommended) sp.throughput_at_recommended = p.throughput_fps;
  if (sp.memory_fit == 0)
    sp.notes.push_back(
        fmt::format("not even one worker fits: it needs {:.1f} MiB, the usable "
                    "budget is {:.1f} MiB",
                    m.predict_kib(1) / 1024.0, sp.usable_kib / 1024.0));
}

}  // namespace

Plan plan(const json& report, const PlanOptions& options) {
  if (options.memory_budget_kib <= 0)
    throw std::invalid_argument("memory budget must be positive, e.g. --memory-budget 8GiB");
  if (options.margin < 0 || options.margin >= 1)
    throw std::invalid_argument("safety margin must be in [0 %, 100 %), e.g. --margin 10%");

  Plan result;
  result.options = options;
  for (CapacitySeries& s : extract_sweeps(report)) {
    if (!options.scenario.empty() && s.scenario != options.scenario) continue;
    SeriesPlan sp;
    sp.usable_kib = options.memory_budget_kib * (1.0 - options.margin);
    fit_into_memory(sp, s);
    find_throughput_knee(sp, s, options);
    fit_latency(sp, s, options);
    fit_cpu(sp, s);
    recommend(sp, s);
    sp.series = std::move(s);
    result.series.push_back(std::move(sp));
  }
  if (result.series.empty())
    throw std::runtime_error(fmt::format("report has no concurrency sweep in scenario \"{}\": {}",
                                         options.scenario, kSweepHint));
  return result;
}

std::string format_plan_table(const Plan& plan) {
  std::string out;
  const auto& o = plan.options;
  out += fmt::format("Memory budget {:.1f} MiB, margin {:.0f} %", o.memory_budget_kib / 1024.0,
                     o.margin * 100);
  if (o.latency_p95_max_s) out += fmt::format(", latency p95 <= {:.3f} s", *o.latency_p95_max_s);
  out += "\n";
  for (const SeriesPlan& sp : plan.series) {
    const CapacitySeries& s = sp.series;
    out += fmt::format("\n{}\n", s.label);
    out += fmt::format(
        "{:>3} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9} {:>10} {:>7} {:>8} {:>6} {:>5}\n",
        "N", "fps", "p50 s", "p95 s", "p99 s", "ready ms", "sumRSS MiB", "sumPSS MiB", "USS MiB",
        "model MiB", "err", "RSS err", "CPUs", "wait");
    for (const auto& p : s.points)
      out += fmt::format(
          "{:>3} {:>9} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9} {:>10} {:>7} {:>8} {:>6} "
          "{:>5}\n",
          p.workers, num(p.throughput_fps, 2), num(p.latency_p50_s, 3), num(p.latency_p95_s, 3),
          num(p.latency_p99_s, 3), num(p.ready_p50_ms, 1), mib(p.sum_rss_kib), mib(p.sum_pss_kib),
          mib(p.uss_per_worker_kib), mib(p.predicted_kib), pct(p.prediction_error_pct),
          pct(p.rss_sum_error_pct), num(p.cpus_wanted, 2) + (p.oversubscribed ? "!" : ""),
          p.cpu_wait_share ? fmt::format("{:.0f}%", *p.cpu_wait_share * 100) : "-");
    if (s.model)
      out += fmt::format(
          "memory model: total(N) = {:.1f} MiB shared + N x {:.1f} MiB private "
          "(total at N={}, USS at N={}); max error {}\n",
          s.model->shared_kib / 1024.0, s.model->private_kib / 1024.0, s.model->total_from_n,
          s.model->private_from_n,
          s.max_abs_error_pct ? fmt::format("{:.1f} %", *s.max_abs_error_pct) : "-");
    const std::string mem_fit =
        sp.memory_fit == INT_MAX ? "unbounded" : std::to_string(sp.memory_fit);
    out += fmt::format("memory fit: {} workers (usable {:.1f} MiB)\n", mem_fit,
                       sp.usable_kib / 1024.0);
    if (sp.knee_known)
      out +=
          fmt::format("throughput knee: N={}{}\n", sp.knee, sp.knee_found ? "" : " (not reached)");
    else
      out += "throughput knee: unknown (no throughput)\n";
    if (sp.latency_fit) out += fmt::format("latency fit: {} workers\n", *sp.latency_fit);
    if (sp.cpu_fit)
      out += fmt::format("cpu fit: {} workers ({:.2f} CPUs per worker{}, {} cores)\n", *sp.cpu_fit,
                         *sp.cpus_per_worker,
                         sp.threads_assumed
                             ? fmt::format(" at {} threads per worker", *sp.threads_assumed)
                             : std::string(),
                         s.cores.value_or(0));
    out += fmt::format("recommended: {} workers, limited by {}", sp.recommended, sp.limiting);
    if (sp.predicted_kib_at_recommended)
      out += fmt::format(" (~{:.1f} MiB", *sp.predicted_kib_at_recommended / 1024.0) +
             (sp.throughput_at_recommended
                  ? fmt::format(", {:.2f} frames/s)", *sp.throughput_at_recommended)
                  : std::string(")"));
    out += "\n";
    for (const auto& n : s.notes) out += "note: " + n + "\n";
    for (const auto& n : sp.notes) out += "note: " + n + "\n";
  }
  return out;
}

json plan_to_json(const Plan& plan) {
  json series = json::array();
  for (const SeriesPlan& sp : plan.series) {
    json j = series_to_json(sp.series);
    j["usable_kib"] = sp.usable_kib;
    j["memory_fit"] = sp.memory_fit == INT_MAX ? json(nullptr) : json(sp.memory_fit);
    j["knee"] = sp.knee_known ? json(sp.knee) : json(nullptr);
    j["knee_found"] = sp.knee_found;
    j["latency_fit"] = sp.latency_fit ? json(*sp.latency_fit) : json(nullptr);
    j["cpu_fit"] = sp.cpu_fit ? json(*sp.cpu_fit) : json(nullptr);
    j["cpus_per_worker"] = opt(sp.cpus_per_worker);
    j["threads_assumed"] = sp.threads_assumed ? json(*sp.threads_assumed) : json(nullptr);
    j["recommended"] = sp.recommended;
    j["limiting"] = sp.limiting;
    j["predicted_kib_at_recommended"] = opt(sp.predicted_kib_at_recommended);
    j["throughput_at_recommended"] = opt(sp.throughput_at_recommended);
    for (const auto& n : sp.notes) j["notes"].push_back(n);
    series.push_back(std::move(j));
  }
  const auto& o = plan.options;
  return {{"memory_budget_kib", o.memory_budget_kib},
          {"margin", o.margin},
          {"knee_gain", o.knee_gain},
          {"latency_p95_max_s", opt(o.latency_p95_max_s)},
          {"series", series}};
}

}  // namespace harness
