#include "harness/scenario/jobs_spec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "harness/core/diagnostic.hpp"
#include "harness/core/rate.hpp"
#include "harness/core/redis_url.hpp"
#include "harness/core/units.hpp"
#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;
using Templated = std::function<void(const std::string&, const std::string&, const YAML::Mark&)>;

const std::vector<std::string> kKeys{
    "mode",    "workers", "count",  "duration", "inputs",       "template",   "command", "arrival",
    "timeout", "retry",   "cancel", "min_jobs", "min_duration", "late_after", "queue",   "faults"};
const std::vector<std::string> kModes{"spawn", "pool", "queue"};
const std::vector<std::string> kQueueKeys{"redis", "name", "agent_mode", "lease", "max_deliveries"};
const std::vector<std::string> kPeakKeys{"from", "to", "precision", "points"};
const std::vector<std::string> kArrivalKeys{"closed",
                                            "constant",
                                            "poisson",
                                            "seed",
                                            "latency_p50_max",
                                            "latency_p90_max",
                                            "latency_p95_max",
                                            "latency_p99_max",
                                            "latency_p999_max",
                                            "from",
                                            "to",
                                            "precision",
                                            "points"};
const std::vector<std::string> kRetryKeys{"max", "on", "backoff"};
const std::vector<std::string> kCancelKeys{"jobs", "after"};
const std::vector<std::string> kFaultKeys{"at", "kill_agent", "kill_worker", "restart_broker"};
constexpr std::size_t kMaxFaults = 100;
constexpr double kMaxRate = 100000;
constexpr double kMinRate = 0.001;

std::string format_rate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g/s", rate);
  return buf;
}

class JobsReader {
 public:
  JobsReader(YamlReader& r, const Templated& templated) : r_(r), templated_(templated) {}

  JobsSpec read(const YamlEntry& je) {
    JobsSpec s;
    bool has_count = false, has_duration = false;
    std::optional<YamlEntry> workers_entry;
    for (const auto& e : r_.entries(je.value, mark_of(je), "jobs", kKeys)) {
      const std::string k = e.key.Scalar();
      if (k == "mode") {
        if (auto v = r_.string(e)) {
          if (!is_variable(*v, e) && std::find(kModes.begin(), kModes.end(), *v) == kModes.end())
            r_.error(e,
                     "'jobs.mode' must be spawn (a process per job), pool (persistent "
                     "workers fed a line per job) or queue (a Redis stream served by agents), "
                     "got '" +
                         *v + "'");
          else
            s.mode = *v;
        }
      } else if (k == "workers") {
        workers_entry = e;
        if (auto v = r_.integer(e, 0, 256)) s.workers = static_cast<int>(*v);
      } else if (k == "count") {
        has_count = true;
        if (auto v = r_.integer(e, 1, 100000)) s.count = static_cast<int>(*v);
      } else if (k == "duration") {
        has_duration = true;
        if (auto v = r_.duration(e, 1ms, 24h)) s.duration = *v;
      } else if (k == "inputs") {
        read_inputs(e, s);
      } else if (k == "template") {
        read_template(e, s);
      } else if (k == "command") {
        read_command(e, s);
      } else if (k == "arrival") {
        read_arrival(e, s.arrival);
      } else if (k == "timeout") {
        if (auto v = r_.duration(e, 1ms, 24h)) s.timeout = *v;
      } else if (k == "retry") {
        read_retry(e, s.retry);
      } else if (k == "cancel") {
        read_cancel(e, s.cancel);
      } else if (k == "min_jobs") {
        if (auto v = r_.integer(e, 0, 1000000)) s.min_jobs = static_cast<int>(*v);
      } else if (k == "late_after") {
        if (auto v = r_.duration(e, 1ms, 10s)) s.late_after = *v;
      } else if (k == "min_duration") {
        if (auto v = r_.duration(e, 0ms, 24h)) s.min_duration = *v;
      } else if (k == "queue") {
        read_queue(e, s.queue);
      } else if (k == "faults") {
        read_faults(e, s.faults);
      }
    }
    if (workers_entry && s.workers == 0) {
      // Agents started elsewhere serve the run: they must be able to find its queue.
      const bool templated_mode = s.mode.rfind("${", 0) == 0;
      if (s.mode != "queue" && !templated_mode)
        r_.error(*workers_entry,
                 "'jobs.workers: 0' (agents started elsewhere) is for "
                 "'mode: queue'; mode " +
                     s.mode + " needs at least 1 worker");
      else if (s.queue.redis == "auto" || s.queue.name.empty())
        r_.error(*workers_entry,
                 "'jobs.workers: 0' means agents started elsewhere serve the jobs; give them a "
                 "broker they can reach and a queue they can name: 'jobs.queue.redis' as a URL "
                 "and 'jobs.queue.name'");
    }
    if (je.value.IsMap()) {
      if (has_count == has_duration)
        r_.error(mark_of(je), has_count ? "'jobs' gives both 'count' and 'duration'; keep one"
                                        : "'jobs' needs 'count: N' (jobs in all) or 'duration: "
                                          "60s' (jobs until then)");
    }
    return s;
  }

 private:
  // "${mode}": a matrix variable, checked when the matrix is applied.
  bool is_variable(const std::string& v, const YamlEntry& e) {
    if (v.rfind("${", 0) != 0) return false;
    templated_(v, e.path, mark_of(e));
    return true;
  }

  void read_inputs(const YamlEntry& e, JobsSpec& s) {
    auto list = r_.string_list(e, true);
    if (!list) return;
    if (list->empty()) r_.error(e, "'jobs.inputs' is empty; give at least one path or glob");
    for (std::size_t i = 0; i < list->size(); ++i) {
      s.inputs.push_back((*list)[i]);
      templated_((*list)[i], "jobs.inputs[" + std::to_string(i) + "]", mark_of(e));
    }
  }

  void read_template(const YamlEntry& e, JobsSpec& s) {
    if (!e.value.IsMap()) {
      r_.error(e,
               "'jobs.template' must be a map: the JSON object sent as a pool job line, "
               "e.g. {input: \"${INPUT}\", output: \"${OUT}/job${JOB}.json\"}, got " +
                   YamlReader::describe(e.value));
      return;
    }
    nlohmann::json t = r_.to_json(e.value);
    if (!t.is_object()) return;
    if (t.contains("id"))
      r_.error(e, "'jobs.template' must not give 'id': the harness numbers the jobs");
    walk_strings(t, "jobs.template", mark_of(e));
    s.line_template = std::move(t);
  }

  void walk_strings(const nlohmann::json& j, const std::string& what, const YAML::Mark& mark) {
    if (j.is_string()) {
      templated_(j.get<std::string>(), what, mark);
    } else if (j.is_object()) {
      for (const auto& [k, v] : j.items()) walk_strings(v, what + "." + k, mark);
    } else if (j.is_array()) {
      for (std::size_t i = 0; i < j.size(); ++i)
        walk_strings(j[i], what + "[" + std::to_string(i) + "]", mark);
    }
  }

  void read_command(const YamlEntry& e, JobsSpec& s) {
    auto list = r_.string_list(e, false);
    if (!list) return;
    if (list->empty() || list->front().empty()) {
      r_.error(e, "'jobs.command' is empty; give the program and its arguments per job");
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i)
      templated_((*list)[i], "jobs.command[" + std::to_string(i) + "]", mark_of(e));
    s.spawn_command = std::move(*list);
  }

  void read_arrival(const YamlEntry& ae, ArrivalSpec& a) {
    int kinds = 0;
    std::vector<YamlEntry> search;  // the peak search's keys, read once the kind is known
    for (const auto& e : r_.entries(ae.value, mark_of(ae), "jobs.arrival", kArrivalKeys)) {
      const std::string k = e.key.Scalar();
      if (k == "seed") {
        if (auto v = r_.integer(e, 0, std::numeric_limits<std::int64_t>::max()))
          a.seed = static_cast<std::uint64_t>(*v);
        continue;
      }
      if (std::find(kPeakKeys.begin(), kPeakKeys.end(), k) != kPeakKeys.end() ||
          peak_bound_percentile(k)) {
        search.push_back(e);
        continue;
      }
      ++kinds;
      if (k == "closed") {
        a.kind = ArrivalSpec::Kind::closed;
        if (auto v = r_.integer(e, 1, 4096)) a.in_flight = static_cast<int>(*v);
        continue;
      }
      a.kind = k == "constant" ? ArrivalSpec::Kind::constant : ArrivalSpec::Kind::poisson;
      auto text = r_.scalar(e);
      if (!text) continue;
      if (*text == "find_peak") {
        a.peak.emplace();
        continue;
      }
      if (auto rate = read_rate(e, "jobs.arrival." + k, *text)) a.rate = *rate;
    }
    if (ae.value.IsMap() && kinds != 1)
      r_.error(mark_of(ae),
               "'jobs.arrival' needs exactly one of closed: N (N jobs in flight), "
               "constant: R/s or poisson: R/s (or find_peak)");
    if (a.peak) {
      read_peak(ae, search, *a.peak);
      a.rate = a.peak->from;
    } else if (!search.empty()) {
      r_.error(search.front(), "'jobs.arrival." + search.front().key.Scalar() +
                                   "' belongs to a peak search: write poisson: find_peak (or "
                                   "constant: find_peak) beside it");
    }
  }

  std::optional<double> read_rate(const YamlEntry& e, const std::string& what,
                                  const std::string& text) {
    auto rate = parse_rate(text);
    if (rate && *rate <= kMaxRate && *rate >= kMinRate) return rate;
    r_.error(e, "'" + what +
                    "' must be a rate such as 4/s, 0.5/s or 120/min "
                    "(0.001/s to 100000/s), got '" +
                    text + "'");
    return std::nullopt;
  }

  void read_peak(const YamlEntry& ae, const std::vector<YamlEntry>& entries, PeakSearchSpec& p) {
    int bounds = 0;
    for (const auto& e : entries) {
      const std::string k = e.key.Scalar();
      if (auto pct = peak_bound_percentile(k)) {
        ++bounds;
        p.key = k;
        p.percentile = *pct;
        if (auto d = r_.duration(e, 1ms, 24h)) p.bound_ms = static_cast<double>(d->count());
      } else if (k == "from" || k == "to") {
        auto text = r_.scalar(e);
        if (!text) continue;
        if (auto rate = read_rate(e, "jobs.arrival." + k, *text))
          (k == "from" ? p.from : p.to) = *rate;
      } else if (k == "precision") {
        // YamlReader::percent reports a malformed value as a diagnostic at its position;
        // parse_percent throws, and a scenario's text must never escape as an exception.
        if (auto v = r_.percent(e, 100)) {
          if (*v < 1)
            r_.error(e, "'jobs.arrival.precision' must be a share from 1% to 100%, got " +
                            YamlReader::describe(e.value));
          else
            p.precision = *v / 100;
        }
      } else if (k == "points") {
        if (auto v = r_.integer(e, 2, 50)) p.max_points = static_cast<int>(*v);
      }
    }
    if (bounds != 1)
      r_.error(mark_of(ae),
               "'jobs.arrival' with find_peak needs exactly one latency bound, such as "
               "latency_p99_max: 2s (latency_p50_max, _p90_, _p95_, _p99_ or _p999_)");
    if (p.from >= p.to)
      r_.error(mark_of(ae), "'jobs.arrival.from' (" + format_rate(p.from) +
                                ") must be below 'jobs.arrival.to' (" + format_rate(p.to) + ")");
  }

  void read_retry(const YamlEntry& re, RetrySpec& retry) {
    for (const auto& e : r_.entries(re.value, mark_of(re), "jobs.retry", kRetryKeys)) {
      const std::string k = e.key.Scalar();
      if (k == "max") {
        if (auto v = r_.integer(e, 0, 100)) retry.max = static_cast<int>(*v);
      } else if (k == "backoff") {
        if (auto v = r_.duration(e, 0ms, 10min)) retry.backoff = *v;
      } else if (k == "on") {
        auto list = r_.string_list(e, true);
        if (!list) continue;
        retry.on.clear();
        const auto& kinds = job_failure_kinds();
        for (const auto& kind : *list) {
          if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) {
            retry.on.push_back(kind);
            continue;
          }
          std::string near = closest_match(kind, kinds);
          r_.error(e, "'jobs.retry.on' names '" + kind + "', not a failure" +
                          (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                          "; failures: crash, timeout, exit, error, spawn, dead_letter");
        }
      }
    }
  }

  void read_queue(const YamlEntry& qe, QueueSpec& q) {
    for (const auto& e : r_.entries(qe.value, mark_of(qe), "jobs.queue", kQueueKeys)) {
      const std::string k = e.key.Scalar();
      if (k == "redis") {
        auto v = r_.string(e);
        if (!v) continue;
        std::string why;
        if (*v != "auto" && !parse_redis_url(*v, why))
          r_.error(e,
                   "'jobs.queue.redis' must be auto (a private redis-server for the run) or "
                   "a Redis URL: " +
                       why);
        else
          q.redis = *v;
      } else if (k == "name") {
        auto v = r_.string(e);
        if (!v) continue;
        const bool ok =
            !v->empty() && v->size() <= 64 && std::all_of(v->begin(), v->end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                     c == '.';
            });
        if (!ok)
          r_.error(e,
                   "'jobs.queue.name' must be 1-64 letters, digits, '-', '_' or '.' (the keys "
                   "harness:NAME:...), got '" +
                       v->substr(0, 80) + "'");
        else
          q.name = *v;
      } else if (k == "agent_mode") {
        auto v = r_.string(e);
        if (!v) continue;
        if (*v != "spawn" && *v != "pool")
          r_.error(e,
                   "'jobs.queue.agent_mode' must be spawn (a process per job) or pool (each agent "
                   "feeds a persistent worker), got '" +
                       v->substr(0, 80) + "'");
        else
          q.agent_mode = *v;
      } else if (k == "lease") {
        if (auto v = r_.duration(e, 100ms, 1h)) q.lease = *v;
      } else if (k == "max_deliveries") {
        if (auto v = r_.integer(e, 1, 100)) q.max_deliveries = static_cast<int>(*v);
      }
    }
  }

  // A slot number or `any` (-1).
  std::optional<int> read_target(const YamlEntry& e) {
    if (e.value.IsScalar() && e.value.Scalar() == "any") return -1;
    if (auto v = r_.integer(e, 0, 255)) return static_cast<int>(*v);
    return std::nullopt;
  }

  void read_faults(const YamlEntry& fe, std::vector<FaultStep>& out) {
    if (!fe.value.IsSequence()) {
      r_.error(fe, "'jobs.faults' must be a list such as [{at: 2s, kill_agent: 0}], got " +
                       YamlReader::describe(fe.value));
      return;
    }
    if (fe.value.size() > kMaxFaults) {
      r_.error(fe, "'jobs.faults' lists " + std::to_string(fe.value.size()) + " faults; at most " +
                       std::to_string(kMaxFaults));
      return;
    }
    for (std::size_t i = 0; i < fe.value.size(); ++i) {
      const YAML::Node item = fe.value[i];
      const std::string what = "jobs.faults[" + std::to_string(i) + "]";
      const YAML::Mark where = item.Mark().line >= 0 ? item.Mark() : mark_of(fe);
      FaultStep f;
      bool has_at = false;
      int kinds = 0;
      for (const auto& e : r_.entries(item, where, what, kFaultKeys)) {
        const std::string k = e.key.Scalar();
        if (k == "at") {
          has_at = true;
          if (auto v = r_.duration(e, 0ms, 24h)) f.at = *v;
          continue;
        }
        ++kinds;
        if (k == "kill_agent" || k == "kill_worker") {
          f.kind = k == "kill_agent" ? FaultStep::Kind::kill_agent : FaultStep::Kind::kill_worker;
          if (auto t = read_target(e)) f.target = *t;
        } else if (k == "restart_broker") {
          f.kind = FaultStep::Kind::restart_broker;
          if (e.value.IsScalar() && e.value.Scalar() == "true") continue;
          if (auto d = r_.duration(e, 0ms, 10min)) f.down = *d;
        }
      }
      if (!has_at)
        r_.error(where, "'" + what + "' needs 'at': when the fault happens, e.g. at: 2s");
      if (kinds != 1)
        r_.error(where, "'" + what +
                            "' needs exactly one of kill_agent: N|any, kill_worker: N|any, "
                            "restart_broker: true|D");
      out.push_back(f);
    }
  }

  void read_cancel(const YamlEntry& ce, CancelSpec& c) {
    for (const auto& e : r_.entries(ce.value, mark_of(ce), "jobs.cancel", kCancelKeys)) {
      const std::string k = e.key.Scalar();
      if (k == "after") {
        if (auto v = r_.duration(e, 0ms, 24h)) c.after = *v;
        continue;
      }
      auto list = r_.string_list(e, true);
      if (!list) continue;
      for (const auto& id : *list) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
        if (ec != std::errc() || end != id.data() + id.size() || v < 1)
          r_.error(e, "'jobs.cancel.jobs' must list job numbers (1, 2, ...), got '" + id + "'");
        else
          c.jobs.push_back(v);
      }
    }
  }

  YamlReader& r_;
  const Templated& templated_;
};

}  // namespace

const char* fault_kind_name(FaultStep::Kind kind) {
  switch (kind) {
    case FaultStep::Kind::kill_agent: return "kill_agent";
    case FaultStep::Kind::kill_worker: return "kill_worker";
    case FaultStep::Kind::restart_broker: return "restart_broker";
  }
  return "?";
}

const std::vector<std::string>& job_failure_kinds() {
  static const std::vector<std::string> kinds{"crash", "timeout", "exit",
                                              "error", "spawn",   "dead_letter"};
  return kinds;
}

const std::vector<std::string>& jobs_keys() {
  return kKeys;
}

JobsSpec read_jobs(YamlReader& reader, const YamlEntry& entry, const Templated& templated) {
  return JobsReader(reader, templated).read(entry);
}

std::optional<double> peak_bound_percentile(const std::string& key) {
  if (key == "latency_p50_max") return 50;
  if (key == "latency_p90_max") return 90;
  if (key == "latency_p95_max") return 95;
  if (key == "latency_p99_max") return 99;
  if (key == "latency_p999_max") return 99.9;
  return std::nullopt;
}

bool apply_jobs_param(JobsSpec& spec, const std::string& key, const nlohmann::json& value,
                      std::string& why) {
  if (key == "mode") {
    if (!value.is_string() ||
        std::find(kModes.begin(), kModes.end(), value.get<std::string>()) == kModes.end()) {
      why = "matrix 'mode' values must be spawn, pool or queue, got " + value.dump();
      return false;
    }
    spec.mode = value.get<std::string>();
    return true;
  }
  if (key == "workers") {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
        value.get<std::int64_t>() > 256) {
      why = "matrix 'workers' values must be integers 1-256, got " + value.dump();
      return false;
    }
    spec.workers = value.get<int>();
    return true;
  }
  return true;  // another variable: not the jobs' business
}

std::string describe_arrival(const ArrivalSpec& a) {
  if (a.kind == ArrivalSpec::Kind::closed) return "closed " + std::to_string(a.in_flight);
  const bool poisson = a.kind == ArrivalSpec::Kind::poisson;
  const std::string seed = poisson ? " seed " + std::to_string(a.seed) : "";
  if (!a.peak) return (poisson ? "poisson " : "constant ") + format_rate(a.rate) + seed;
  char pct[16];
  std::snprintf(pct, sizeof pct, "%g", a.peak->percentile);
  return std::string(poisson ? "poisson" : "constant") + " find_peak p" + pct +
         " <= " + format_seconds(a.peak->bound_ms / 1000.0) + " from " + format_rate(a.peak->from) +
         " to " + format_rate(a.peak->to) + seed;
}

}  // namespace harness
