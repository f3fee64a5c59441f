#include "harness/judge/expect.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "harness/judge/expectation_values.hpp"
#include "harness/scenario/scenario.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using Failures = std::vector<std::string>;

Expect expect_of(const std::string& lines) {
  return parse_scenario("schema: 1\nname: t\nworker:\n  command: [p]\nexpect:\n" + lines, "x.yaml")
      .expect;
}

Event event(const std::string& type, nlohmann::json body = nlohmann::json::object()) {
  body["event"] = type;
  return Event{0, type, body};
}

// A worker run that went well: started, ready, a successful result, exit 0.
ProcessResult good(int index = 0) {
  ProcessResult p;
  p.index = index;
  p.pid = 1000 + index;
  p.exit_code = 0;
  p.wall_s = 1.5;
  p.ready_ms = 200;
  p.events = {event("started"), event("ready", {{"load_ms", 180.5}}),
              event("result", {{"status", "success"}, {"frames_processed", 100}, {"fps", 8.1}})};
  p.out.bytes = 120;
  p.out.tail = "{\"event\":\"started\"}\nlog line\n";
  p.err.bytes = 11;
  p.err.tail = "all fine\n";
  p.memory.baseline_rss_kib = 10 * 1024;
  p.memory.ready_rss_kib = 110 * 1024;
  p.memory.peak_rss_kib = 300 * 1024;
  p.memory.peak_pss_kib = 250 * 1024;
  p.memory.peak_uss_kib = 200 * 1024;
  return p;
}

ScenarioRun run_of(std::vector<ProcessResult> instances) {
  ScenarioRun run;
  run.instances = std::move(instances);
  return run;
}

Failures judge(const std::string& lines, const ProcessResult& p) {
  return evaluate(expect_of(lines), run_of({p}));
}

TEST(expect_test, nothing_expected_nothing_fails) {
  ProcessResult p = good();
  p.exit_code = 9;
  EXPECT_EQ(evaluate(Expect{}, run_of({p})), Failures{});
}

TEST(expect_test, exit_code_passes_and_fails_with_stderr_context) {
  EXPECT_EQ(judge("  exit_code: 0\n", good()), Failures{});
  ProcessResult p = good(2);
  p.exit_code = 3;
  p.err.tail = "loading\ncannot open /x.avi\n";
  EXPECT_EQ(judge("  exit_code: 0\n", p),
            Failures{"instance 2: exit_code expected 0, got 3 (stderr: \"cannot open /x.avi\")"});
}

TEST(expect_test, exit_code_context_prefers_the_error_event) {
  ProcessResult p = good(1);
  p.exit_code = 3;
  p.events.push_back(event("error", {{"type", "InputNotFound"}, {"message", "cannot open /x"}}));
  EXPECT_EQ(judge("  exit_code: 0\n", p),
            Failures{"instance 1: exit_code expected 0, got 3 (error: \"cannot open /x\")"});
}

TEST(expect_test, exit_code_reports_a_signal) {
  ProcessResult p = good();
  p.exit_code.reset();
  p.signal = SIGKILL;
  p.err.tail.clear();
  EXPECT_EQ(judge("  exit_code: 0\n", p),
            Failures{"instance 0: exit_code expected 0, got signal SIGKILL"});
}

TEST(expect_test, exit_code_non_zero_and_any) {
  ProcessResult zero = good();
  EXPECT_EQ(judge("  exit_code: non-zero\n", zero),
            Failures{"instance 0: exit_code expected non-zero, got 0"});
  ProcessResult three = good();
  three.exit_code = 3;
  EXPECT_EQ(judge("  exit_code: non-zero\n", three), Failures{});
  ProcessResult killed = good();
  killed.exit_code.reset();
  killed.signal = SIGSEGV;
  EXPECT_EQ(judge("  exit_code: non-zero\n", killed), Failures{});
  EXPECT_EQ(judge("  exit_code: any\n", killed), Failures{});
}

TEST(expect_test, signal_by_name) {
  ProcessResult killed = good();
  killed.exit_code.reset();
  killed.signal = SIGKILL;
  EXPECT_EQ(judge("  signal: SIGKILL\n", killed), Failures{});
  EXPECT_EQ(judge("  signal: KILL\n", killed), Failures{});
  EXPECT_EQ(judge("  signal: SIGKILL\n", good()),
            Failures{"instance 0: signal expected SIGKILL, got exit code 0"});
}

TEST(expect_test, timed_out_and_cancelled) {
  ProcessResult p = good();
  EXPECT_EQ(judge("  timed_out: false\n  cancelled: false\n", p), Failures{});
  EXPECT_EQ(judge("  timed_out: true\n", p),
            Failures{"instance 0: timed_out expected true, got false (ran 1.5s, ended with 0)"});
  p.cancelled = true;
  EXPECT_EQ(judge("  cancelled: false\n", p),
            Failures{"instance 0: cancelled expected false, got true"});
}

TEST(expect_test, status_of_the_last_result_event) {
  EXPECT_EQ(judge("  status: success\n", good()), Failures{});
  ProcessResult p = good();
  p.events.back().body["status"] = "partial";
  EXPECT_EQ(judge("  status: success\n", p),
            Failures{"instance 0: status expected \"success\", got \"partial\""});
  p.events.pop_back();
  EXPECT_EQ(judge("  status: success\n", p),
            Failures{"instance 0: status expected \"success\", got no result event (stderr: "
                     "\"all fine\")"});
}

TEST(expect_test, result_fields_equality_and_bounds) {
  EXPECT_EQ(judge("  result: {frames_processed: 100, fps: {min: 5, max: 30}}\n", good()),
            Failures{});
  EXPECT_EQ(judge("  result: {frames_processed: 100.0}\n", good()), Failures{});
  EXPECT_EQ(judge("  result: {frames_processed: {eq: 100}}\n", good()), Failures{});
  EXPECT_EQ(judge("  result: {frames_processed: 99}\n", good()),
            Failures{"instance 0: result.frames_processed expected 99, got 100"});
  EXPECT_EQ(judge("  result: {fps: {min: 10}}\n", good()),
            Failures{"instance 0: result.fps expected >= 10, got 8.1"});
  EXPECT_EQ(judge("  result: {fps: {max: 5}}\n", good()),
            Failures{"instance 0: result.fps expected <= 5, got 8.1"});
  EXPECT_EQ(judge("  result: {status: failed}\n", good()),
            Failures{"instance 0: result.status expected \"failed\", got \"success\""});
  auto missing = judge("  result: {detections: 3}\n", good());
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].rfind("instance 0: result.detections expected a field, got none in ", 0),
            0u);
}

TEST(expect_test, result_field_reaches_into_nested_objects) {
  ProcessResult p = good();
  p.events.back().body["timing"] = {{"total_ms", 900}};
  EXPECT_EQ(judge("  result: {timing.total_ms: {max: 1000}}\n", p), Failures{});
  EXPECT_EQ(judge("  result: {timing.total_ms: {max: 800}}\n", p),
            Failures{"instance 0: result.timing.total_ms expected <= 800, got 900"});
}

TEST(expect_test, error_event_type_and_message) {
  ProcessResult p = good();
  p.exit_code = 3;
  p.events.push_back(
      event("error", {{"type", "InputNotFound"}, {"message", "cannot open /x.avi"}}));
  EXPECT_EQ(judge("  error: {type: InputNotFound, message_matches: \"cannot open .*avi\"}\n", p),
            Failures{});
  EXPECT_EQ(judge("  error: {type: ModelError}\n", p),
            Failures{"instance 0: error expected an error event with type ModelError, got "
                     "{\\\"event\\\":\\\"error\\\",\\\"message\\\":\\\"cannot open "
                     "/x.avi\\\",\\\"type\\\":\\\"InputNotFound\\\"}"});
  EXPECT_EQ(judge("  error: {message_matches: model}\n", good()),
            Failures{"instance 0: error expected an error event with message matching /model/, "
                     "got no error event (stderr: \"all fine\")"});
}

TEST(expect_test, stream_regexes_match_lines) {
  ProcessResult p = good();
  p.err.tail = "warming up\nTraceback (most recent call last):\n  boom\n";
  EXPECT_EQ(judge("  stderr_matches: \"^Traceback\"\n", p), Failures{});
  EXPECT_EQ(judge("  stderr_not_matches: \"Traceback|Segmentation\"\n", p),
            Failures{"instance 0: stderr_not_matches expected no /Traceback|Segmentation/, got "
                     "\"Traceback (most recent call last):\""});
  EXPECT_EQ(judge("  stdout_matches: [\"log line\", \"^\\\\{\"]\n", p), Failures{});
  EXPECT_EQ(judge("  stdout_matches: \"missing\"\n", p),
            Failures{"instance 0: stdout_matches expected /missing/, got no match in 120 bytes "
                     "(last line: \"log line\")"});
}

TEST(expect_test, regex_over_a_huge_line_does_not_overflow_the_stack) {
  ProcessResult p = good();
  p.out.tail = std::string(64 << 10, 'a') + "needle" + std::string(1000, 'b');
  p.out.bytes = p.out.tail.size();
  EXPECT_EQ(judge("  stdout_matches: \"a.*needle\"\n", p), Failures{});
  EXPECT_EQ(judge("  stdout_not_matches: \"needlex\"\n", p), Failures{});
}

TEST(expect_test, catastrophic_pattern_on_a_long_line_is_judged_at_once) {
  // `^(a+)+b` backtracks exponentially in a backtracking engine (std::regex took minutes on 34
  // 'a's, deaf to SIGINT). RE2 is linear in the text. 5 s is a generous functional bound on
  // the real judge path (load, then evaluate), not a speed claim.
  ProcessResult p = good();
  p.out.tail = std::string(34, 'a') + "\n" + std::string(1 << 20, 'a') + "\n";
  p.out.bytes = p.out.tail.size();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(judge("  stdout_not_matches: \"^(a+)+b\"\n  stdout_matches: \"^(a+)+$\"\n", p),
            Failures{});
  p.out.tail += "aaaaab\n";
  EXPECT_EQ(judge("  stdout_not_matches: \"^(a+)+b\"\n", p),
            Failures{"instance 0: stdout_not_matches expected no /^(a+)+b/, got \"aaaaab\""});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(expect_test, a_long_line_is_searched_whole) {
  // A match longer than any window: the line is searched as one, '^' and '$' at its ends.
  ProcessResult p = good();
  p.out.tail = "x" + std::string(5000, 'a') + "y\n";
  EXPECT_EQ(judge("  stdout_matches: \"^xa+y$\"\n", p), Failures{});
  EXPECT_EQ(judge("  stdout_not_matches: \"^a\"\n", p), Failures{});
}

TEST(expect_test, lines_are_matched_as_bytes) {
  ProcessResult p = good();
  p.out.tail = "invalid utf-8: \xff\xfe end\r\nun caf\xc3\xa9\n";
  EXPECT_EQ(judge("  stdout_matches: [\"^invalid utf-8: .. end$\", \"caf\xc3\xa9$\"]\n", p),
            Failures{});
  EXPECT_EQ(judge("  stdout_not_matches: \"utf-8: .* end$\"\n", p),
            Failures{"instance 0: stdout_not_matches expected no /utf-8: .* end$/, got \"invalid "
                     "utf-8: \xff\xfe end\\x0d\""});
}

// The lifecycle scenario proves each of its 20 jobs got its own successful answer through
// `expect.jobs` (it once spelt out 20 regexes, one per job id and key order): judged here on a
// run where every job succeeded, and on one where job 7 failed and job 12 was never answered.
TEST(expect_test, serve_20_jobs_judges_every_job_by_its_record) {
  const Scenario s = load_scenario(HARNESS_SOURCE_DIR "/scenarios/lifecycle/serve_20_jobs.yaml");
  ASSERT_TRUE(s.jobs);
  EXPECT_EQ(s.jobs->count, 20);
  EXPECT_EQ(s.jobs->mode, "pool");
  ScenarioRun run;
  run.instances.push_back(good());
  run.instances[0].events.push_back(
      Event{1,
            "result",
            {{"event", "result"}, {"job", 20}, {"status", "success"}, {"frames_processed", 1}},
            60});
  run.instances[0].out_dir = ::testing::TempDir();
  JobsResult jobs;
  for (int id = 1; id <= 20; ++id) {
    JobRecord r;
    r.id = id;
    r.status = "success";
    r.attempts = 1;
    r.dispatched_ms = id * 10;
    r.ended_ms = id * 10 + 5;
    jobs.records.push_back(r);
  }
  jobs.scheduled = jobs.succeeded = 20;
  run.jobs = jobs;
  auto job_failures = [&](const ScenarioRun& r) {
    Failures out;
    for (const auto& f : evaluate(s.expect, r))
      if (f.rfind("jobs:", 0) == 0) out.push_back(f);
    return out;
  };
  EXPECT_EQ(job_failures(run), Failures{});
  run.jobs->records[6].status = "failed";
  run.jobs->records[6].failure = "error";
  run.jobs->records[6].error = "InputNotFound: cannot open x";
  run.jobs->records[11].status.clear();
  run.jobs->succeeded = 18;
  run.jobs->failed = 1;
  run.jobs->lost = 1;
  const Failures f = job_failures(run);
  ASSERT_EQ(f.size(), 3u) << ::testing::PrintToString(f);
  EXPECT_EQ(f[0],
            "jobs: succeeded expected all 20, got 18 (1 failed, 0 cancelled, 1 lost, 0 "
            "interrupted, 0 not run): job 7 (error: InputNotFound: cannot open x)");
  EXPECT_EQ(f[1],
            "jobs: failed_max expected <= 0, got 1: job 7 (error: InputNotFound: cannot open x)");
  EXPECT_EQ(f[2], "jobs: lost_max expected <= 0, got 1: job 12");
}

TEST(expect_test, times) {
  EXPECT_EQ(judge("  wall_time_max: 2s\n  ready_time_max: 500ms\n", good()), Failures{});
  EXPECT_EQ(judge("  wall_time_max: 1s\n", good()),
            Failures{"instance 0: wall_time_max expected <= 1s, got 1.5s"});
  EXPECT_EQ(judge("  ready_time_max: 100ms\n", good()),
            Failures{"instance 0: ready_time_max expected <= 100ms, got 200ms"});
  ProcessResult no_ready = good();
  no_ready.ready_ms.reset();
  EXPECT_EQ(judge("  ready_time_max: 100ms\n", no_ready),
            Failures{"instance 0: ready_time_max expected <= 100ms, got no ready event"});
}

TEST(expect_test, kill_latency) {
  ProcessResult killed = good();
  killed.timed_out = true;
  killed.exit_code.reset();
  killed.signal = 9;
  killed.kill_signal = "SIGKILL";
  killed.kill_latency_ms = 3.5;
  EXPECT_EQ(judge("  kill_latency_max: 100ms\n", killed), Failures{});
  EXPECT_EQ(judge("  kill_latency_max: 2ms\n", killed),
            Failures{"instance 0: kill_latency_max expected <= 2ms, got 3.5ms (SIGKILL)"});
  EXPECT_EQ(judge("  kill_latency_max: 100ms\n", good()),
            Failures{"instance 0: kill_latency_max expected <= 100ms, got no kill (the harness "
                     "did not have to stop the worker)"});
}

TEST(expect_test, memory_peaks_and_added) {
  EXPECT_EQ(judge("  peak_rss_max: 300MiB\n  peak_pss_max: 250MiB\n  peak_uss_max: 1GiB\n", good()),
            Failures{});
  EXPECT_EQ(judge("  peak_rss_max: 256MiB\n", good()),
            Failures{"instance 0: peak_rss_max expected <= 256MiB, got 300MiB"});
  EXPECT_EQ(judge("  peak_uss_max: 100MiB\n", good()),
            Failures{"instance 0: peak_uss_max expected <= 100MiB, got 200MiB"});
  EXPECT_EQ(judge("  memory_added_max: 100MiB\n  memory_added_min: 50MiB\n", good()), Failures{});
  EXPECT_EQ(judge("  memory_added_max: 64MiB\n", good()),
            Failures{"instance 0: memory_added_max expected <= 64MiB, got 100MiB"});
  EXPECT_EQ(judge("  memory_added_min: 200MiB\n", good()),
            Failures{"instance 0: memory_added_min expected >= 200MiB, got 100MiB"});
  ProcessResult unmeasured = good();
  unmeasured.memory.ready_rss_kib = -1;
  unmeasured.memory.peak_pss_kib = -1;
  EXPECT_EQ(judge("  memory_added_max: 64MiB\n  peak_pss_max: 1GiB\n", unmeasured),
            (Failures{"instance 0: peak_pss_max expected <= 1GiB, got no measurement",
                      "instance 0: memory_added_max expected <= 64MiB, got no measurement"}));
  EXPECT_TRUE(expect_of("  memory_added_max: 64MiB\n").measures_memory());
  EXPECT_FALSE(expect_of("  exit_code: 0\n").measures_memory());
}

TEST(expect_test, leftover_processes_and_protocol_violations) {
  ProcessResult p = good();
  EXPECT_EQ(judge("  leftover_processes: 0\n  protocol_violations_max: 0\n", p), Failures{});
  p.leftover_processes = 2;
  p.protocol_violations = {"line 3: {\"event\": broken"};
  EXPECT_EQ(judge("  leftover_processes: 0\n  protocol_violations_max: 0\n", p),
            (Failures{"instance 0: leftover_processes expected 0, got 2",
                      "instance 0: protocol_violations_max expected <= 0, got 1 (first: \"line 3: "
                      "{\\\"event\\\": broken\")"}));
}

TEST(expect_test, events_include) {
  EXPECT_EQ(judge("  events_include: [started, ready, result]\n", good()), Failures{});
  EXPECT_EQ(judge("  events_include: [progress]\n", good()),
            Failures{"instance 0: events_include expected a 'progress' event, got [started, "
                     "ready, result]"});
}

TEST(expect_test, stream_byte_counts_exact_and_ranges) {
  ProcessResult p = good();
  p.out.bytes = 10485760;
  EXPECT_EQ(judge("  stdout_bytes: 10MiB\n", p), Failures{});
  EXPECT_EQ(judge("  stdout_bytes: 10485760\n", p), Failures{});
  EXPECT_EQ(judge("  stdout_bytes: 10485761\n", p),
            Failures{"instance 0: stdout_bytes expected 10485761 bytes, got 10485760 bytes"});
  EXPECT_EQ(judge("  stderr_bytes: {max: 10}\n", p),
            Failures{"instance 0: stderr_bytes expected <= 10 bytes, got 11 bytes"});
  EXPECT_EQ(judge("  stderr_bytes: {min: 1KiB}\n", p),
            Failures{"instance 0: stderr_bytes expected >= 1024 bytes, got 11 bytes"});
}

TEST(expect_test, spawn_error_expected_and_unexpected) {
  ProcessResult p;
  p.spawn_error = "cannot run no_such_worker: No such file or directory";
  EXPECT_EQ(judge("  spawn_error: \"No such file\"\n  exit_code: 0\n", p), Failures{});
  EXPECT_EQ(judge("  exit_code: 0\n  status: success\n", p),
            Failures{"instance 0: could not start: cannot run no_such_worker: No such file or "
                     "directory"});
  EXPECT_EQ(judge("  spawn_error: \"Permission\"\n", p),
            Failures{"instance 0: spawn_error expected to match /Permission/, got \"cannot run "
                     "no_such_worker: No such file or directory\""});
  EXPECT_EQ(judge("  spawn_error: \"No such file\"\n", good()),
            Failures{"instance 0: spawn_error expected a failure to start matching /No such "
                     "file/, got a process that ended with 0"});
}

TEST(expect_test, all_succeeded_is_judged_per_run) {
  ProcessResult bad = good(1);
  bad.exit_code = 4;
  ProcessResult killed = good(2);
  killed.exit_code.reset();
  killed.signal = SIGTERM;
  auto x = expect_of("  all_succeeded: true\n");
  EXPECT_EQ(evaluate(x, run_of({good(0), good(1)})), Failures{});
  EXPECT_EQ(evaluate(x, run_of({good(0), bad, killed})),
            Failures{"all_succeeded expected every instance to exit 0, got instance 1 4, "
                     "instance 2 signal SIGTERM"});
}

TEST(expect_test, warmup_runs_are_not_judged) {
  ProcessResult bad = good();
  bad.exit_code = 1;
  ScenarioRun run = run_of({bad});
  run.warmup = true;
  EXPECT_EQ(evaluate(expect_of("  exit_code: 0\n"), run), Failures{});
}

class OutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("harness_expect_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  ProcessResult instance(int index, const std::string& content) {
    ProcessResult p = good(index);
    p.out_dir = (root_ / ("i" + std::to_string(index))).string();
    fs::create_directories(p.out_dir);
    if (!content.empty()) std::ofstream(fs::path(p.out_dir) / "result.json") << content;
    return p;
  }

  fs::path root_;
};

TEST_F(OutputsTest, distinct_valid_outputs_pass) {
  auto x =
      expect_of("  output: result.json\n  outputs_distinct: true\n  output_valid_json: true\n");
  EXPECT_EQ(evaluate(x, run_of({instance(0, "{\"pid\":1}"), instance(1, "{\"pid\":2}")})),
            Failures{});
}

TEST_F(OutputsTest, identical_outputs_fail) {
  auto x = expect_of("  output: result.json\n  outputs_distinct: true\n");
  EXPECT_EQ(evaluate(x, run_of({instance(0, "{\"a\":1}"), instance(1, "{\"a\":1}")})),
            Failures{"outputs_distinct expected different contents, got instances 0 and 1 with "
                     "identical result.json"});
}

TEST_F(OutputsTest, shared_output_path_fails) {
  auto x = expect_of("  output: result.json\n  outputs_distinct: true\n");
  ProcessResult a = instance(0, "{\"a\":1}");
  ProcessResult b = good(1);
  b.out_dir = a.out_dir + "/.";
  EXPECT_EQ(evaluate(x, run_of({a, b})),
            Failures{"outputs_distinct expected separate files, got instances 0 and 1 both "
                     "writing " +
                     (root_ / "i0" / "result.json").string()});
}

TEST_F(OutputsTest, missing_and_invalid_outputs_fail) {
  auto x = expect_of("  output: result.json\n  output_valid_json: true\n");
  ProcessResult missing = instance(0, "");
  ProcessResult invalid = instance(1, "{\"a\":");
  EXPECT_EQ(evaluate(x, run_of({missing, invalid})),
            (Failures{"instance 0: output_valid_json: cannot read " +
                          (root_ / "i0" / "result.json").string() + ": No such file or directory",
                      "instance 1: output_valid_json: " + (root_ / "i1" / "result.json").string() +
                          " is not valid JSON (at byte 5: the text ends inside a JSON value)"}));
}

// Outputs are read in 64 KiB blocks and compared by digest: files of several blocks that
// differ in one byte anywhere are distinct, equal ones are not, and validity spans blocks.
TEST_F(OutputsTest, multi_block_outputs_are_compared_on_every_byte) {
  auto x = expect_of("  output: result.json\n  outputs_distinct: true\n");
  const std::string body(300 * 1024, 'x');
  const std::string same = "[\"" + body + "\"]";
  EXPECT_EQ(evaluate(x, run_of({instance(0, same), instance(1, same)})),
            Failures{"outputs_distinct expected different contents, got instances 0 and 1 with "
                     "identical result.json"});
  for (std::size_t at : {std::size_t{2}, std::size_t{65536}, std::size_t{65537}, body.size()}) {
    std::string other = same;
    other[at] = 'y';
    EXPECT_EQ(evaluate(x, run_of({instance(0, same), instance(1, other)})), Failures{}) << at;
  }
}

TEST_F(OutputsTest, invalid_json_past_the_first_block_is_found) {
  auto x = expect_of("  output: result.json\n  output_valid_json: true\n");
  std::string text = "[\"" + std::string(70000, 'a') + "\x01\"]";  // a raw control character
  EXPECT_EQ(evaluate(x, run_of({instance(0, text)})),
            Failures{"instance 0: output_valid_json: " + (root_ / "i0" / "result.json").string() +
                     " is not valid JSON (at byte 70002: a control character in a string "
                     "(write it as \\u00XX))"});
}

}  // namespace
}  // namespace harness
