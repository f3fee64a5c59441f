// Soak: 1000 runs through one Supervisor, the way `harness run` uses it for a long scenario, with
// the harness's open descriptors (/proc/self/fd) and RSS sampled along the way. A leak of one fd
// or a few KiB per run shows as growth between the sample after the warm-up and the last one.
// The runs mix what a run can be: a plain exit, output and events, a timeout that kills the
// tree, a program that cannot start, and a batch of three at once.
#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/supervise/sampler.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // ASan's quarantine holds freed memory on purpose
#else
constexpr bool kSanitized = false;
#endif

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor of the listing itself
}

std::int64_t rss_kib() {
  std::string status;
  if (!read_proc_file("/proc/self/status", status)) return -1;
  const auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::stoll(status.substr(at + 6));
}

ProcessSpec spec(std::vector<std::string> argv) {
  ProcessSpec s;
  s.argv = std::move(argv);
  s.timeout = 20s;
  return s;
}

// Run i of the soak.
std::vector<ProcessSpec> run_specs(int i) {
  if (i % 50 == 7) return {spec({"/nonexistent/worker"})};
  if (i % 10 == 3) {
    ProcessSpec s = spec({"/bin/sleep", "10"});
    s.timeout = 20ms;
    s.grace = 1s;
    return {s};
  }
  if (i % 10 == 5) return {spec({"/bin/true"}), spec({"/bin/true"}), spec({"/bin/true"})};
  if (i % 2 == 1)
    return {spec(
        {"/bin/sh", "-c", "echo '{\"event\":\"result\",\"status\":\"success\"}'; echo oops >&2"})};
  return {spec({"/bin/true"})};
}

TEST(supervisor_soak_test, a_thousand_runs_leak_no_descriptor_and_no_memory) {
  Supervisor supervisor;
  constexpr int kRuns = 1000, kWarmup = 100;
  int fds_after_warmup = -1, max_fds = 0;
  std::int64_t rss_after_warmup = -1, max_rss = 0;
  int failures = 0;
  for (int i = 0; i < kRuns; ++i) {
    const auto specs = run_specs(i);
    const auto results = supervisor.run(specs);
    ASSERT_EQ(results.size(), specs.size());
    for (const auto& r : results) {
      const bool expected_failure = !r.spawn_error.empty() || r.timed_out;
      if (!expected_failure && r.exit_code != 0) ++failures;
      if (specs[0].timeout == 20ms) {
        EXPECT_TRUE(r.timed_out) << i;
      }
      if (specs[0].argv[0] == "/nonexistent/worker") {
        EXPECT_FALSE(r.spawn_error.empty()) << i;
      }
    }
    if (i + 1 == kWarmup) {
      fds_after_warmup = open_fds();
      rss_after_warmup = rss_kib();
    }
    if (i + 1 >= kWarmup && (i + 1) % 100 == 0) {
      max_fds = std::max(max_fds, open_fds());
      max_rss = std::max(max_rss, rss_kib());
    }
  }
  const int fds_end = open_fds();
  const std::int64_t rss_end = rss_kib();
  std::printf(
      "fds: %d after %d runs, %d at most, %d after %d; RSS: %lld KiB, %lld KiB at most, "
      "%lld KiB at the end\n",
      fds_after_warmup, kWarmup, max_fds, fds_end, kRuns, static_cast<long long>(rss_after_warmup),
      static_cast<long long>(max_rss), static_cast<long long>(rss_end));
  RecordProperty("fds_after_warmup", fds_after_warmup);
  RecordProperty("fds_end", fds_end);
  RecordProperty("rss_after_warmup_kib", std::to_string(rss_after_warmup));
  RecordProperty("rss_end_kib", std::to_string(rss_end));
  EXPECT_EQ(failures, 0);
  ASSERT_GT(fds_after_warmup, 0);
  // One descriptor per run leaked would be 900 more; the pooled loops and samplers are reused.
  EXPECT_EQ(fds_end, fds_after_warmup);
  EXPECT_LE(max_fds, fds_after_warmup + 2);
  if (!kSanitized) {
    // 900 runs: 1 KiB leaked per run would be ~900 KiB. 2 MiB leaves room for the allocator.
    EXPECT_LT(rss_end - rss_after_warmup, 2048) << rss_after_warmup << " -> " << rss_end;
  }
}

}  // namespace
}  // namespace harness
