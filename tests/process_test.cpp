// The supervisor against real processes: one test per fault_worker behaviour, each checking
// what the runner reports and that nothing the run started is left behind.

#include "harness/supervise/supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/supervise/sampler.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;
using test::alive;
using test::fault;
using test::survivors;

ProcessResult run_one(const ProcessSpec& spec) {
  Supervisor sup;
  auto results = sup.run({spec});
  EXPECT_EQ(results.size(), 1u);
  return results.at(0);
}

std::vector<std::string> event_types(const ProcessResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events) out.push_back(e.type);
  return out;
}

const Event* find_event(const ProcessResult& r, const std::string& type) {
  for (const auto& e : r.events)
    if (e.type == type) return &e;
  return nullptr;
}

TEST(process_test, success_reports_events_exit_and_memory) {
  auto dir = std::filesystem::temp_directory_path() / ("proc_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto out = (dir / "result.json").string();
  auto r = run_one(fault({"--mode", "success", "--output", out, "--work-ms", "150"}));
  EXPECT_TRUE(r.spawn_error.empty()) << r.spawn_error;
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_FALSE(r.signal.has_value());
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"started", "ready", "progress", "progress",
                                                      "progress", "result"}));
  EXPECT_EQ(r.events.at(0).body.at("pid").get<int>(), r.pid);
  ASSERT_TRUE(r.ready_ms.has_value());
  EXPECT_GE(*r.ready_ms, 0.0);
  EXPECT_EQ(r.out.lines, 7u);  // six events and one log line
  EXPECT_NE(r.out.tail.find("a log line between events"), std::string::npos);
  EXPECT_TRUE(r.protocol_violations.empty());
  EXPECT_FALSE(r.timed_out);
  EXPECT_GT(r.wall_s, 0.1);
  EXPECT_TRUE(std::filesystem::exists(out));
  const auto& m = r.memory;
  EXPECT_FALSE(m.samples.empty());
  EXPECT_GT(m.maxrss_kib, 0);
  EXPECT_GE(m.peak_rss_kib, m.maxrss_kib);
  EXPECT_GT(m.ready_rss_kib, 0);
  EXPECT_GT(m.ready_pss_kib, 0);
  EXPECT_GT(m.ready_uss_kib, 0);
  EXPECT_GT(m.final_pss_kib, 0);  // sampled at the result event
  EXPECT_GT(m.baseline_rss_kib, 0);
  EXPECT_TRUE(survivors(r.pid).empty());
  std::filesystem::remove_all(dir);
}

TEST(process_test, exit_code_and_stderr_message) {
  auto r = run_one(fault({"--mode", "exit", "--code", "7", "--message", "model file is corrupt"}));
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 7);
  EXPECT_NE(r.err.tail.find("model file is corrupt"), std::string::npos) << r.err.tail;
  EXPECT_EQ(r.err.lines, 1u);
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(process_test, uncaught_exception_is_sigabrt_with_message) {
  auto r = run_one(fault({"--mode", "throw", "--message", "tensor shape mismatch"}));
  ASSERT_TRUE(r.signal.has_value()) << "exit code " << r.exit_code.value_or(-1);
  EXPECT_EQ(*r.signal, SIGABRT);
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_NE(r.err.tail.find("tensor shape mismatch"), std::string::npos) << r.err.tail;
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(process_test, abort_is_sigabrt) {
  auto r = run_one(fault({"--mode", "abort"}));
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGABRT);
}

TEST(process_test, null_write_is_sigsegv) {
  auto r = run_one(fault({"--mode", "segv"}));
  ASSERT_TRUE(r.signal.has_value()) << "exit code " << r.exit_code.value_or(-1);
  EXPECT_EQ(*r.signal, SIGSEGV);
  EXPECT_EQ(signal_name(*r.signal), "SIGSEGV");
}

TEST(process_test, raised_sigsegv_is_sigsegv) {
  auto r = run_one(fault({"--mode", "segv", "--raise"}));
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGSEGV);
}

TEST(process_test, hang_times_out_with_sigterm) {
  auto spec = fault({"--mode", "hang"});
  spec.timeout = 300ms;
  spec.grace = 5s;
  auto begin = std::chrono::steady_clock::now();
  auto r = run_one(spec);
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGTERM);
  EXPECT_EQ(r.kill_signal, "SIGTERM");
  ASSERT_TRUE(r.kill_latency_ms.has_value());
  EXPECT_GE(*r.kill_latency_ms, 0.0);
  EXPECT_LT(*r.kill_latency_ms, 2000.0);  // SIGTERM sufficed: far below the 5 s grace
  EXPECT_GE(r.wall_s, 0.3);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(r.ready_ms.has_value());
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(process_test, sigterm_ignoring_tree_is_sigkilled_after_grace) {
  auto spec = fault({"--mode", "ignore-term", "--children", "3"});
  spec.timeout = 300ms;
  spec.grace = 300ms;
  auto begin = std::chrono::steady_clock::now();
  auto r = run_one(spec);
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_TRUE(r.timed_out);
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGKILL);
  EXPECT_EQ(r.kill_signal, "SIGKILL");
  EXPECT_TRUE(r.kill_latency_ms.has_value());
  EXPECT_LT(took, 10s);
  EXPECT_GE(r.wall_s, 0.6);  // deadline plus grace
  const Event* ready = find_event(r, "ready");
  ASSERT_NE(ready, nullptr);
  ASSERT_EQ(ready->body.at("children").size(), 3u);
  for (int child : ready->body.at("children")) EXPECT_FALSE(alive(child)) << child;
  EXPECT_EQ(r.memory.samples.empty() ? 0 : r.memory.samples.back().processes, 4);
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(process_test, escaped_grandchild_holding_stdout_is_killed_and_counted) {
  auto spec = fault({"--mode", "escape", "--seconds", "3600"});
  auto begin = std::chrono::steady_clock::now();
  auto r = run_one(spec);
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_LT(took, 10s);  // the grandchild would hold stdout for an hour
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.leftover_processes, 1);
  const Event* esc = find_event(r, "escaped");
  ASSERT_NE(esc, nullptr);
  int grandchild = esc->body.at("pid").get<int>();
  EXPECT_FALSE(alive(grandchild));
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(process_test, flood_of_500_mib_keeps_harness_memory_bounded) {
  const long long bytes = 500LL << 20;
  auto spec = fault({"--mode", "flood", "--bytes", std::to_string(bytes)});
  std::int64_t before = self_rss_kib();
  auto r = run_one(spec);
  std::int64_t after = self_rss_kib();
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_EQ(r.out.bytes, static_cast<std::uint64_t>(bytes));
  EXPECT_EQ(r.out.lines, static_cast<std::uint64_t>((bytes + 99) / 100));
  EXPECT_EQ(r.out.tail.size(), spec.tail_bytes);
  EXPECT_TRUE(r.out.truncated);
  EXPECT_LT(after - before, 64 * 1024)
      << "harness RSS grew from " << before << " to " << after << " KiB";
}

TEST(process_test, flood_on_both_streams_counts_every_byte) {
  auto spec = fault({"--mode", "flood", "--stream", "both", "--bytes", "3000001"});
  spec.tail_bytes = 1000;
  auto r = run_one(spec);
  EXPECT_EQ(r.out.bytes, 3000001u);
  EXPECT_EQ(r.err.bytes, 3000001u);
  EXPECT_EQ(r.out.tail.size(), 1000u);
  EXPECT_EQ(r.err.tail.size(), 1000u);
}

TEST(process_test, endless_line_is_counted_not_buffered) {
  auto spec = fault({"--mode", "flood", "--line-bytes", "0", "--bytes", std::to_string(8 << 20)});
  auto r = run_one(spec);
  EXPECT_EQ(r.out.bytes, 8u << 20);
  EXPECT_EQ(r.out.lines, 1u);
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.protocol_violations.empty());
}

TEST(process_test, garbage_output_gives_violations_not_a_crash) {
  auto r = run_one(fault({"--mode", "garbage"}));
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"result"}));
  EXPECT_EQ(r.protocol_violations.size(), 3u);  // numeric event, truncated, invalid UTF-8
  EXPECT_EQ(r.out.lines, 8u);
  EXPECT_NE(r.err.tail.find("stderr garbage"), std::string::npos);
}

TEST(process_test, memory_growth_is_seen_by_samples_and_rusage) {
  auto spec = fault({"--mode", "grow", "--mib", "96", "--rate", "400", "--hold-ms", "100"});
  auto r = run_one(spec);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  const auto& m = r.memory;
  EXPECT_GE(m.maxrss_kib, 96 * 1024);
  EXPECT_GE(m.peak_rss_kib, 96 * 1024);
  EXPECT_GE(m.hwm_kib, 96 * 1024);
  EXPECT_GE(m.final_uss_kib, 90 * 1024);  // read at the result event, memory still held
  EXPECT_GE(m.peak_uss_kib, m.final_uss_kib);
  EXPECT_LT(m.ready_rss_kib, m.peak_rss_kib - 64 * 1024);
  EXPECT_GT(m.samples.size(), 5u);
  for (std::size_t i = 1; i < m.samples.size(); ++i)
    EXPECT_GE(m.samples[i].t_ms, m.samples[i - 1].t_ms);
}

TEST(process_test, stdin_is_fed_then_closed) {
  auto spec = fault({"--mode", "stdin"});
  spec.stdin_data = std::string(300000, 'x');
  auto r = run_one(spec);
  const Event* res = find_event(r, "result");
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->body.at("stdin_bytes").get<long long>(), 300000);
}

TEST(process_test, stdin_closed_by_default) {
  auto r = run_one(fault({"--mode", "stdin"}));
  const Event* res = find_event(r, "result");
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->body.at("stdin_bytes").get<long long>(), 0);
}

TEST(process_test, worker_that_ignores_stdin_does_not_hurt_the_harness) {
  auto spec = fault({"--mode", "exit", "--code", "0"});
  spec.stdin_data = std::string(4 << 20, 'x');  // more than a pipe holds; EPIPE, not SIGPIPE
  auto r = run_one(spec);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
}

TEST(process_test, missing_program_is_a_spawn_error_naming_it) {
  ProcessSpec spec;
  spec.argv = {"no-such-worker-xyz", "--input", "x"};
  auto r = run_one(spec);
  EXPECT_NE(r.spawn_error.find("no-such-worker-xyz"), std::string::npos) << r.spawn_error;
  EXPECT_NE(r.spawn_error.find("PATH"), std::string::npos) << r.spawn_error;
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_FALSE(r.signal.has_value());

  spec.argv = {"/nonexistent/dir/worker"};
  r = run_one(spec);
  EXPECT_NE(r.spawn_error.find("/nonexistent/dir/worker"), std::string::npos) << r.spawn_error;
  EXPECT_NE(r.spawn_error.find("No such file"), std::string::npos) << r.spawn_error;
  EXPECT_TRUE(survivors(-1).empty());
}

TEST(process_test, non_executable_file_is_a_spawn_error) {
  ProcessSpec spec;
  spec.argv = {HARNESS_TEST_DATA_DIR "/protocol_sample.txt"};
  auto r = run_one(spec);
  EXPECT_NE(r.spawn_error.find("protocol_sample.txt"), std::string::npos) << r.spawn_error;
  EXPECT_NE(r.spawn_error.find("Permission denied"), std::string::npos) << r.spawn_error;
  EXPECT_TRUE(survivors(-1).empty());
}

TEST(process_test, bare_name_env_and_cwd) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo \"$HARNESS_TEST_VAR\"; pwd; exit 3"};
  spec.env = {{"HARNESS_TEST_VAR", "value with spaces"}};
  spec.cwd = "/";
  auto r = run_one(spec);
  EXPECT_TRUE(r.spawn_error.empty()) << r.spawn_error;
  EXPECT_EQ(r.out.tail, "value with spaces\n/\n");
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 3);
}

TEST(process_test, missing_cwd_is_a_spawn_error) {
  ProcessSpec spec;
  spec.argv = {"true"};
  spec.cwd = "/nonexistent/cwd";
  auto r = run_one(spec);
  EXPECT_NE(r.spawn_error.find("/nonexistent/cwd"), std::string::npos) << r.spawn_error;
}

TEST(process_test, each_worker_gets_its_own_process_group) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "ps -o pgid= -p $$"};
  auto r = run_one(spec);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(std::stoi(r.out.tail), r.pid);
}

TEST(process_test, eight_workers_run_concurrently) {
  std::vector<ProcessSpec> specs(8, fault({"--mode", "success", "--work-ms", "600"}));
  Supervisor sup;
  auto rs = sup.run(specs);
  ASSERT_EQ(rs.size(), 8u);
  double last_start = 0, first_end = 1e9;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].index, static_cast<int>(i));
    ASSERT_TRUE(rs[i].exit_code.has_value()) << rs[i].spawn_error;
    EXPECT_EQ(*rs[i].exit_code, 0);
    EXPECT_EQ(rs[i].events.size(), 6u);
    last_start = std::max(last_start, rs[i].spawn_offset_ms);
    first_end = std::min(first_end, rs[i].spawn_offset_ms + rs[i].wall_s * 1000);
    EXPECT_TRUE(survivors(rs[i].pid).empty());
  }
  EXPECT_LT(last_start, first_end) << "the runs did not overlap";
}

TEST(process_test, start_delay_staggers_spawns) {
  std::vector<ProcessSpec> specs(2, fault({"--mode", "exit", "--code", "0"}));
  specs[1].start_delay = 300ms;
  Supervisor sup;
  auto rs = sup.run(specs);
  EXPECT_LT(rs[0].spawn_offset_ms, 200.0);
  EXPECT_GE(rs[1].spawn_offset_ms, 290.0);
}

TEST(process_test, cancel_from_another_thread_stops_everything) {
  std::vector<ProcessSpec> specs(3, fault({"--mode", "hang"}));
  specs.push_back(fault({"--mode", "ignore-term", "--children", "2"}));
  specs.back().grace = 200ms;
  specs.push_back(fault({"--mode", "hang"}));
  specs.back().start_delay = 30s;  // never started
  Supervisor sup;
  std::thread canceller([&] {
    std::this_thread::sleep_for(500ms);
    sup.cancel();
  });
  auto begin = std::chrono::steady_clock::now();
  auto rs = sup.run(specs);
  auto took = std::chrono::steady_clock::now() - begin;
  canceller.join();
  EXPECT_TRUE(sup.cancelled());
  EXPECT_LT(took, 10s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(rs[i].cancelled);
    EXPECT_FALSE(rs[i].timed_out);
    ASSERT_TRUE(rs[i].signal.has_value());
    EXPECT_EQ(*rs[i].signal, SIGTERM);
    EXPECT_TRUE(rs[i].ready_ms.has_value());  // what was collected before is kept
    EXPECT_TRUE(survivors(rs[i].pid).empty());
  }
  EXPECT_TRUE(rs[3].cancelled);
  ASSERT_TRUE(rs[3].signal.has_value());
  EXPECT_EQ(*rs[3].signal, SIGKILL);
  EXPECT_TRUE(rs[4].cancelled);
  EXPECT_EQ(rs[4].pid, -1);
  EXPECT_FALSE(rs[4].spawn_error.empty());
  EXPECT_TRUE(survivors(-1).empty());
}

TEST(process_test, sigint_to_the_harness_cancels_the_run) {
  Supervisor sup;
  install_cancel_signals(sup);
  std::thread interrupter([] {
    std::this_thread::sleep_for(500ms);
    kill(getpid(), SIGINT);
  });
  auto rs = sup.run({fault({"--mode", "hang"}), fault({"--mode", "hang"})});
  interrupter.join();
  remove_cancel_signals();
  for (const auto& r : rs) {
    EXPECT_TRUE(r.cancelled);
    ASSERT_TRUE(r.signal.has_value());
    EXPECT_EQ(*r.signal, SIGTERM);
    EXPECT_TRUE(r.kill_latency_ms.has_value());
    EXPECT_TRUE(survivors(r.pid).empty());
  }
}

class CountingObserver : public ProcessObserver {
 public:
  void on_start(int, int) override { ++starts; }
  void on_event(int, const Event&) override { ++events; }
  void on_exit(int, const ProcessResult&) override { ++exits; }
  int starts = 0, events = 0, exits = 0;
};

TEST(process_test, observer_sees_starts_events_and_exits) {
  CountingObserver obs;
  Supervisor sup;
  auto rs = sup.run({fault({"--mode", "success"}), fault({"--mode", "abort"})}, &obs);
  EXPECT_EQ(obs.starts, 2);
  EXPECT_EQ(obs.exits, 2);
  EXPECT_EQ(obs.events, static_cast<int>(rs[0].events.size() + rs[1].events.size()));
}

// --jobs: several threads run batches on one Supervisor at the same time.

TEST(process_concurrent_test, escaped_grandchildren_go_to_their_own_batch) {
  Supervisor sup;
  // Each batch: a worker whose grandchild escapes (setsid) beside one that succeeds. Orphans of
  // both batches are reparented to the same harness process; each must be counted once, by the
  // batch of the worker that made it.
  const std::vector<ProcessSpec> specs{fault({"--mode", "escape", "--seconds", "3600"}),
                                       fault({"--mode", "success", "--work-ms", "300"})};
  std::vector<ProcessResult> a, b;
  auto begin = std::chrono::steady_clock::now();
  std::thread other([&] { b = sup.run(specs); });
  a = sup.run(specs);
  other.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  for (const auto* rs : {&a, &b}) {
    ASSERT_EQ(rs->size(), 2u);
    const ProcessResult& esc = (*rs)[0];
    ASSERT_TRUE(esc.exit_code.has_value());
    EXPECT_EQ(*esc.exit_code, 0);
    EXPECT_EQ(esc.leftover_processes, 1);
    const Event* e = find_event(esc, "escaped");
    ASSERT_NE(e, nullptr);
    EXPECT_FALSE(alive(e->body.at("pid").get<int>()));
    const ProcessResult& ok = (*rs)[1];
    ASSERT_TRUE(ok.exit_code.has_value());
    EXPECT_EQ(*ok.exit_code, 0);
    EXPECT_EQ(ok.leftover_processes, 0);
    EXPECT_NE(find_event(ok, "result"), nullptr);
    EXPECT_GT(ok.memory.peak_rss_kib, 0);  // each batch samples with a sampler of its own
  }
  EXPECT_TRUE(survivors(-1).empty());
}

TEST(process_concurrent_test, cancel_stops_every_running_batch) {
  Supervisor sup;
  std::vector<ProcessSpec> specs(2, fault({"--mode", "hang"}));
  specs.push_back(fault({"--mode", "hang"}));
  specs.back().start_delay = 30s;  // never started
  std::vector<std::vector<ProcessResult>> results(3);
  std::vector<std::thread> threads;
  auto begin = std::chrono::steady_clock::now();
  for (auto& r : results) threads.emplace_back([&sup, &specs, &r] { r = sup.run(specs); });
  std::this_thread::sleep_for(700ms);
  sup.cancel();
  for (auto& t : threads) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
  for (const auto& rs : results) {
    ASSERT_EQ(rs.size(), 3u);
    for (int i = 0; i < 2; ++i) {
      EXPECT_TRUE(rs[i].cancelled);
      EXPECT_FALSE(rs[i].timed_out);
      ASSERT_TRUE(rs[i].signal.has_value());
      EXPECT_EQ(*rs[i].signal, SIGTERM);
    }
    EXPECT_TRUE(rs[2].cancelled);
    EXPECT_EQ(rs[2].pid, -1);
  }
  EXPECT_TRUE(survivors(-1).empty());
}

}  // namespace
}  // namespace harness
