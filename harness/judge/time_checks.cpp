// Rows of the expectations on times: how long a worker ran, loaded, and took to be stopped.
#include <chrono>
#include <string>

#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"

namespace harness::detail {
namespace {

using std::chrono::milliseconds;

std::optional<milliseconds> read_limit(ExpectParser& in, const YamlEntry& e) {
  using namespace std::chrono_literals;
  return in.reader.duration(e, 1ms, 24h);
}

// A duration that must not exceed `limit`; an unknown one fails with `missing` as the value.
void check_ms_max(const char* name, milliseconds limit, const std::optional<double>& got_ms,
                  const std::string& missing, const std::string& detail, const Judgement& j) {
  const std::string expected = std::string(name) + " expected <= " + format_duration(limit);
  if (!got_ms)
    j.fail(expected + ", got " + missing);
  else if (*got_ms > static_cast<double>(limit.count()))
    j.fail(expected + ", got " + format_seconds(*got_ms / 1000.0) + detail);
}

void check_wall_time(const milliseconds& limit, const Judgement& j) {
  const double wall_s = j.p().wall_s;
  if (wall_s * 1000.0 > static_cast<double>(limit.count()))
    j.fail("wall_time_max expected <= " + format_duration(limit) + ", got " +
           format_seconds(wall_s));
}

void check_ready_time(const milliseconds& limit, const Judgement& j) {
  check_ms_max("ready_time_max", limit, j.p().ready_ms, "no ready event", "", j);
}

void check_kill_latency(const milliseconds& limit, const Judgement& j) {
  const ProcessResult& p = j.p();
  check_ms_max("kill_latency_max", limit, p.kill_latency_ms,
               "no kill (the harness did not have to stop the worker)",
               " (" + (p.kill_signal.empty() ? std::string("tree") : p.kill_signal) + ")", j);
}

}  // namespace

std::vector<ExpectRow> time_rows() {
  return {
      row("wall_time_max", "duration", "spawn to reap", read_limit, check_wall_time),
      row("ready_time_max", "duration", "spawn to the `ready` event (no `ready` fails)", read_limit,
          check_ready_time),
      row("kill_latency_max", "duration",
          "the harness stopped the worker (timeout or interrupt) and its whole tree was gone "
          "within this time of the deadline, or of the end of `grace` when SIGKILL was needed (a "
          "worker that was never stopped fails)",
          read_limit, check_kill_latency),
  };
}

}  // namespace harness::detail
