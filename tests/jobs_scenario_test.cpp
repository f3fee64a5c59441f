// The `jobs:` section and `expect.jobs`: what loads, and every mistake named at its file:line:col.

#include <algorithm>

#include <gtest/gtest.h>

#include "harness/judge/jobs_expect.hpp"
#include "harness/scenario/scenario.hpp"

using namespace std::chrono_literals;

namespace harness {
namespace {

const std::string kHead = "schema: 1\nname: t\nworker:\n  command: [prog, \"${JOB}\"]\n";

std::vector<std::string> errors_of(const std::string& text) {
  try {
    parse_scenario(text, "x.yaml");
  } catch (const ScenarioError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

std::string only_error(const std::string& text) {
  auto errors = errors_of(text);
  EXPECT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  return errors.empty() ? "" : errors[0];
}

TEST(jobs_scenario_test, a_full_jobs_section_loads) {
  const Scenario s = parse_scenario(kHead + R"(jobs:
  mode: spawn
  workers: 3
  count: 150
  inputs: ["a.jpg", "${SCENARIO_DIR}/*.png"]
  template: {input: "${INPUT}", output: "${OUT}/job${JOB}.json", max_frames: 1}
  command: [prog, --input, "${INPUT}"]
  arrival: {poisson: 120/min, seed: 9}
  timeout: 3s
  retry: {max: 2, on: [crash, exit], backoff: 50ms}
  cancel: {jobs: [3, 5], after: 1s}
  min_jobs: 100
  min_duration: 10s
expect:
  jobs: {succeeded: 95%, lost_max: 0, latency_p99_max: 2s, queue_wait_p50_max: 100ms, throughput_min: 1.5/s, valid: true}
)",
                                    "x.yaml");
  ASSERT_TRUE(s.jobs);
  const JobsSpec& j = *s.jobs;
  EXPECT_EQ(j.mode, "spawn");
  EXPECT_EQ(j.workers, 3);
  EXPECT_EQ(j.count, 150);
  EXPECT_EQ(j.inputs.size(), 2u);
  EXPECT_EQ(j.line_template["max_frames"], 1);
  EXPECT_EQ(j.spawn_command.size(), 3u);
  EXPECT_EQ(j.arrival.kind, ArrivalSpec::Kind::poisson);
  EXPECT_DOUBLE_EQ(j.arrival.rate, 2.0);
  EXPECT_EQ(j.arrival.seed, 9u);
  EXPECT_EQ(j.timeout, 3s);
  EXPECT_EQ(j.retry.max, 2);
  EXPECT_EQ(j.retry.on, (std::vector<std::string>{"crash", "exit"}));
  EXPECT_EQ(j.retry.backoff, 50ms);
  EXPECT_EQ(j.cancel.jobs, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(j.cancel.after, 1s);
  EXPECT_EQ(j.min_jobs, 100);
  EXPECT_EQ(j.min_duration, 10s);
  const JobsExpect* x = s.expect.get<JobsExpect>("jobs");
  ASSERT_NE(x, nullptr);
  EXPECT_DOUBLE_EQ(*x->succeeded_share, 0.95);
  EXPECT_EQ(*x->lost_max, 0);
  EXPECT_EQ(x->percentile_max.at("latency_p99_max"), 2000);
  EXPECT_EQ(x->percentile_max.at("queue_wait_p50_max"), 100);
  EXPECT_DOUBLE_EQ(*x->throughput_min, 1.5);
  EXPECT_DOUBLE_EQ(x->tail_percentile(), 99);
}

TEST(jobs_scenario_test, defaults_are_a_closed_loop_of_one_pool_worker) {
  const Scenario s = parse_scenario(kHead + "jobs: {count: 5}\n", "x.yaml");
  ASSERT_TRUE(s.jobs);
  EXPECT_EQ(s.jobs->mode, "pool");
  EXPECT_EQ(s.jobs->workers, 1);
  EXPECT_EQ(s.jobs->arrival.kind, ArrivalSpec::Kind::closed);
  EXPECT_EQ(s.jobs->arrival.in_flight, 1);
  EXPECT_EQ(s.jobs->retry.max, 0);
}

TEST(jobs_scenario_test, mistakes_are_named_at_their_place) {
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5, mode: fifo}\n"),
            "x.yaml:5:24: error: 'jobs.mode' must be spawn (a process per job), pool (persistent "
            "workers fed a line per job) or queue (a Redis stream served by agents), got 'fifo'");
  EXPECT_EQ(only_error(kHead + "jobs:\n  count: 5\n  duration: 1s\n"),
            "x.yaml:6:3: error: 'jobs' gives both 'count' and 'duration'; keep one");
  EXPECT_EQ(only_error(kHead + "jobs: {workers: 2}\n"),
            "x.yaml:5:7: error: 'jobs' needs 'count: N' (jobs in all) or 'duration: 60s' (jobs "
            "until then)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5, arival: {closed: 2}}\n"),
            "x.yaml:5:18: error: unknown key 'arival' in 'jobs' (did you mean 'arrival'?)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5, arrival: {poisson: fast}}\n"),
            "x.yaml:5:37: error: 'jobs.arrival.poisson' must be a rate such as 4/s, 0.5/s or "
            "120/min (0.001/s to 100000/s), got 'fast'");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5, arrival: {closed: 1, poisson: 2/s}}\n"),
            "x.yaml:5:27: error: 'jobs.arrival' needs exactly one of closed: N (N jobs in "
            "flight), constant: R/s or poisson: R/s (or find_peak)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5, retry: {on: [crash, timout]}}\n"),
            "x.yaml:5:30: error: 'jobs.retry.on' names 'timout', not a failure (did you mean "
            "'timeout'?); failures: crash, timeout, exit, error, spawn, dead_letter");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5}\nrun: {instances: 2}\n"),
            "x.yaml:5:7: error: 'run.instances' does not apply to a job stream; 'jobs.workers' "
            "sets how many processes serve it");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5}\nmatrix: {mode: [spawn, fork]}\n"),
            "x.yaml:5:7: error: matrix 'mode' values must be spawn, pool or queue, got \"fork\"");
  const std::string var = only_error(kHead + "jobs: {count: 5, template: {input: \"${INPT}\"}}\n");
  EXPECT_NE(var.find("unknown variable ${INPT} in 'jobs.template.input' (did you mean ${INPUT}?)"),
            std::string::npos)
      << var;
}

TEST(jobs_scenario_test, job_variables_are_only_known_with_a_jobs_section) {
  const auto errors = errors_of("schema: 1\nname: t\nworker:\n  command: [prog, \"${JOB}\"]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("unknown variable ${JOB}"), std::string::npos) << errors[0];
}

TEST(jobs_scenario_test, expect_jobs_mistakes_are_named) {
  const std::string head = kHead + "jobs: {count: 5}\nexpect:\n  jobs: ";
  EXPECT_EQ(only_error(head + "{succeeded: most}\n"),
            "x.yaml:7:21: error: 'expect.jobs.succeeded' must be all, a count or a share like 95%, "
            "got 'most'");
  EXPECT_EQ(only_error(head + "{latency_p98_max: 1s}\n"),
            "x.yaml:7:10: error: unknown key 'latency_p98_max' in 'expect.jobs' (did you mean "
            "'latency_p90_max'?)");
  EXPECT_EQ(only_error(head + "{throughput_min: lots}\n"),
            "x.yaml:7:26: error: 'expect.jobs.throughput_min' must be a rate such as 4/s, got "
            "'lots'");
}

TEST(jobs_scenario_test, the_ctest_bound_covers_every_attempt) {
  // 10 jobs, 1 worker, a 2 s timeout plus 1 s grace and 2 s slack, twice each (one retry): at
  // least 10 x 2 x 5 s = 100 s beyond the startup, plus the pool worker's start.
  const Scenario s = parse_scenario(
      "schema: 1\nname: t\nworker:\n  command: [prog]\n  timeout: 7s\n  grace: 1s\n"
      "jobs: {count: 10, timeout: 2s, retry: {max: 1}}\n",
      "x.yaml");
  EXPECT_GE(run_time_bound(s), 100s + 8s);
}

TEST(jobs_scenario_test, queue_mode_loads_its_broker_lease_and_deliveries) {
  const Scenario d =
      parse_scenario(kHead + "jobs: {mode: queue, workers: 3, count: 4}\n", "x.yaml");
  ASSERT_TRUE(d.jobs);
  EXPECT_EQ(d.jobs->mode, "queue");
  EXPECT_EQ(d.jobs->workers, 3);
  EXPECT_EQ(d.jobs->queue.redis, "auto");
  EXPECT_EQ(d.jobs->queue.lease, 10s);
  EXPECT_EQ(d.jobs->queue.max_deliveries, 3);

  const Scenario s =
      parse_scenario(kHead +
                         "jobs:\n  mode: queue\n  count: 4\n"
                         "  queue: {redis: \"redis://:pw@10.0.0.1:6380/2\", lease: 500ms, "
                         "max_deliveries: 1}\n",
                     "x.yaml");
  EXPECT_EQ(s.jobs->queue.redis, "redis://:pw@10.0.0.1:6380/2");
  EXPECT_EQ(s.jobs->queue.lease, 500ms);
  EXPECT_EQ(s.jobs->queue.max_deliveries, 1);

  const auto errors = errors_of(kHead +
                                "jobs:\n  mode: queue\n  count: 4\n"
                                "  queue: {redis: \"http://x\", lease: 10ms, max_deliveries: 0, "
                                "leese: 1s}\n");
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  for (const char* expected :
       {"x.yaml:8:18: error: 'jobs.queue.redis' must be auto (a private redis-server for the run) "
        "or a Redis URL: ",
        "x.yaml:8:37: error: 'jobs.queue.lease' must be between 100ms",
        "x.yaml:8:59: error: 'jobs.queue.max_deliveries'",
        "x.yaml:8:62: error: unknown key 'leese' in 'jobs.queue' (did you mean 'lease'?)"})
    EXPECT_TRUE(std::any_of(errors.begin(), errors.end(),
                            [&](const std::string& e) { return e.rfind(expected, 0) == 0; }))
        << expected << "\n"
        << ::testing::PrintToString(errors);
}

TEST(jobs_scenario_test, agents_started_elsewhere_need_a_broker_url_and_a_queue_name) {
  const Scenario s = parse_scenario(kHead +
                                        "jobs:\n  mode: queue\n  workers: 0\n  count: 4\n"
                                        "  queue: {redis: \"redis://10.0.0.1\", name: nightly-1}\n",
                                    "x.yaml");
  EXPECT_EQ(s.jobs->workers, 0);
  EXPECT_EQ(s.jobs->queue.name, "nightly-1");
  EXPECT_EQ(s.jobs->queue.agent_mode, "spawn");
  EXPECT_EQ(
      parse_scenario(kHead + "jobs: {mode: queue, count: 4, queue: {agent_mode: pool}}\n", "x.yaml")
          .jobs->queue.agent_mode,
      "pool");
  EXPECT_EQ(errors_of(kHead + "jobs: {mode: queue, count: 4, queue: {agent_mode: fork}}\n"),
            std::vector<std::string>{
                "x.yaml:5:51: error: 'jobs.queue.agent_mode' must be spawn (a process per job) "
                "or pool (each agent feeds a persistent worker), got 'fork'"});

  EXPECT_EQ(errors_of(kHead + "jobs:\n  mode: queue\n  workers: 0\n  count: 4\n"),
            std::vector<std::string>{
                "x.yaml:7:12: error: 'jobs.workers: 0' means agents started elsewhere serve the "
                "jobs; give them a broker they can reach and a queue they can name: "
                "'jobs.queue.redis' as a URL and 'jobs.queue.name'"});
  EXPECT_EQ(errors_of(kHead + "jobs:\n  mode: pool\n  workers: 0\n  count: 4\n"),
            std::vector<std::string>{"x.yaml:7:12: error: 'jobs.workers: 0' (agents started "
                                     "elsewhere) is for 'mode: queue'; mode pool needs at least 1 "
                                     "worker"});
  const auto bad_name = errors_of(kHead +
                                  "jobs:\n  mode: queue\n  count: 4\n"
                                  "  queue: {name: \"a b:c\"}\n");
  ASSERT_EQ(bad_name.size(), 1u) << ::testing::PrintToString(bad_name);
  EXPECT_EQ(bad_name[0],
            "x.yaml:8:17: error: 'jobs.queue.name' must be 1-64 letters, digits, '-', '_' or '.' "
            "(the keys harness:NAME:...), got 'a b:c'");
}

TEST(jobs_scenario_test, faults_load_in_order_and_mistakes_are_named) {
  const Scenario s = parse_scenario(kHead + R"(jobs:
  mode: queue
  count: 4
  faults:
    - {at: 1500ms, kill_agent: 0}
    - {at: 2s, kill_worker: any}
    - {at: 3s, restart_broker: true}
    - {at: 4s, restart_broker: 500ms}
)",
                                    "x.yaml");
  ASSERT_EQ(s.jobs->faults.size(), 4u);
  EXPECT_EQ(s.jobs->faults[0].kind, FaultStep::Kind::kill_agent);
  EXPECT_EQ(s.jobs->faults[0].at, 1500ms);
  EXPECT_EQ(s.jobs->faults[0].target, 0);
  EXPECT_EQ(s.jobs->faults[1].kind, FaultStep::Kind::kill_worker);
  EXPECT_EQ(s.jobs->faults[1].target, -1);
  EXPECT_EQ(s.jobs->faults[2].kind, FaultStep::Kind::restart_broker);
  EXPECT_EQ(s.jobs->faults[2].down, 0ms);
  EXPECT_EQ(s.jobs->faults[3].down, 500ms);

  EXPECT_EQ(only_error(kHead + "jobs: {count: 4, faults: {at: 1s}}\n"),
            "x.yaml:5:26: error: 'jobs.faults' must be a list such as [{at: 2s, kill_agent: 0}], "
            "got a map");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 4, faults: [{kill_agent: 0}]}\n"),
            "x.yaml:5:27: error: 'jobs.faults[0]' needs 'at': when the fault happens, e.g. at: 2s");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 4, faults: [{at: 1s, kill_agent: 0, "
                               "kill_worker: 1}]}\n"),
            "x.yaml:5:27: error: 'jobs.faults[0]' needs exactly one of kill_agent: N|any, "
            "kill_worker: N|any, restart_broker: true|D");
  EXPECT_NE(only_error(kHead + "jobs: {count: 4, faults: [{at: 1s, kill_agent: some}]}\n")
                .find("'jobs.faults[0].kill_agent' must be"),
            std::string::npos);
  const auto typo = errors_of(kHead + "jobs: {count: 4, faults: [{at: 1s, kil_agent: 0}]}\n");
  ASSERT_EQ(typo.size(), 2u) << ::testing::PrintToString(typo);
  EXPECT_NE(typo[0].find("unknown key 'kil_agent' in 'jobs.faults[0]' (did you mean "
                         "'kill_agent'?)"),
            std::string::npos)
      << typo[0];
  EXPECT_NE(typo[1].find("needs exactly one of"), std::string::npos) << typo[1];
}

TEST(jobs_scenario_test, a_peak_search_loads_with_its_defaults_and_bounds) {
  const Scenario s = parse_scenario(kHead + R"(jobs:
  count: 700
  arrival: {poisson: find_peak, latency_p99_max: 2s, seed: 4}
)",
                                    "x.yaml");
  ASSERT_TRUE(s.jobs && s.jobs->arrival.peak);
  const PeakSearchSpec& p = *s.jobs->arrival.peak;
  EXPECT_EQ(p.key, "latency_p99_max");
  EXPECT_DOUBLE_EQ(p.percentile, 99);
  EXPECT_DOUBLE_EQ(p.bound_ms, 2000);
  EXPECT_DOUBLE_EQ(p.from, 1);
  EXPECT_DOUBLE_EQ(p.to, 1000);
  EXPECT_DOUBLE_EQ(p.precision, 0.1);
  EXPECT_EQ(p.max_points, 12);
  EXPECT_EQ(s.jobs->arrival.kind, ArrivalSpec::Kind::poisson);
  EXPECT_DOUBLE_EQ(s.jobs->arrival.rate, 1);  // the first rate, for the CTest bound
  EXPECT_EQ(describe_arrival(s.jobs->arrival),
            "poisson find_peak p99 <= 2s from 1/s to 1000/s seed 4");

  const Scenario t = parse_scenario(kHead + R"(jobs:
  count: 64
  arrival: {constant: find_peak, latency_p90_max: 150ms, from: 2/s, to: 30/s, precision: 5%, points: 7}
)",
                                    "x.yaml");
  const PeakSearchSpec& q = *t.jobs->arrival.peak;
  EXPECT_DOUBLE_EQ(q.percentile, 90);
  EXPECT_DOUBLE_EQ(q.bound_ms, 150);
  EXPECT_DOUBLE_EQ(q.from, 2);
  EXPECT_DOUBLE_EQ(q.to, 30);
  EXPECT_DOUBLE_EQ(q.precision, 0.05);
  EXPECT_EQ(q.max_points, 7);
  // Up to 7 streams of 64 jobs, none slower than 2/s: at least 7 x 32 s of schedule.
  EXPECT_GE(run_time_bound(t), 7 * 32s);
}

TEST(jobs_scenario_test, peak_search_mistakes_are_named_at_their_place) {
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p99_max: 2s}}\n"),
            "x.yaml:5:7: error: a peak search on latency_p99_max needs at least 662 jobs at each "
            "rate for the p99 to be valid at 99 % confidence; 'jobs.count' is 100");
  EXPECT_EQ(only_error(kHead + "jobs: {duration: 10s, arrival: {poisson: find_peak, "
                               "latency_p50_max: 2s}}\n"),
            "x.yaml:5:7: error: a peak search (find_peak) runs 'jobs.count' jobs at each rate; "
            "give count, not duration");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak}}\n"),
            "x.yaml:5:29: error: 'jobs.arrival' with find_peak needs exactly one latency bound, "
            "such as latency_p99_max: 2s (latency_p50_max, _p90_, _p95_, _p99_ or _p999_)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, latency_p90_max: 2s}}\n"),
            "x.yaml:5:29: error: 'jobs.arrival' with find_peak needs exactly one latency bound, "
            "such as latency_p99_max: 2s (latency_p50_max, _p90_, _p95_, _p99_ or _p999_)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: 2/s, "
                               "latency_p50_max: 1s}}\n"),
            "x.yaml:5:61: error: 'jobs.arrival.latency_p50_max' belongs to a peak search: write "
            "poisson: find_peak (or constant: find_peak) beside it");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, from: 20/s, to: 10/s}}\n"),
            "x.yaml:5:29: error: 'jobs.arrival.from' (20/s) must be below 'jobs.arrival.to' "
            "(10/s)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, precision: 0%}}\n"),
            "x.yaml:5:82: error: 'jobs.arrival.precision' must be a share from 1% to 100%, got "
            "'0%'");
  // A value parse_percent rejects used to escape as std::invalid_argument (found by the
  // scenario fuzzer; fuzz/regressions/scenario/peak-precision-not-a-percent.yaml).
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, precision: stdout_matches:15%}}\n"),
            "x.yaml:5:82: error: 'jobs.arrival.precision' must be a percentage such as 50%, from "
            "0% to 100%, got 'stdout_matches:15%'");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, precision: 0.1}}\n"),
            "x.yaml:5:82: error: 'jobs.arrival.precision' must be a percentage such as 50%, from "
            "0% to 100%, got '0.1'");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s}}\nrun: {repeat: 2}\n"),
            "x.yaml:5:7: error: 'run.repeat' and 'run.warmup' do not apply to a peak search: "
            "each rate it tries is one run");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 100, arrival: {poisson: find_peak, "
                               "latency_p50_max: 1s, form: 2/s}}\n"),
            "x.yaml:5:71: error: unknown key 'form' in 'jobs.arrival' (did you mean 'from'?)");
  EXPECT_EQ(only_error(kHead + "jobs: {count: 5}\nexpect:\n  jobs: {peak_min: many}\n"),
            "x.yaml:7:20: error: 'expect.jobs.peak_min' must be a rate such as 20/s, got 'many'");
}

}  // namespace
}  // namespace harness
