#include "harness/report/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace harness {
namespace {

std::optional<double> number_field(const nlohmann::json& body, const char* key) {
  if (!body.is_object()) return std::nullopt;
  const auto it = body.find(key);
  if (it == body.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

template <typename T>
std::optional<double> mean(const std::vector<T>& values) {
  if (values.empty()) return std::nullopt;
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  return sum / static_cast<double>(values.size());
}

}  // namespace

double percentile_nearest_rank(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto n = static_cast<double>(values.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

Percentiles percentiles(const std::vector<double>& values) {
  return Percentiles{percentile_nearest_rank(values, 50), percentile_nearest_rank(values, 95),
                     percentile_nearest_rank(values, 99),
                     *std::max_element(values.begin(), values.end())};
}

const Event* last_event(const ProcessResult& instance, std::string_view type) {
  for (auto it = instance.events.rbegin(); it != instance.events.rend(); ++it) {
    if (it->type == type) return &*it;
  }
  return nullptr;
}

std::optional<std::int64_t> memory_added_kib(const MemoryStats& memory) {
  if (memory.baseline_rss_kib < 0 || memory.ready_rss_kib < 0) return std::nullopt;
  return memory.ready_rss_kib - memory.baseline_rss_kib;
}

RunMetrics compute_metrics(const ScenarioRun& run) {
  RunMetrics m;
  m.instances = static_cast<int>(run.instances.size());
  m.wall_s = run.wall_s;

  std::vector<double> walls, readies, fps_known, uss, added;
  std::optional<std::int64_t> frames, rss_sum, pss_sum;
  for (const ProcessResult& p : run.instances) {
    if (p.exit_code && *p.exit_code == 0) {
      ++m.succeeded;
    } else {
      ++m.failed;
    }
    if (p.timed_out) ++m.timed_out;
    m.max_leftover = std::max(m.max_leftover, p.leftover_processes);
    if (p.spawn_error.empty()) walls.push_back(p.wall_s);
    if (p.ready_ms) readies.push_back(*p.ready_ms);

    std::optional<double> fps;
    if (const Event* result = last_event(p, "result")) {
      if (auto f = number_field(result->body, "frames_processed")) {
        frames = frames.value_or(0) + static_cast<std::int64_t>(std::llround(*f));
      }
      fps = number_field(result->body, "fps");
    }
    m.instance_fps.push_back(fps);
    if (fps) fps_known.push_back(*fps);

    const MemoryStats& mem = p.memory;
    if (mem.peak_rss_kib >= 0) rss_sum = rss_sum.value_or(0) + mem.peak_rss_kib;
    if (mem.peak_pss_kib >= 0) pss_sum = pss_sum.value_or(0) + mem.peak_pss_kib;
    if (mem.peak_uss_kib >= 0) uss.push_back(static_cast<double>(mem.peak_uss_kib));
    if (auto a = memory_added_kib(mem)) added.push_back(static_cast<double>(*a));
  }

  m.frames_total = frames;
  if (frames && run.wall_s > 0) m.throughput_fps = static_cast<double>(*frames) / run.wall_s;
  m.mean_instance_fps = mean(fps_known);
  if (!walls.empty()) m.latency_s = percentiles(walls);
  if (!readies.empty()) {
    m.ready_ms_p50 = percentile_nearest_rank(readies, 50);
    m.ready_ms_max = *std::max_element(readies.begin(), readies.end());
  }
  m.sum_peak_rss_kib = rss_sum;
  m.sum_peak_pss_kib = pss_sum;
  m.mean_peak_uss_kib = mean(uss);
  if (!uss.empty()) {
    m.max_peak_uss_kib = static_cast<std::int64_t>(*std::max_element(uss.begin(), uss.end()));
  }
  m.mean_memory_added_kib = mean(added);
  return m;
}

}  // namespace harness
