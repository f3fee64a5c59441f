// Job streams on real processes: pool workers (fault_worker serve) that crash, hang or are asked
// to cancel, spawn-per-job with the same jobs, a worker that answers twice, and an interrupt in
// the middle of a stream. Bounds are functional (every job accounted for), never speeds.

#include <gtest/gtest.h>

#include "harness/jobs/job_stats.hpp"
#include "harness/jobs/job_stream.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;

JobPlan pool_plan(std::vector<std::string> worker_args, int workers, int count) {
  JobPlan plan;
  plan.spec.mode = "pool";
  plan.spec.workers = workers;
  plan.spec.count = count;
  plan.spec.arrival.kind = ArrivalSpec::Kind::closed;
  plan.spec.arrival.in_flight = workers;
  plan.spec.timeout = 5s;
  plan.ready_timeout = 10s;
  plan.cancel_grace = 2s;
  std::vector<std::string> args = {"--mode", "serve"};
  args.insert(args.end(), worker_args.begin(), worker_args.end());
  plan.pool_process = [args](int) { return test::fault(args); };
  plan.pool_line = [](const JobRecord& j) { return nlohmann::json{{"id", j.id}}.dump(); };
  return plan;
}

JobsResult run(const JobPlan& plan, std::vector<ProcessResult>* processes = nullptr) {
  Supervisor sup;
  JobStreamOutcome out = run_job_stream(sup, plan);
  summarise(out.jobs, {});
  if (processes) *processes = std::move(out.processes);
  return out.jobs;
}

std::string statuses(const JobsResult& r) {
  std::string s;
  for (const auto& j : r.records)
    s += std::to_string(j.id) + ":" + (j.status.empty() ? "?" : j.status) + "/" + j.failure +
         (j.error.empty() ? "" : "(" + j.error + ")") + " ";
  return s;
}

TEST(job_stream_test, a_pool_serves_every_job_once) {
  std::vector<ProcessResult> procs;
  const JobsResult r = run(pool_plan({"--work-ms", "5"}, 2, 20), &procs);
  EXPECT_EQ(r.scheduled, 20u);
  EXPECT_EQ(r.succeeded, 20u) << statuses(r);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.retries, 0u);
  ASSERT_EQ(procs.size(), 2u);  // two workers, started once
  int served[2] = {0, 0};
  for (const auto& j : r.records) {
    EXPECT_EQ(j.attempts, 1);
    ASSERT_TRUE(j.worker == 0 || j.worker == 1);
    ++served[j.worker];
    EXPECT_GE(j.dispatched_ms, j.scheduled_ms);
    EXPECT_GE(j.ended_ms, j.dispatched_ms);
    EXPECT_EQ(j.progress, 1);  // fault_worker sends one progress event per job
  }
  EXPECT_GT(served[0], 0);  // the idle-longest worker gets the next job: both work
  EXPECT_GT(served[1], 0);
  for (const auto& p : procs) EXPECT_EQ(p.exit_code.value_or(-1), 0);  // EOF at the end
}

TEST(job_stream_test, a_crashed_worker_is_restarted_and_its_job_retried) {
  JobPlan plan = pool_plan({"--work-ms", "5", "--crash-on", "3"}, 1, 6);
  plan.spec.retry.max = 2;
  std::vector<ProcessResult> procs;
  const JobsResult r = run(plan, &procs);
  // The worker aborts on its 3rd job each life: jobs 1 2 | 3 (crash) -> 3 4 | 5 (crash) -> 5 6.
  EXPECT_EQ(r.succeeded, 6u) << statuses(r);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.retries, 2u);
  EXPECT_EQ(r.worker_restarts, 2u);
  EXPECT_EQ(r.records[2].attempts, 2);
  EXPECT_EQ(r.records[4].attempts, 2);
  EXPECT_EQ(r.records[3].attempts, 1);
  ASSERT_EQ(procs.size(), 3u);
  EXPECT_EQ(procs[0].signal.value_or(0), SIGABRT);
}

TEST(job_stream_test, without_retries_a_crash_fails_the_job_and_names_the_cause) {
  JobPlan plan = pool_plan({"--work-ms", "5", "--crash-on", "2"}, 1, 3);
  const JobsResult r = run(plan);
  EXPECT_EQ(r.failed, 1u) << statuses(r);
  EXPECT_EQ(r.succeeded, 2u);
  EXPECT_EQ(r.records[1].failure, "crash");
  EXPECT_NE(r.records[1].error.find("SIGABRT"), std::string::npos) << r.records[1].error;
}

TEST(job_stream_test, a_stuck_worker_times_out_is_replaced_and_the_job_retried) {
  JobPlan plan = pool_plan({"--work-ms", "5", "--hang-on", "2"}, 1, 3);
  plan.spec.timeout = 500ms;
  plan.spec.retry.max = 1;
  plan.spec.retry.on = {"timeout"};
  plan.spec.count = 3;
  std::vector<ProcessResult> procs;
  const auto start = std::chrono::steady_clock::now();
  const JobsResult r = run(plan, &procs);
  // Each worker hangs on its 2nd job: 1 2 (hangs, times out) | 2 3 (hangs) | 3.
  EXPECT_EQ(r.succeeded, 3u) << statuses(r);
  EXPECT_EQ(r.retries, 2u);
  EXPECT_EQ(r.records[0].attempts, 1);
  EXPECT_EQ(r.records[1].attempts, 2);
  EXPECT_EQ(r.records[2].attempts, 2);
  EXPECT_EQ(r.records[1].failure, "timeout");  // the last failed attempt's, kept on success
  ASSERT_EQ(procs.size(), 3u);
  EXPECT_TRUE(procs[0].stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // 0.5 s timeout, not forever
  EXPECT_TRUE(test::survivors(-1).empty());
}

TEST(job_stream_test, a_cancelled_job_is_answered_cancelled_and_the_worker_serves_on) {
  JobPlan plan = pool_plan({"--work-ms", "800"}, 1, 3);
  plan.spec.cancel.jobs = {2};
  plan.spec.cancel.after = 100ms;
  std::vector<ProcessResult> procs;
  const JobsResult r = run(plan, &procs);
  EXPECT_EQ(r.succeeded, 2u) << statuses(r);
  EXPECT_EQ(r.cancelled, 1u);
  EXPECT_EQ(r.records[1].status, "cancelled");
  EXPECT_TRUE(r.records[1].cancel_sent);
  EXPECT_LT(r.records[1].ended_ms - r.records[1].dispatched_ms, 700);  // not its full 800 ms
  EXPECT_EQ(procs.size(), 1u);  // no restart: the worker answered the cancel
}

TEST(job_stream_test, spawn_runs_a_process_per_job_with_at_most_workers_at_once) {
  JobPlan plan;
  plan.spec.mode = "spawn";
  plan.spec.workers = 2;
  plan.spec.count = 6;
  plan.spec.arrival.kind = ArrivalSpec::Kind::constant;
  plan.spec.arrival.rate = 50;
  plan.spec.timeout = 5s;
  plan.inputs = {"a", "b", "c"};
  plan.spawn_process = [](const JobRecord& j) {
    // Job 4 fails with exit 3; the rest succeed after 50 ms.
    if (j.id == 4) return test::fault({"--mode", "exit", "--code", "3"});
    return test::fault({"--mode", "success", "--work-ms", "50"});
  };
  std::vector<ProcessResult> procs;
  const JobsResult r = run(plan, &procs);
  EXPECT_EQ(procs.size(), 6u);
  EXPECT_EQ(r.succeeded, 5u) << statuses(r);
  EXPECT_EQ(r.records[3].failure, "exit");
  EXPECT_NE(r.records[3].error.find("exit 3"), std::string::npos) << r.records[3].error;
  EXPECT_EQ(r.records[0].input, "a");
  EXPECT_EQ(r.records[3].input, "a");  // inputs are cycled
  // Never more than two at once: sort the process lifetimes and sweep.
  std::vector<std::pair<double, int>> edges;
  for (const auto& j : r.records) {
    edges.emplace_back(j.dispatched_ms, 1);
    edges.emplace_back(j.ended_ms, -1);
  }
  std::sort(edges.begin(), edges.end());
  int at_once = 0, most = 0;
  for (const auto& [t, d] : edges) most = std::max(most, at_once += d);
  EXPECT_LE(most, 2);
}

TEST(job_stream_test, a_second_answer_is_a_duplicate_and_an_unknown_one_is_stray) {
  JobPlan plan;
  plan.spec.mode = "pool";
  plan.spec.workers = 1;
  plan.spec.count = 2;
  plan.spec.timeout = 5s;
  plan.pool_process = [](int) {
    ProcessSpec s;
    // A worker that answers each job twice and also for a job 99 that was never sent.
    s.argv = {"/bin/sh", "-c",
              "echo '{\"event\":\"ready\"}'; while read l; do id=${l#*:}; id=${id%\\}}; "
              "echo '{\"event\":\"result\",\"status\":\"success\",\"job\":'$id'}'; "
              "echo '{\"event\":\"result\",\"status\":\"success\",\"job\":'$id'}'; "
              "echo '{\"event\":\"result\",\"status\":\"success\",\"job\":99}'; done"};
    s.timeout = 10s;
    return s;
  };
  plan.pool_line = [](const JobRecord& j) { return "{\"id\":" + std::to_string(j.id) + "}"; };
  const JobsResult r = run(plan);
  EXPECT_EQ(r.succeeded, 2u) << statuses(r);
  EXPECT_EQ(r.duplicates, 2u);
  EXPECT_EQ(r.stray, 2u);
}

// Interrupts the harness (as SIGINT does) when the n-th job started work: job n-1 is done, job n
// is running, whatever the machine's speed.
struct InterruptAtProgress : ProcessObserver {
  InterruptAtProgress(Supervisor& s, int n) : sup(s), at(n) {}
  void on_event(int, const Event& e) override {
    if (e.type == "progress" && ++seen == at) sup.cancel();
  }
  Supervisor& sup;
  int at;
  int seen = 0;
};

TEST(job_stream_test, an_interrupt_leaves_every_job_with_its_state) {
  JobPlan plan = pool_plan({"--work-ms", "300"}, 1, 0);
  plan.spec.count = 20;
  plan.spec.arrival.kind = ArrivalSpec::Kind::constant;
  plan.spec.arrival.rate = 10;
  Supervisor sup;
  InterruptAtProgress interrupt(sup, 2);
  JobStreamOutcome out = run_job_stream(sup, plan, &interrupt);
  summarise(out.jobs, {});
  const JobsResult& r = out.jobs;
  EXPECT_EQ(r.scheduled, 20u);  // the 20 scheduled jobs are all in the records
  EXPECT_EQ(r.succeeded, 1u) << statuses(r);
  EXPECT_EQ(r.interrupted, 1u) << statuses(r);
  EXPECT_EQ(r.succeeded + r.interrupted + r.not_run, 20u) << statuses(r);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(test::survivors(-1).empty());
}

TEST(job_stream_test, an_interrupted_closed_loop_keeps_the_jobs_it_did_not_start) {
  JobPlan plan = pool_plan({"--work-ms", "300"}, 1, 10);
  Supervisor sup;
  InterruptAtProgress interrupt(sup, 2);
  JobStreamOutcome out = run_job_stream(sup, plan, &interrupt);
  summarise(out.jobs, {});
  const JobsResult& r = out.jobs;
  EXPECT_EQ(r.scheduled, 10u) << statuses(r);
  EXPECT_EQ(r.interrupted, 1u) << statuses(r);
  EXPECT_EQ(r.succeeded + r.interrupted + r.not_run, 10u) << statuses(r);
  EXPECT_EQ(r.succeeded, 1u) << statuses(r);
  EXPECT_EQ(r.not_run, 8u) << statuses(r);
}

TEST(job_stream_test, a_pool_worker_that_cannot_start_fails_the_jobs_with_the_reason) {
  JobPlan plan = pool_plan({}, 1, 3);
  plan.pool_process = [](int) { return test::fault({"--mode", "exit", "--code", "4"}); };
  const JobsResult r = run(plan);
  EXPECT_EQ(r.failed, 3u) << statuses(r);
  EXPECT_EQ(r.records[0].failure, "spawn");
  EXPECT_NE(r.records[0].error.find("before `ready` 3 times"), std::string::npos)
      << r.records[0].error;
}

}  // namespace
}  // namespace harness
