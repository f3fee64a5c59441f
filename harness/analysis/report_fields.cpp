#include "harness/analysis/report_fields.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace harness {
namespace {

using nlohmann::json;

std::optional<double> number_at(const json& obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

const json& object_at(const json& obj, std::string_view key) {
  static const json empty = json::object();
  if (!obj.is_object()) return empty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : empty;
}

// The run an instance belongs to; -1 (none) when its "run" is not an integer.
int run_of(const json& inst) {
  const auto it = inst.find("run");
  if (it == inst.end() || !it->is_number_integer() || *it < INT_MIN || *it > INT_MAX) return -1;
  return it->get<int>();
}

// Sum (or mean) of one memory field over the instances of run `run_index`; unknown unless every
// instance of that run reports it.
std::optional<double> from_instances(const json& instances, int run_index, std::string_view field,
                                     bool mean) {
  if (!instances.is_array()) return std::nullopt;
  double sum = 0;
  int count = 0;
  for (const json& inst : instances) {
    if (!inst.is_object() || run_of(inst) != run_index) continue;
    auto v = number_at(object_at(inst, "memory"), field);
    if (!v) return std::nullopt;
    sum += *v;
    ++count;
  }
  if (count == 0) return std::nullopt;
  return mean ? sum / count : sum;
}

// The time of the last `result` event of an instance, ms from its spawn.
std::optional<double> last_result_ms(const json& inst) {
  std::optional<double> last;
  const auto events = inst.find("events");
  if (events == inst.end() || !events->is_array()) return last;
  for (const json& e : *events) {
    if (!e.is_object()) continue;
    const auto body = e.find("body");
    const auto t = e.find("t_ms");
    if (body == e.end() || !body->is_object() || t == e.end() || !t->is_number()) continue;
    const auto kind = body->find("event");
    if (kind != body->end() && *kind == "result")
      last = std::max(last.value_or(0.0), t->get<double>());
  }
  return last;
}

std::optional<double> work_p50_ms(const json& instances, int run_index) {
  if (!instances.is_array()) return std::nullopt;
  std::vector<double> works;
  for (const json& inst : instances) {
    if (!inst.is_object() || run_of(inst) != run_index) continue;
    const auto ready = number_at(inst, "ready_ms");
    const auto result = last_result_ms(inst);
    if (ready && result && *result >= *ready && std::isfinite(*result - *ready))
      works.push_back(*result - *ready);
  }
  if (works.empty()) return std::nullopt;
  std::sort(works.begin(), works.end());
  return works[(works.size() + 1) / 2 - 1];  // nearest rank, as the report's ready_ms p50
}

int count_instances(const json& instances, int run_index) {
  int count = 0;
  if (!instances.is_array()) return 0;
  for (const json& inst : instances)
    if (inst.is_object() && run_of(inst) == run_index) ++count;
  return count;
}

// Peak concurrent PSS and mean per-worker peak USS of run `run_index`, from samples taken while
// all its instances were alive; both unknown unless every instance has a PSS sample there.
struct Concurrent {
  std::optional<double> pss_kib, uss_per_worker_kib;
};
Concurrent concurrent_memory(const json& instances, int run_index) {
  struct Sample {
    double t, pss, uss;
  };
  std::vector<std::vector<Sample>> per;
  std::vector<std::pair<double, double>> spans;  // absolute [spawn, exit] in ms
  if (!instances.is_array()) return {};
  for (const json& inst : instances) {
    if (!inst.is_object() || run_of(inst) != run_index) continue;
    auto offset = number_at(inst, "spawn_offset_ms");
    auto wall = number_at(inst, "wall_s");
    const json& samples = object_at(inst, "memory").value("samples", json::array());
    if (!offset || !wall || !samples.is_array()) return {};
    // The window ends when the first worker is done: at its last `result` event when it sent
    // one, since it then frees its memory and unmaps the pages it shared while it exits (a
    // sibling sampled then reads them as its own: +53 MiB of USS measured at N=2), else at exit.
    // (A --serve worker sends a result per job: the last one counts.)
    const std::optional<double> last_result = last_result_ms(inst);
    const double exit = *offset + *wall * 1000.0;
    spans.emplace_back(*offset, last_result ? std::min(exit, *offset + *last_result) : exit);
    per.emplace_back();
    for (const json& s : samples) {
      if (!s.is_array() || s.size() < 4 || !s[0].is_number() || !s[2].is_number()) continue;
      per.back().push_back({*offset + s[0].get<double>(), s[2].get<double>(),
                            s[3].is_number() ? s[3].get<double>() : -1.0});
    }
  }
  if (per.empty()) return {};
  double from = spans[0].first, to = spans[0].second;
  for (const auto& [a, b] : spans) {
    from = std::max(from, a);
    to = std::min(to, b);
  }
  // Keep the window's samples; times are ascending within one instance.
  double uss_sum = 0;
  bool uss_known = true;
  std::vector<double> times;
  for (auto& v : per) {
    std::erase_if(v, [&](const Sample& s) { return s.t < from || s.t > to; });
    if (v.empty()) return {};
    double peak_uss = -1;
    for (const Sample& s : v) {
      peak_uss = std::max(peak_uss, s.uss);
      times.push_back(s.t);
    }
    uss_known = uss_known && peak_uss >= 0;
    uss_sum += peak_uss;
  }
  std::sort(times.begin(), times.end());
  double peak = -1;
  std::vector<std::size_t> next(per.size(), 0);
  for (double t : times) {
    double sum = 0;
    bool all = true;
    for (std::size_t i = 0; i < per.size(); ++i) {
      while (next[i] < per[i].size() && per[i][next[i]].t <= t) ++next[i];
      if (next[i] == 0) {
        all = false;  // no sample of this worker yet: the sum would leave it out
        break;
      }
      sum += per[i][next[i] - 1].pss;
    }
    if (all) peak = std::max(peak, sum);
  }
  Concurrent c;
  if (peak >= 0) c.pss_kib = peak;
  if (uss_known) c.uss_per_worker_kib = uss_sum / static_cast<double>(per.size());
  return c;
}

RunFields read_run(const json& run, int index, const json& instances, std::string_view where) {
  if (!run.is_object())
    throw std::runtime_error(std::string(where) + ": run " + std::to_string(index) +
                             " is not an object");
  RunFields r;
  if (auto it = run.find("params"); it != run.end() && it->is_object()) r.params = *it;
  const std::string here = std::string(where) + ": run " + std::to_string(index);
  r.repeat = field_or(run, "repeat", 0, here);
  r.warmup = field_or(run, "warmup", false, here);
  r.wall_s = number_at(run, "wall_s");

  const json& m = object_at(run, "metrics");
  if (auto n = number_at(r.params, "instances"))
    r.instances = static_cast<int>(*n);
  else if (auto n2 = number_at(m, "instances"))
    r.instances = static_cast<int>(*n2);
  else if (int c = count_instances(instances, index); c > 0)
    r.instances = c;

  r.throughput_fps = number_at(m, "throughput_fps");
  const json& lat = object_at(m, "latency_s");
  r.latency_p50_s = number_at(lat, "p50");
  r.latency_p95_s = number_at(lat, "p95");
  r.latency_p99_s = number_at(lat, "p99");
  r.ready_p50_ms = number_at(object_at(m, "ready_ms"), "p50");
  r.work_p50_ms = work_p50_ms(instances, index);
  // Memory sums sit in metrics or, in the report writer's current shape, in metrics.memory.
  const json& mem = object_at(m, "memory");
  auto memory_metric = [&](std::string_view flat, std::string_view nested) {
    auto v = number_at(m, flat);
    return v ? v : number_at(mem, nested);
  };
  r.sum_peak_rss_kib = memory_metric("sum_peak_rss_kib", "sum_peak_rss_kib");
  r.sum_peak_pss_kib = memory_metric("sum_peak_pss_kib", "sum_peak_pss_kib");
  r.mean_peak_uss_kib = memory_metric("mean_peak_uss_kib", "mean_peak_uss_kib");
  r.mean_memory_added_kib = memory_metric("mean_memory_added_kib", "mean_added_kib");

  if (!r.sum_peak_rss_kib)
    r.sum_peak_rss_kib = from_instances(instances, index, "peak_rss_kib", false);
  if (!r.sum_peak_pss_kib)
    r.sum_peak_pss_kib = from_instances(instances, index, "peak_pss_kib", false);
  if (!r.mean_peak_uss_kib)
    r.mean_peak_uss_kib = from_instances(instances, index, "peak_uss_kib", true);
  const json& cpu = object_at(run, "cpu_demand");
  r.cpu_wanted = number_at(cpu, "wanted_cpus");
  r.cpu_wait_share = number_at(cpu, "wait_share");
  if (auto c = number_at(cpu, "cores")) r.cpu_cores = static_cast<int>(*c);
  if (auto t = number_at(cpu, "threads_per_worker")) r.threads_per_worker = static_cast<int>(*t);
  r.oversubscribed = field_or(cpu, "oversubscribed", false, here + ": cpu_demand");
  const Concurrent c = concurrent_memory(instances, index);
  r.concurrent_pss_kib = c.pss_kib;
  r.concurrent_uss_per_worker_kib = c.uss_per_worker_kib;
  return r;
}

}  // namespace

ReportFields read_report_fields(const json& report, std::string_view source) {
  const std::string where(source);
  if (!report.is_object())
    throw std::runtime_error(where + ": not a report.json (top level is not a JSON object)");
  if (auto schema = number_at(report, "schema"); schema && *schema != 1)
    throw std::runtime_error(where + ": report schema " +
                             std::to_string(static_cast<int>(*schema)) +
                             " is not supported (this harness reads schema 1); re-run the "
                             "scenarios with this harness version");
  auto scenarios = report.find("scenarios");
  if (scenarios == report.end() || !scenarios->is_array())
    throw std::runtime_error(where +
                             ": no \"scenarios\" array; is this a report.json written by "
                             "`harness run`?");

  ReportFields out;
  const json& host = object_at(report, "host");
  if (auto c = number_at(host, "cpus")) out.host_cpus = static_cast<int>(*c);
  out.host_mem_total_kib = number_at(host, "mem_total_kib");
  if (auto h = host.find("hostname"); h != host.end() && h->is_string()) out.hostname = *h;

  for (std::size_t i = 0; i < scenarios->size(); ++i) {
    const json& s = (*scenarios)[i];
    if (!s.is_object())
      throw std::runtime_error(where + ": scenarios[" + std::to_string(i) + "] is not an object");
    ScenarioFields sf;
    const std::string here = where + ": scenarios[" + std::to_string(i) + "]";
    sf.name = field_or(s, "name", "scenarios[" + std::to_string(i) + "]", here);
    sf.status = field_or(s, "status", std::string(), here);
    if (auto m = s.find("matrix"); m != s.end()) sf.matrix = *m;
    const json empty = json::array();
    auto inst_it = s.find("instances");
    const json& instances = inst_it != s.end() ? *inst_it : empty;
    if (auto runs = s.find("runs"); runs != s.end() && runs->is_array()) {
      for (std::size_t r = 0; r < runs->size(); ++r)
        sf.runs.push_back(
            read_run((*runs)[r], static_cast<int>(r), instances, where + ": scenario " + sf.name));
    }
    out.scenarios.push_back(std::move(sf));
  }
  return out;
}

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {  // a syntax error, or a number beyond a double (1e999)
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

std::string params_label(const json& params) {
  if (!params.is_object() || params.empty()) return "(single run)";
  std::string out;
  for (const auto& [key, value] : params.items()) {  // nlohmann::json objects iterate sorted
    if (!out.empty()) out += ' ';
    out += key + '=' + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

}  // namespace harness
