// Descendant tracking under the usual fd limits. Each test changes the process's own limit, which
// ctest confines to it (every test runs in a process of its own).

#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "harness/supervise/supervisor.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;
using test::fault;
using test::survivors;

bool set_nofile(rlim_t soft, rlim_t hard) {
  rlimit rl{soft, hard};
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// The usual soft limit of 1024: the supervisor raises it to the hard limit, so 256 workers at
// once (three pipes, a pidfd and a statm fd each) all run.
TEST(fd_limit_test, two_hundred_fifty_six_instances_under_a_soft_limit_of_1024) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4096)
    GTEST_SKIP() << "the hard fd limit is " << rl.rlim_max << ": nothing to raise the soft one to";
  ASSERT_TRUE(set_nofile(1024, rl.rlim_max));
  Supervisor sup;
  ProcessSpec spec = fault({"--mode", "success", "--work-ms", "300"});
  const auto results = sup.run(std::vector<ProcessSpec>(256, spec));
  int ok = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.spawn_error.empty()) << r.spawn_error;
    ok += r.exit_code.value_or(-1) == 0;
  }
  EXPECT_EQ(ok, 256);
}

// A hard limit of 1024 and three workers that each leave 200 setsid daemons: past the pidfd
// budget the daemons are tracked by pid and token, and every one of them is killed.
TEST(fd_limit_test, six_hundred_daemons_under_a_hard_limit_of_1024) {
  ASSERT_TRUE(set_nofile(1024, 1024));
  Supervisor sup;
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c",
               "i=0; while [ $i -lt 200 ]; do setsid sleep 120 & i=$((i+1)); done; sleep 1"};
  spec.timeout = 60s;
  const auto results = sup.run({spec, spec, spec});
  int leftovers = 0;
  for (const auto& r : results) {
    EXPECT_TRUE(r.spawn_error.empty()) << r.spawn_error;
    EXPECT_EQ(r.exit_code.value_or(-1), 0);
    leftovers += r.leftover_processes;
    EXPECT_TRUE(survivors(r.pid).empty()) << survivors(r.pid).size() << " survivors";
  }
  EXPECT_EQ(leftovers, 600);
  // Nothing named sleep 120 with our token prefix is alive (zombies do not count).
  int alive = 0;
  for (const auto& p : test::all_processes())
    if (p.ppid == ::getpid() && p.state != 'Z') ++alive;
  EXPECT_EQ(alive, 0);
  int zombies = 0;
  for (const auto& p : test::all_processes())
    if (p.ppid == ::getpid() && p.state == 'Z') ++zombies;
  EXPECT_EQ(zombies, 0);
}

}  // namespace
}  // namespace harness
