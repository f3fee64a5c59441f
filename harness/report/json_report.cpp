#include "harness/report/json_report.hpp"

#include <algorithm>
#include <cmath>

#include "harness/analysis/capacity.hpp"
#include "harness/core/escape.hpp"
#include "harness/report/jobs_report.hpp"
#include "harness/report/json_stream.hpp"
#include "harness/report/reporter.hpp"

namespace harness {
namespace {

using nlohmann::json;

json kib(std::int64_t v) {
  return v < 0 ? json(nullptr) : json(v);
}

json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

template <typename T>
json optional(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_floating_point_v<T>) return number(*v);
  return *v;
}

// Rounded so a sample timeline does not carry 17 significant digits per point.
double round_to(double v, double step) {
  return std::round(v / step) * step;
}

json text(std::string_view s) {
  return sanitize_utf8(s);
}

json strings(const std::vector<std::string>& v) {
  json out = json::array();
  for (const auto& s : v) out.push_back(text(s));
  return out;
}

// Parsed events should already be valid UTF-8, but the report must not depend on that: rebuild
// every string and key through the sanitiser.
json sanitized(const json& v) {
  if (v.is_string()) return sanitize_utf8(v.get_ref<const std::string&>());
  if (v.is_array()) {
    json out = json::array();
    for (const auto& e : v) out.push_back(sanitized(e));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : v.items()) out[sanitize_utf8(key)] = sanitized(value);
    return out;
  }
  if (v.is_number_float() && !std::isfinite(v.get<double>())) return nullptr;
  return v;
}

json stream(const StreamCapture& s) {
  return {
      {"bytes", s.bytes}, {"lines", s.lines}, {"truncated", s.truncated}, {"tail", text(s.tail)}};
}

json memory(const MemoryStats& m) {
  json samples = json::array();
  for (std::size_t i : downsample_indices(m.samples, kMaxSamplesPerInstance)) {
    const MemorySample& s = m.samples[i];
    samples.push_back({round_to(s.t_ms, 0.01), s.rss_kib, kib(s.pss_kib), kib(s.uss_kib),
                       s.cpu_ms < 0 ? json(nullptr) : json(round_to(s.cpu_ms, 0.01)), s.threads});
  }
  json added = nullptr;
  if (auto a = memory_added_kib(m)) added = *a;
  return {{"baseline_rss_kib", kib(m.baseline_rss_kib)},
          {"ready_rss_kib", kib(m.ready_rss_kib)},
          {"ready_pss_kib", kib(m.ready_pss_kib)},
          {"ready_uss_kib", kib(m.ready_uss_kib)},
          {"added_kib", added},
          {"peak_rss_kib", kib(m.peak_rss_kib)},
          {"peak_pss_kib", kib(m.peak_pss_kib)},
          {"peak_uss_kib", kib(m.peak_uss_kib)},
          {"hwm_kib", kib(m.hwm_kib)},
          {"maxrss_kib", kib(m.maxrss_kib)},
          {"final_pss_kib", kib(m.final_pss_kib)},
          {"final_uss_kib", kib(m.final_uss_kib)},
          {"samples_total", m.samples.size()},
          {"samples", std::move(samples)}};
}

json snapshot(const std::optional<ProcessSnapshot>& snap) {
  if (!snap) return nullptr;
  json rows = json::array();
  for (const ProcessRow& r : snap->rows)
    rows.push_back({{"pid", r.pid},
                    {"ppid", r.ppid},
                    {"name", text(r.name)},
                    {"argv0", text(r.argv0)},
                    {"rss_kib", kib(r.rss_kib)},
                    {"pss_kib", kib(r.pss_kib)},
                    {"uss_kib", kib(r.uss_kib)},
                    {"cpu_ms", round_to(r.cpu_ms, 0.01)},
                    {"cpu_pct", r.cpu_pct < 0 ? json(nullptr) : json(round_to(r.cpu_pct, 0.1))},
                    {"threads", r.threads}});
  return {{"t_ms", round_to(snap->t_ms, 0.01)}, {"processes", std::move(rows)}};
}

json cpu(const CpuStats& c) {
  auto pct = [](double v) { return v < 0 ? json(nullptr) : json(round_to(v, 0.1)); };
  auto sec = [](double v) { return v < 0 ? json(nullptr) : json(round_to(v, 1e-6)); };
  auto schedstat = [&]() -> json {
    if (c.runnable_avg < 0) return nullptr;
    return {{"run_s", sec(c.run_s)},
            {"wait_s", sec(c.wait_s)},
            {"span_s", sec(c.span_s)},
            {"runnable_avg", round_to(c.runnable_avg, 0.001)}};
  };
  return {{"user_s", sec(c.user_s)},
          {"system_s", sec(c.system_s)},
          {"cpu_s", c.user_s < 0 ? json(nullptr) : json(round_to(c.user_s + c.system_s, 1e-6))},
          {"utilisation_pct", pct(c.utilisation_pct)},
          {"peak_utilisation_pct", pct(c.peak_utilisation_pct)},
          {"window_ms", kCpuWindowMs},
          {"threads_max", c.threads_max},
          {"processes_max", c.processes_max},
          {"schedstat", schedstat()},
          {"at_peak", snapshot(c.at_peak)},
          {"last", snapshot(c.last)}};
}

json instance(const ProcessResult& p, std::size_t run_index, const ScenarioRun& run) {
  json events = json::array();
  std::size_t progress = 0, kept = 0;
  for (const Event& e : p.events) {
    if (e.type == "progress") {
      ++progress;
      continue;
    }
    if (kept++ < kMaxEventsPerInstance) {
      events.push_back({{"t_ms", round_to(e.t_ms, 0.01)}, {"body", sanitized(e.body)}});
    }
  }
  // Exact counts of every event printed (the kept ones are bounded); a result built by hand,
  // without counts, counts what it holds.
  std::uint64_t events_total = 0, progress_total = 0;
  for (const auto& [type, n] : p.event_counts) {
    events_total += n;
    if (type == "progress") progress_total = n;
  }
  if (p.event_counts.empty()) {
    events_total = p.events.size();
    progress_total = progress;
  }
  const Event* result = last_event(p, "result");
  const Event* error = last_event(p, "error");
  json status = nullptr;
  if (result && result->body.is_object() && result->body.contains("status") &&
      result->body["status"].is_string()) {
    status = text(result->body["status"].get<std::string>());
  }
  return {
      {"index", p.index},
      {"run", run_index},
      {"params", sanitized(run.params)},
      {"pid", p.pid < 0 ? json(nullptr) : json(p.pid)},
      {"argv", strings(p.argv)},
      {"out_dir", text(p.out_dir)},
      {"spawn_offset_ms", number(p.spawn_offset_ms)},
      {"ready_ms", optional(p.ready_ms)},
      {"wall_s", number(p.wall_s)},
      {"exit_code", optional(p.exit_code)},
      {"signal", p.signal ? json(signal_name(*p.signal)) : json(nullptr)},
      {"timed_out", p.timed_out},
      {"cancelled", p.cancelled},
      {"kill_latency_ms", optional(p.kill_latency_ms)},
      {"kill_signal", p.kill_signal.empty() ? json(nullptr) : text(p.kill_signal)},
      {"leftover_processes", p.leftover_processes},
      {"spawn_error", p.spawn_error.empty() ? json(nullptr) : text(p.spawn_error)},
      {"status", status},
      {"result", result ? sanitized(result->body) : json(nullptr)},
      {"error", error ? sanitized(error->body) : json(nullptr)},
      {"events", std::move(events)},
      {"events_total", events_total - progress_total},
      {"progress_events", progress_total},
      {"events_dropped", p.events_dropped},
      {"protocol_violations", strings(p.protocol_violations)},
      {"stdout", stream(p.out)},
      {"stderr", stream(p.err)},
      {"log", p.log_file.empty() ? json(nullptr) : text(p.log_file)},
      {"memory", memory(p.memory)},
      {"cpu", cpu(p.cpu)},
  };
}

// Never throws: a sweep whose runs lack what the model needs gets an error string instead.
json capacity_of(const json& scenario) {
  try {
    return scenario_capacity(scenario);
  } catch (const std::exception& e) {
    return {{"error", text(e.what())}};
  }
}

json run_json(const ScenarioRun& run) {
  json out{{"params", sanitized(run.params)},
           {"repeat", run.repeat},
           {"warmup", run.warmup},
           {"wall_s", number(run.wall_s)},
           {"failures", strings(run.failures)},
           {"metrics", to_json(compute_metrics(run))}};
  if (run.jobs) out["jobs"] = jobs_json(*run.jobs);
  out["cpu_demand"] = nullptr;
  if (const auto& d = run.cpu_demand) {
    out["cpu_demand"] = {{"cores", d->cores},
                         {"workers", d->workers},
                         {"wanted_cpus", round_to(d->wanted_cpus, 0.01)},
                         {"wait_share", round_to(d->wait_share, 0.001)},
                         {"threads_per_worker", d->threads_per_worker},
                         {"oversubscribed", d->oversubscribed},
                         {"message", text(d->message)}};
  }
  return out;
}

// A scenario without its `runs` and `instances`, which grow with the run count.
json scenario_head(const ScenarioResult& s) {
  return {{"name", text(s.name)},
          {"file", text(s.file)},
          {"description", text(s.description)},
          {"labels", strings(s.labels)},
          {"status", text(s.status)},
          {"error", s.error.empty() ? json(nullptr) : text(s.error)},
          {"failures", strings(s.failures)},
          {"start_s", number(s.start_s)},
          {"duration_s", number(s.duration_s)},
          {"matrix", sanitized(s.matrix)},
          {"expect", sanitized(s.expect)},
          {"peaks", peaks_json(s.peaks)}};
}

json scenario(const ScenarioResult& s) {
  json runs = json::array();
  json instances = json::array();
  for (std::size_t r = 0; r < s.runs.size(); ++r) {
    const ScenarioRun& run = s.runs[r];
    runs.push_back(run_json(run));
    for (const ProcessResult& p : run.instances) instances.push_back(instance(p, r, run));
  }
  json out = scenario_head(s);
  out["runs"] = std::move(runs);
  out["instances"] = std::move(instances);
  // The memory model and knee of a concurrency sweep, beside the runs it is computed from.
  if (json c = capacity_of(out); !c.is_null()) out["capacity"] = std::move(c);
  return out;
}

// One scenario as scenario(s) dumps it, holding one run or instance at a time. A concurrency
// sweep is built whole: its capacity is computed from the whole scenario.
void write_scenario(JsonStream& js, const ScenarioResult& s) {
  json head = scenario_head(s);
  if (is_concurrency_sweep(head["matrix"])) {
    js.value(scenario(s));
    return;
  }
  auto runs = [&](JsonStream& j) {
    j.begin_array();
    for (const ScenarioRun& run : s.runs) {
      j.element();
      j.value(run_json(run));
    }
    j.end_array();
  };
  auto instances = [&](JsonStream& j) {
    j.begin_array();
    for (std::size_t r = 0; r < s.runs.size(); ++r) {
      for (const ProcessResult& p : s.runs[r].instances) {
        j.element();
        j.value(instance(p, r, s.runs[r]));
      }
    }
    j.end_array();
  };
  js.write_object(head, {{"runs", runs}, {"instances", instances}});
}

json report_head(const RunReport& report) {
  const auto [passed, failed, errors] = count_statuses(report);
  return {{"schema", kReportSchema},
          {"harness",
           {{"version", text(report.harness_version)}, {"command", strings(report.command)}}},
          {"host",
           {{"hostname", text(report.host.hostname)},
            {"kernel", text(report.host.kernel)},
            {"cpu_model", text(report.host.cpu_model)},
            {"cpus", report.host.cpus},
            {"mem_total_kib", report.host.mem_total_kib}}},
          {"started_at", text(report.started_at)},
          {"finished_at", report.finished_at.empty() ? json(nullptr) : text(report.finished_at)},
          {"duration_s", number(report.duration_s)},
          {"interrupted", report.interrupted},
          {"complete", report.complete},
          {"jobs", report.jobs},
          {"harness_rss_kib",
           {{"before", kib(report.harness_rss_before_kib)},
            {"after", kib(report.harness_rss_after_kib)},
            {"peak", kib(report.harness_rss_peak_kib)}}},
          {"summary",
           {{"scenarios", report.scenarios.size()},
            {"passed", passed},
            {"failed", failed},
            {"errors", errors}}}};
}

class JsonReporter final : public Reporter {
 public:
  std::string filename() const override { return "report.json"; }
  void write(const RunReport& report, std::ostream& out) const override {
    write_json_report(report, out);
  }
};

}  // namespace

json to_json(const ScenarioResult& s) {
  return scenario(s);
}

json capacity_json(const ScenarioResult& s) {
  if (!is_concurrency_sweep(s.matrix)) return nullptr;
  return scenario(s).value("capacity", json());
}

std::vector<std::size_t> downsample_indices(const std::vector<MemorySample>& samples,
                                            std::size_t max_points) {
  const std::size_t n = samples.size();
  std::vector<std::size_t> keep;
  if (n <= max_points) {
    keep.resize(n);
    for (std::size_t i = 0; i < n; ++i) keep[i] = i;
    return keep;
  }
  auto argmax = [&](auto field) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i) {
      if (field(samples[i]) > field(samples[best])) best = i;
    }
    return best;
  };
  const std::size_t extras[] = {0, n - 1, argmax([](const MemorySample& s) { return s.rss_kib; }),
                                argmax([](const MemorySample& s) { return s.pss_kib; }),
                                argmax([](const MemorySample& s) { return s.uss_kib; })};
  // Leave room for the five extras, so the total stays within max_points.
  const std::size_t budget = max_points - std::size(extras);
  const std::size_t stride = (n + budget - 1) / budget;
  for (std::size_t i = 0; i < n; i += stride) keep.push_back(i);
  keep.insert(keep.end(), std::begin(extras), std::end(extras));
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  return keep;
}

json to_json(const RunMetrics& m) {
  json fps = json::array();
  for (const auto& f : m.instance_fps) fps.push_back(optional(f));
  json latency = nullptr;
  if (m.latency_s) {
    latency = {{"p50", number(m.latency_s->p50)},
               {"p95", number(m.latency_s->p95)},
               {"p99", number(m.latency_s->p99)},
               {"max", number(m.latency_s->max)}};
  }
  return {{"instances", m.instances},
          {"succeeded", m.succeeded},
          {"failed", m.failed},
          {"timed_out", m.timed_out},
          {"wall_s", number(m.wall_s)},
          {"frames_total", optional(m.frames_total)},
          {"throughput_fps", optional(m.throughput_fps)},
          {"instance_fps", std::move(fps)},
          {"mean_instance_fps", optional(m.mean_instance_fps)},
          {"latency_s", std::move(latency)},
          {"ready_ms", {{"p50", optional(m.ready_ms_p50)}, {"max", optional(m.ready_ms_max)}}},
          {"memory",
           {{"sum_peak_rss_kib", optional(m.sum_peak_rss_kib)},
            {"sum_peak_pss_kib", optional(m.sum_peak_pss_kib)},
            {"mean_peak_uss_kib", optional(m.mean_peak_uss_kib)},
            {"max_peak_uss_kib", optional(m.max_peak_uss_kib)},
            {"mean_added_kib", optional(m.mean_memory_added_kib)}}},
          {"max_leftover", m.max_leftover}};
}

json to_json(const RunReport& report) {
  json out = report_head(report);
  json scenarios = json::array();
  for (const ScenarioResult& s : report.scenarios) scenarios.push_back(to_json(s));
  out["scenarios"] = std::move(scenarios);
  return out;
}

void write_json_report(const RunReport& report, std::ostream& out) {
  JsonStream js(out);
  auto scenarios = [&](JsonStream& j) {
    j.begin_array();
    for (const ScenarioResult& s : report.scenarios) {
      j.element();
      write_scenario(j, s);
    }
    j.end_array();
  };
  js.write_object(report_head(report), {{"scenarios", scenarios}});
  out << '\n';
}

std::unique_ptr<Reporter> make_json_reporter() {
  return std::make_unique<JsonReporter>();
}

}  // namespace harness
