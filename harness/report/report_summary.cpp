#include "harness/report/report_summary.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "harness/report/report_format.hpp"

namespace harness {
namespace {

bool mentions_memory(const nlohmann::json& expect) {
  if (!expect.is_object()) return false;
  for (const auto& [key, value] : expect.items()) {
    for (const char* word : {"rss", "pss", "uss", "memory"}) {
      if (key.find(word) != std::string::npos) return true;
    }
  }
  return false;
}

bool instance_failed(const ProcessResult& p) {
  return !p.spawn_error.empty() || p.signal || (p.exit_code && *p.exit_code != 0) ||
         last_event(p, "error") != nullptr;
}

std::string json_text(const nlohmann::json& body, const char* key) {
  if (!body.is_object() || !body.contains(key)) return "";
  const auto& v = body[key];
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  const auto nl = t.rfind('\n');
  std::string line = nl == std::string::npos ? t : t.substr(nl + 1);
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  return line;
}

std::string how_it_ended(const ProcessResult& p) {
  if (!p.spawn_error.empty()) return "could not start: " + p.spawn_error;
  if (p.signal) return "killed by " + signal_name(*p.signal);
  if (p.exit_code) return fmt::format("exit {}", *p.exit_code);
  return "no exit status";
}

std::string describe_error(const ProcessResult& p, int failing, int total) {
  std::string out = how_it_ended(p);
  if (const Event* e = last_event(p, "error")) {
    const std::string type = json_text(e->body, "type");
    const std::string message = json_text(e->body, "message");
    out += ", error";
    if (!type.empty()) out += " " + type;
    if (!message.empty()) out += ": \"" + message + "\"";
  } else if (p.spawn_error.empty()) {
    const std::string line = last_line(p.err.tail);
    if (!line.empty()) out += ", stderr: \"" + line + "\"";
  }
  if (total > 1) out += fmt::format(" ({} of {} instances)", failing, total);
  return out;
}

std::string describe_timeout(const ScenarioRun& run) {
  const ProcessResult* worst = nullptr;
  int count = 0, leftover = 0;
  for (const ProcessResult& p : run.instances) {
    if (!p.timed_out) continue;
    ++count;
    leftover += p.leftover_processes;
    if (!worst || p.wall_s > worst->wall_s) worst = &p;
  }
  std::string signal = worst->kill_signal;
  if (signal.empty() && worst->signal) signal = signal_name(*worst->signal);
  std::string out = fmt::format("timed out after {}", display_seconds(worst->wall_s));
  if (!signal.empty()) out += ", killed with " + signal;
  if (worst->kill_latency_ms) out += " in " + format_ms(worst->kill_latency_ms);
  out += leftover == 0 ? ", 0 left running"
                       : fmt::format(", {} descendant(s) outlived the worker (killed)", leftover);
  if (run.instances.size() > 1) {
    out += fmt::format(" ({} of {} instances)", count, run.instances.size());
  }
  return out;
}

std::string describe_concurrency(const ScenarioRun& run, const RunMetrics& m) {
  std::string out =
      fmt::format("{} concurrent, {} total", m.instances, display_seconds(run.wall_s));
  std::string fps;
  for (const auto& f : m.instance_fps) {
    if (!fps.empty()) fps += " / ";
    fps += f ? format_number(*f, 1) : "?";
  }
  if (m.mean_instance_fps) out += ", " + fps + " fps per worker";
  if (m.throughput_fps) out += ", " + format_number(*m.throughput_fps, 1) + " fps throughput";
  if (m.latency_s) out += ", p95 wall " + display_seconds(m.latency_s->p95);
  return out;
}

std::string describe_memory(const ScenarioRun& run, const RunReport& report) {
  const MemoryStats& mem = run.instances.front().memory;
  std::string out;
  if (auto added = memory_added_kib(mem)) {
    out = "model added " + display_kib(*added) + " RSS (";
  } else {
    out = "memory (";
  }
  out += fmt::format("baseline {} -> ready {} -> peak {}", display_kib(mem.baseline_rss_kib),
                     display_kib(mem.ready_rss_kib), display_kib(mem.peak_rss_kib));
  if (mem.peak_pss_kib >= 0 || mem.peak_uss_kib >= 0) {
    out += fmt::format("; peak PSS {}, USS {}", display_kib(mem.peak_pss_kib),
                       display_kib(mem.peak_uss_kib));
  }
  out += ")";
  if (report.harness_rss_before_kib >= 0 || report.harness_rss_after_kib >= 0) {
    out += fmt::format("; harness RSS {} -> {}", display_kib(report.harness_rss_before_kib),
                       display_kib(report.harness_rss_after_kib));
  }
  return out;
}

std::string describe_success(const ScenarioRun& run) {
  const ProcessResult& p = run.instances.front();
  std::string out = how_it_ended(p) + " in " + display_seconds(p.wall_s);
  const Event* r = last_event(p, "result");
  if (!r) return out + ", no result event";
  std::vector<std::string> parts;
  if (auto s = json_text(r->body, "status"); !s.empty()) parts.push_back("status " + s);
  if (auto f = json_text(r->body, "frames_processed"); !f.empty()) parts.push_back(f + " frames");
  if (auto d = json_text(r->body, "detections"); !d.empty()) parts.push_back(d + " detections");
  if (r->body.is_object() && r->body.contains("fps") && r->body["fps"].is_number()) {
    parts.push_back(format_number(r->body["fps"].get<double>(), 1) + " fps");
  }
  out += ", result parsed";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

std::string describe_series(const std::vector<SeriesPoint>& series, const std::string& varied) {
  std::string out = fmt::format("series over {}: ", varied);
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i > 0) out += ", ";
    out += series[i].x ? format_number(*series[i].x, 0) : series[i].label;
  }
  const auto& first = series.front().metrics;
  const auto& last = series.back().metrics;
  if (first.throughput_fps && last.throughput_fps) {
    out += fmt::format("; throughput {} -> {} fps", format_number(*first.throughput_fps, 1),
                       format_number(*last.throughput_fps, 1));
  }
  if (first.latency_s && last.latency_s) {
    out += fmt::format(", p95 wall {} -> {}", display_seconds(first.latency_s->p95),
                       display_seconds(last.latency_s->p95));
  }
  return out;
}

}  // namespace

std::string status_label(const std::string& status) {
  if (status == "pass") return "PASS";
  if (status == "fail") return "FAIL";
  return "ERROR";
}

const ScenarioRun* representative_run(const ScenarioResult& s) {
  for (const ScenarioRun& r : s.runs) {
    if (!r.warmup) return &r;
  }
  return s.runs.empty() ? nullptr : &s.runs.front();
}

std::vector<SeriesPoint> matrix_series(const ScenarioResult& s, std::string* varied) {
  std::vector<SeriesPoint> out;
  if (s.matrix.is_null() || (s.matrix.is_object() && s.matrix.empty())) return out;
  std::vector<std::string> keys;
  if (s.matrix.is_object()) {
    for (const auto& [key, value] : s.matrix.items()) keys.push_back(key);
  }
  for (const ScenarioRun& run : s.runs) {
    if (run.warmup) continue;
    SeriesPoint p;
    p.label = format_params(run.params);
    p.repeat = run.repeat;
    p.run = &run;
    p.metrics = compute_metrics(run);
    if (keys.size() == 1 && run.params.is_object() && run.params.contains(keys[0]) &&
        run.params[keys[0]].is_number()) {
      p.x = run.params[keys[0]].get<double>();
    }
    out.push_back(std::move(p));
  }
  if (varied) *varied = keys.size() == 1 ? keys[0] : "params";
  return out;
}

namespace {

// The key result of the run that speaks for a scenario without a matrix series.
std::string describe_run(const ScenarioResult& s, const RunReport& report) {
  const ScenarioRun* run = representative_run(s);
  if (!run || run->instances.empty()) return "no instance ran";
  const RunMetrics m = compute_metrics(*run);
  if (m.timed_out > 0) return describe_timeout(*run);
  int failing = 0;
  const ProcessResult* first_failing = nullptr;
  for (const ProcessResult& p : run->instances) {
    if (!instance_failed(p)) continue;
    ++failing;
    if (!first_failing) first_failing = &p;
  }
  if (first_failing) return describe_error(*first_failing, failing, m.instances);
  if (m.instances > 1) return describe_concurrency(*run, m);
  if (mentions_memory(s.expect)) return describe_memory(*run, report);
  return describe_success(*run);
}

// A repeated scenario is described by its first judged run; say so and give the wall time of all
// of them, or `repeat: 20` would read as one run next to a scenario doing the same work in one
// process.
std::string with_repeats(const std::string& described, const ScenarioResult& s) {
  int judged = 0;
  double wall_s = 0;
  for (const ScenarioRun& r : s.runs) {
    if (r.warmup) continue;
    ++judged;
    wall_s += r.wall_s;
  }
  if (judged < 2) return described;
  return described +
         fmt::format(" (run 1 of {}; all {} runs: {})", judged, judged, display_seconds(wall_s));
}

}  // namespace

namespace {

// "pool: 100/100 jobs ok, p50 120 ms, p99 480 ms, 2.0/s; spawn: ..." for a job stream.
std::string describe_jobs(const ScenarioResult& s) {
  std::string out;
  for (const ScenarioRun& run : s.runs) {
    if (!run.jobs || run.warmup) continue;
    const JobsResult& j = *run.jobs;
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {}/{} jobs ok", j.mode, j.succeeded, j.scheduled);
    if (j.latency.n)
      out += ", p50 " + display_seconds(j.latency.p50 / 1000.0) + ", p99 " +
             display_seconds(j.latency.p99 / 1000.0);
    out += fmt::format(", {:.2f}/s", j.throughput_per_s);
    if (!j.valid) out += " (INVALID)";
    if (out.size() > 400) return out + "; ... (report.md has every run)";
  }
  return out;
}

}  // namespace

std::string key_result(const ScenarioResult& s, const RunReport& report) {
  if (s.status == "error") return "could not run: " + (s.error.empty() ? "unknown error" : s.error);
  if (std::any_of(s.runs.begin(), s.runs.end(),
                  [](const ScenarioRun& r) { return r.jobs.has_value(); }))
    return describe_jobs(s);
  std::string varied;
  const auto series = matrix_series(s, &varied);
  if (series.size() > 1) return describe_series(series, varied);
  return with_repeats(describe_run(s, report), s);
}

CpuTotals cpu_totals(const ScenarioResult& s) {
  CpuTotals t;
  for (const ScenarioRun& run : s.runs) {
    if (run.warmup) continue;
    for (const ProcessResult& p : run.instances) {
      if (p.cpu.user_s < 0) continue;
      ++t.instances;
      t.cpu_s += p.cpu.user_s + p.cpu.system_s;
      t.utilisation_pct = std::max(t.utilisation_pct, p.cpu.utilisation_pct);
      t.peak_utilisation_pct = std::max(t.peak_utilisation_pct, p.cpu.peak_utilisation_pct);
      t.threads_max = std::max(t.threads_max, p.cpu.threads_max);
      t.processes_max = std::max(t.processes_max, p.cpu.processes_max);
    }
  }
  return t;
}

std::string cpu_summary(const ScenarioResult& s) {
  const CpuTotals t = cpu_totals(s);
  const std::size_t n = t.instances;
  if (n == 0) return "-";
  std::string out = n == 1 ? display_seconds(t.cpu_s)
                           : fmt::format("{} x {} mean", n, display_seconds(t.cpu_s / n));
  out += fmt::format(", {}{:.0f} % of a core", n == 1 ? "" : "up to ", t.utilisation_pct);
  if (t.peak_utilisation_pct >= 0) out += fmt::format(" (peak {:.0f} %)", t.peak_utilisation_pct);
  out += fmt::format(", {} thread{}", t.threads_max, t.threads_max == 1 ? "" : "s");
  if (t.processes_max > 1) out += fmt::format(" in {} processes", t.processes_max);
  return out;
}

}  // namespace harness
