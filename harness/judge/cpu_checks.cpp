// Rows of the expectations on CPU and on the size of the worker's process tree.
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"

namespace harness::detail {
namespace {

using std::chrono::milliseconds;

constexpr const char* kUnmeasured = "no measurement (the worker was never reaped)";

std::optional<milliseconds> read_cpu_time(ExpectParser& in, const YamlEntry& e) {
  using namespace std::chrono_literals;
  return in.reader.duration(e, 1ms, 24h);
}

std::optional<double> read_share(ExpectParser& in, const YamlEntry& e) {
  return in.reader.percent(e, 100000);
}

std::optional<std::int64_t> read_count(ExpectParser& in, const YamlEntry& e) {
  return in.reader.integer(e, 1, 1000000);
}

void check_cpu_time(const milliseconds& limit, const Judgement& j) {
  const CpuStats& c = j.p().cpu;
  const std::string expected = "cpu_time_max expected <= " + format_duration(limit);
  if (c.user_s < 0) return j.fail(expected + ", got " + kUnmeasured);
  const double got_s = c.user_s + c.system_s;
  if (got_s * 1000.0 > static_cast<double>(limit.count()))
    j.fail(fmt::format("{}, got {} ({} user + {} system)", expected, format_seconds(got_s),
                       format_seconds(c.user_s), format_seconds(c.system_s)));
}

void check_utilisation(const double& limit, const Judgement& j) {
  const CpuStats& c = j.p().cpu;
  const std::string expected = fmt::format("cpu_utilisation_max expected <= {:g}%", limit);
  if (c.utilisation_pct < 0) return j.fail(expected + ", got " + kUnmeasured);
  if (c.utilisation_pct > limit)
    j.fail(fmt::format("{}, got {:.1f}% of one core over {} (busiest second {:.1f}%)", expected,
                       c.utilisation_pct, format_seconds(j.p().wall_s), c.peak_utilisation_pct));
}

void check_threads(const std::int64_t& limit, const Judgement& j) {
  const int got = j.p().cpu.threads_max;
  if (got > limit)
    j.fail(fmt::format("threads_max expected <= {}, got {} threads at once in the worker's tree",
                       limit, got));
}

void check_processes(const std::int64_t& limit, const Judgement& j) {
  const int got = j.p().cpu.processes_max;
  if (got > limit)
    j.fail(
        fmt::format("processes_max expected <= {}, got {} processes at once in the worker's "
                    "tree",
                    limit, got));
}

void check_processes_min(const std::int64_t& limit, const Judgement& j) {
  const int got = j.p().cpu.processes_max;
  if (got < limit)
    j.fail(
        fmt::format("processes_min expected >= {}, got at most {} process{} at once in the "
                    "worker's tree",
                    limit, got, got == 1 ? "" : "es"));
}

std::string who(const ProcessRow& r) {
  return fmt::format("pid {} ({}{})", r.pid, r.name,
                     r.argv0.empty() || r.argv0 == r.name ? "" : ", " + r.argv0);
}

// Process by process: each row of the tree's largest-PSS read must hold this much USS.
void check_process_uss(const std::int64_t& limit, const Judgement& j) {
  const std::string expected = "process_uss_min expected >= " + format_kib(limit);
  const auto& peak = j.p().cpu.at_peak;
  if (!peak || peak->rows.empty())
    return j.fail(expected +
                  " in every process, got no per-process read (the worker lived "
                  "under one PSS/USS read)");
  for (const ProcessRow& r : peak->rows)
    if (r.uss_kib < limit)
      j.fail(fmt::format("{} in every process, got {} in {} at the memory peak ({} processes)",
                         expected, r.uss_kib < 0 ? "no reading" : format_kib(r.uss_kib), who(r),
                         peak->rows.size()));
}

// Process by process: each row of the last read of the whole tree must have used this much CPU.
void check_process_cpu(const milliseconds& limit, const Judgement& j) {
  const std::string expected = "process_cpu_time_min expected >= " + format_duration(limit);
  const auto& last = j.p().cpu.last;
  if (!last || last->rows.empty())
    return j.fail(expected +
                  " in every process, got no per-process read (the worker lived "
                  "under one PSS/USS read)");
  for (const ProcessRow& r : last->rows)
    if (r.cpu_ms < static_cast<double>(limit.count()))
      j.fail(fmt::format("{} in every process, got {} in {} at its last read ({} processes)",
                         expected, r.cpu_ms < 0 ? "no reading" : format_seconds(r.cpu_ms / 1000),
                         who(r), last->rows.size()));
}

}  // namespace

std::vector<ExpectRow> cpu_rows() {
  return {
      row("cpu_time_max", "duration",
          "user + system CPU time of the worker's whole tree, exact at exit (no measurement "
          "fails)",
          read_cpu_time, check_cpu_time),
      row("cpu_utilisation_max", "percent",
          "CPU time over wall time, in % of one core (200% is two cores busy), averaged over the "
          "worker's life",
          read_share, check_utilisation),
      row("threads_max", "integer", "the largest thread count of the tree in one sample",
          read_count, check_threads),
      row("processes_max", "integer", "the largest process count of the tree in one sample",
          read_count, check_processes),
      row("processes_min", "integer",
          "the largest process count of the tree in one sample is at least this (a worker that "
          "should fork and did not fails)",
          read_count, check_processes_min),
      row("process_uss_min", "size",
          "each process of the tree, at the read of the tree's largest PSS, holds at least this "
          "much USS (its own pages); the message names the process that does not",
          read_kib, check_process_uss, {.memory = true}),
      row("process_cpu_time_min", "duration",
          "each process of the tree, at the last per-process read of the whole tree, has used "
          "at least this much CPU; the message names the process that has not",
          read_cpu_time, check_process_cpu, {.memory = true}),
  };
}

}  // namespace harness::detail
