// Rows of the expectations on how a worker process ended: started or not, exit status, signal,
// timeout, interruption, what it left behind and how well it spoke the protocol.
#include <string>

#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"
#include "harness/judge/expectation_values.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness::detail {
namespace {

std::vector<std::string> signal_names() {
  std::vector<std::string> names;
  for (int s = 1; s < 32; ++s) names.push_back(signal_name(s));
  return names;
}

std::optional<int> signal_number(const std::string& name) {
  for (int s = 1; s < 65; ++s)
    if (signal_name(s) == name) return s;
  return std::nullopt;
}

std::string yes_no(bool v) {
  return v ? "true" : "false";
}

std::optional<bool> read_boolean(ExpectParser& in, const YamlEntry& e) {
  return in.reader.boolean(e);
}

std::optional<Pattern> read_spawn_error(ExpectParser& in, const YamlEntry& e) {
  return read_pattern(in.reader, e, e.value);
}

// Judges every instance: one that could not start is judged by this alone.
void check_spawn_error(const Pattern& want, const Judgement& j) {
  const ProcessResult& p = j.p();
  if (!p.spawn_error.empty()) {
    if (!want.search(p.spawn_error))
      j.fail("spawn_error expected to match /" + want.source + "/, got \"" +
             printable(p.spawn_error) + "\"");
    return;
  }
  j.fail("spawn_error expected a failure to start matching /" + want.source +
         "/, got a process that ended with " + ending(p));
}

std::optional<ExitCodeExpectation> read_exit_code(ExpectParser& in, const YamlEntry& e) {
  using Kind = ExitCodeExpectation::Kind;
  if (e.value.IsScalar() && (e.value.Scalar() == "non-zero" || e.value.Scalar() == "any"))
    return ExitCodeExpectation{e.value.Scalar() == "any" ? Kind::kAny : Kind::kNonZero, 0};
  if (e.value.IsScalar() && YamlReader::scalar_to_json(e.value).is_number_integer()) {
    if (auto v = in.reader.integer(e, 0, 255)) return ExitCodeExpectation{Kind::kEquals, int(*v)};
    return std::nullopt;
  }
  in.reader.error(e, "'expect.exit_code' must be a number 0-255, \"non-zero\" or \"any\", got " +
                         YamlReader::describe(e.value));
  return std::nullopt;
}

void check_exit_code(const ExitCodeExpectation& want, const Judgement& j) {
  const ProcessResult& p = j.p();
  using K = ExitCodeExpectation::Kind;
  if (want.kind == K::kEquals && !(p.exit_code && *p.exit_code == want.value))
    j.fail("exit_code expected " + std::to_string(want.value) + ", got " + ending(p) + context(p));
  // A worker killed by a signal did not succeed either: that counts as non-zero.
  if (want.kind == K::kNonZero && p.exit_code && *p.exit_code == 0)
    j.fail("exit_code expected non-zero, got 0");
  if (want.kind == K::kNonZero && !p.exit_code && !p.signal)
    j.fail("exit_code expected non-zero, got " + ending(p));
}

std::optional<int> read_signal(ExpectParser& in, const YamlEntry& e) {
  if (e.value.IsScalar() && YamlReader::scalar_to_json(e.value).is_number_integer()) {
    if (auto v = in.reader.integer(e, 1, 64)) return int(*v);
    return std::nullopt;
  }
  auto s = in.reader.string(e);
  if (!s) return std::nullopt;
  std::string name = s->rfind("SIG", 0) == 0 ? *s : "SIG" + *s;
  if (auto n = signal_number(name)) return *n;
  std::string near = closest_match(name, signal_names());
  in.reader.error(e, "unknown signal '" + *s + "' in 'expect.signal'" +
                         (near.empty() ? "; use a name such as SIGKILL or SIGTERM"
                                       : " (did you mean '" + near + "'?)"));
  return std::nullopt;
}

void check_signal(const int& want, const Judgement& j) {
  const ProcessResult& p = j.p();
  if (p.signal && *p.signal == want) return;
  std::string got = p.signal ? signal_name(*p.signal)
                             : (p.exit_code ? "exit code " + std::to_string(*p.exit_code)
                                            : std::string("no exit status"));
  j.fail("signal expected " + signal_name(want) + ", got " + got);
}

void check_timed_out(const bool& want, const Judgement& j) {
  const ProcessResult& p = j.p();
  if (want != p.timed_out)
    j.fail("timed_out expected " + yes_no(want) + ", got " + yes_no(p.timed_out) + " (ran " +
           format_seconds(p.wall_s) + ", ended with " + ending(p) + ")");
}

void check_cancelled(const bool& want, const Judgement& j) {
  if (want != j.p().cancelled)
    j.fail("cancelled expected " + yes_no(want) + ", got " + yes_no(j.p().cancelled));
}

std::optional<int> read_leftovers(ExpectParser& in, const YamlEntry& e) {
  if (auto v = in.reader.integer(e, 0, 100000)) return int(*v);
  return std::nullopt;
}

void check_leftovers(const int& want, const Judgement& j) {
  if (want != j.p().leftover_processes)
    j.fail("leftover_processes expected " + std::to_string(want) + ", got " +
           std::to_string(j.p().leftover_processes));
}

std::optional<int> read_violations(ExpectParser& in, const YamlEntry& e) {
  if (auto v = in.reader.integer(e, 0, 1000000)) return int(*v);
  return std::nullopt;
}

void check_violations(const int& max, const Judgement& j) {
  const auto& violations = j.p().protocol_violations;
  if (static_cast<int>(violations.size()) <= max) return;
  j.fail(
      "protocol_violations_max expected <= " + std::to_string(max) + ", got " +
      std::to_string(violations.size()) +
      (violations.empty() ? std::string() : " (first: \"" + printable(violations.front()) + "\")"));
}

void check_all_succeeded(const bool& want, const Judgement& j) {
  std::string bad;
  for (const auto& p : j.run.instances)
    if (!(p.spawn_error.empty() && p.exit_code && *p.exit_code == 0))
      bad += (bad.empty() ? "" : ", ") + std::string("instance ") + std::to_string(p.index) + " " +
             ending(p);
  if (want && !bad.empty()) j.fail("all_succeeded expected every instance to exit 0, got " + bad);
  if (!want && bad.empty())
    j.fail("all_succeeded expected some instance to fail, got all " +
           std::to_string(j.run.instances.size()) + " exiting 0");
}

}  // namespace

std::vector<ExpectRow> exit_rows() {
  return {
      row("spawn_error", "regex",
          "the worker could not be started, with a message matching the regex (for \"program not "
          "found\" scenarios)",
          read_spawn_error, check_spawn_error, {.scope = Scope::kAnyInstance}),
      row("exit_code", "0–255, `non-zero`, `any`",
          "the exit status is that number; `non-zero`: it is not 0 or a signal ended the worker",
          read_exit_code, check_exit_code),
      row("signal", "`SIGKILL`, `KILL`, or a number", "that signal ended the worker", read_signal,
          check_signal),
      row("timed_out", "boolean", "the harness did (not) kill it for passing `timeout`",
          read_boolean, check_timed_out),
      row("cancelled", "boolean", "the harness was (not) interrupted while it ran", read_boolean,
          check_cancelled),
      row("leftover_processes", "integer",
          "that many descendants were still alive after the worker exited", read_leftovers,
          check_leftovers),
      row("protocol_violations_max", "integer", "at most that many malformed event lines",
          read_violations, check_violations),
      row("all_succeeded", "boolean",
          "`true`: every instance of the run exited 0; `false`: at least one did not", read_boolean,
          check_all_succeeded, {.scope = Scope::kRun}),
  };
}

}  // namespace harness::detail
