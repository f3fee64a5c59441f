#pragma once
// What a scenario expects of its runs, and the judge that compares a ScenarioRun against it.
//
// Every expectation is optional; an absent one is not checked. Per-instance expectations apply
// to every instance of a run; aggregate ones (all_succeeded, outputs_distinct) to the run as a
// whole. Warmup runs are never judged. Each failure is one line saying what was expected, what
// happened, and which instance:  instance 2: exit_code expected 0, got 3 (stderr: "cannot open")
//
// Regexes are ECMAScript, searched line by line over the captured tail of a stream (like grep:
// '^' and '$' anchor lines; a pattern cannot span lines). A stream longer than the tail is only
// searched in its tail, so *_not_matches is a statement about the tail. Lines longer than 1 KiB are
// searched in 1 KiB windows overlapping by 128 bytes (libstdc++ regex recurses per character and
// is quadratic in the subject), so there a match longer than 128 bytes may be missed.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/result.hpp"

namespace harness {

class YamlReader;

struct Pattern {
  std::string source;
  std::regex re;
  bool search(std::string_view text) const;  // any line of text matches
};
// Compiles an ECMAScript regex; throws std::regex_error.
Pattern make_pattern(const std::string& source);

struct ExitCodeExpectation {
  enum class Kind { kEquals, kNonZero, kAny };
  Kind kind = Kind::kEquals;
  int value = 0;
};

// Bounds on a number; exact when only `eq` is set.
struct Bounds {
  std::optional<double> min, max;
  std::optional<nlohmann::json> eq;  // equality with any JSON value (numbers compare by value)
};

struct FieldExpectation {
  std::string field;  // a key of the `result` event; "a.b" reaches into nested objects
  Bounds bounds;
};

struct Expect {
  std::optional<ExitCodeExpectation> exit_code;
  std::optional<int> signal;  // number of the terminating signal, from its name
  std::optional<bool> timed_out;
  std::optional<bool> cancelled;
  std::optional<std::string> status;  // "status" of the last `result` event
  std::vector<FieldExpectation> result;
  std::optional<std::string> error_type;  // some `error` event has this "type"
  std::optional<Pattern> error_message;   // ... and a "message" matching this
  std::vector<Pattern> stdout_matches, stdout_not_matches, stderr_matches, stderr_not_matches;
  std::optional<std::chrono::milliseconds> wall_time_max, ready_time_max;
  // Deadline (or the end of the grace period when SIGKILL was needed) to the whole tree gone.
  std::optional<std::chrono::milliseconds> kill_latency_max;
  std::optional<std::int64_t> peak_rss_max_kib, peak_pss_max_kib, peak_uss_max_kib;
  std::optional<std::int64_t> memory_added_max_kib, memory_added_min_kib;  // ready - baseline
  std::optional<int> leftover_processes;
  std::optional<bool> all_succeeded;
  std::string output;  // file name relative to each instance's out_dir, for the two below
  std::optional<bool> output_valid_json;
  std::optional<bool> outputs_distinct;
  std::vector<std::string> events_include;
  std::optional<Bounds> stdout_bytes, stderr_bytes;
  std::optional<int> protocol_violations_max;
  std::optional<Pattern> spawn_error;  // the instance must fail to start, with this message

  bool measures_memory() const;  // any memory expectation: the run needs a quiet machine
};

// Reads the `expect:` map; problems go to the reader's diagnostics.
Expect parse_expect(YamlReader& reader, const YAML::Node& node, const YAML::Mark& where);

// Failures of one run, one line each; empty when it passed or is a warmup run.
std::vector<std::string> evaluate(const Expect& expect, const ScenarioRun& run);

}  // namespace harness
