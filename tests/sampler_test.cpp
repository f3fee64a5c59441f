#include "harness/supervise/sampler.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_process.hpp"

namespace harness {
namespace {

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(HARNESS_TEST_DATA_DIR) + "/proc/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing tests/data/proc/" << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// --- parsers, fed with files recorded from real processes on a Debian 12 machine ---

TEST(parse_status_field_kib, reads_vm_fields_of_a_live_process) {
  const std::string text = read_data("status_bash.txt");
  // status_bash.txt: "VmHWM:\t    3036 kB", "VmRSS:\t    3036 kB", "VmPeak:\t    4360 kB".
  EXPECT_EQ(parse_status_field_kib(text, "VmHWM"), 3036);
  EXPECT_EQ(parse_status_field_kib(text, "VmRSS"), 3036);
  EXPECT_EQ(parse_status_field_kib(text, "VmPeak"), 4360);
  // "RssAnon:\t     268 kB" (a key that is a prefix of no other key).
  EXPECT_EQ(parse_status_field_kib(text, "RssAnon"), 268);
}

TEST(parse_status_field_kib, key_must_match_whole) {
  const std::string text = read_data("status_bash.txt");
  // "Vm" is a prefix of every Vm* line but is no key of its own.
  EXPECT_EQ(parse_status_field_kib(text, "Vm"), -1);
  EXPECT_EQ(parse_status_field_kib(text, "VmHW"), -1);
}

TEST(parse_status_field_kib, missing_for_zombie_and_kernel_thread) {
  // status_zombie.txt is a zombie perl (State: Z), status_kthreadd.txt is pid 2: neither
  // has any Vm* line, since they own no address space.
  EXPECT_EQ(parse_status_field_kib(read_data("status_zombie.txt"), "VmHWM"), -1);
  EXPECT_EQ(parse_status_field_kib(read_data("status_kthreadd.txt"), "VmRSS"), -1);
  EXPECT_EQ(parse_status_field_kib("", "VmHWM"), -1);
}

TEST(parse_smaps_rollup, sums_private_into_uss) {
  // smaps_rollup_bash_login.txt: Rss 4196, Pss 1447, Private_Clean 20, Private_Dirty 1120.
  SmapsRollup r = parse_smaps_rollup(read_data("smaps_rollup_bash_login.txt"));
  EXPECT_EQ(r.rss_kib, 4196);
  EXPECT_EQ(r.pss_kib, 1447);  // not Pss_Dirty (1120) nor Pss_Anon (1120) nor Pss_File (327)
  EXPECT_EQ(r.uss_kib, 20 + 1120);
}

TEST(parse_smaps_rollup, reads_a_second_recording) {
  // smaps_rollup_bash.txt: Rss 3036, Pss 514, Private_Clean 0, Private_Dirty 268.
  SmapsRollup r = parse_smaps_rollup(read_data("smaps_rollup_bash.txt"));
  EXPECT_EQ(r.rss_kib, 3036);
  EXPECT_EQ(r.pss_kib, 514);
  EXPECT_EQ(r.uss_kib, 268);
}

TEST(parse_smaps_rollup, empty_for_zombie) {
  // A zombie's smaps_rollup reads as 0 bytes (smaps_rollup_zombie.txt).
  SmapsRollup r = parse_smaps_rollup(read_data("smaps_rollup_zombie.txt"));
  EXPECT_EQ(r.rss_kib, -1);
  EXPECT_EQ(r.pss_kib, -1);
  EXPECT_EQ(r.uss_kib, -1);
}

TEST(parse_statm_rss_kib, converts_resident_pages) {
  // statm_bash_login.txt: "1308 1049 769 193 0 327 0" with 4 KiB pages; the status recorded
  // at the same moment (status_bash_login.txt) says "VmRSS:\t    4196 kB" = 1049 * 4.
  const std::string statm = read_data("statm_bash_login.txt");
  EXPECT_EQ(parse_statm_rss_kib(statm, 4), 1049 * 4);
  EXPECT_EQ(parse_statm_rss_kib(statm, 4),
            parse_status_field_kib(read_data("status_bash_login.txt"), "VmRSS"));
  EXPECT_EQ(parse_statm_rss_kib("", 4), -1);
  EXPECT_EQ(parse_statm_rss_kib("12", 4), -1);
}

TEST(parse_children, reads_space_separated_pids) {
  // children_bash.txt: the bytes "9369 9370 9371 " (a bash with three sleeps, no newline).
  EXPECT_EQ(parse_children(read_data("children_bash.txt")), (std::vector<int>{9369, 9370, 9371}));
  EXPECT_EQ(parse_children("12 34\n"), (std::vector<int>{12, 34}));
}

TEST(parse_children, empty_for_a_leaf) {
  EXPECT_TRUE(parse_children(read_data("children_empty.txt")).empty());  // 0 bytes
  EXPECT_TRUE(parse_children(" \n").empty());
}

// --- real processes ---

// Forked helpers that the test kills and reaps (or, for grandchildren, kills) whatever happens.
class Reaper {
 public:
  ~Reaper() {
    for (int pid : kill_only_) ::kill(pid, SIGKILL);
    for (int pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  void child(int pid) { children_.push_back(pid); }
  void other(int pid) { kill_only_.push_back(pid); }

 private:
  std::vector<int> children_, kill_only_;
};

// Forks a child that runs `body` and then sleeps until killed; the child reports one int
// through a pipe once it is set up. Returns {child pid, reported int}. `body` runs in a forked
// copy of this test, so it must not allocate or take a lock (another thread may have held it at
// the fork): the bodies here only fork, mmap, memset and return.
template <typename Body>
std::pair<int, int> fork_reporting(Body body) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, -1};
  int pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    int value = body();
    if (::write(fds[1], &value, sizeof value) != sizeof value) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  int value = -1;
  if (pid > 0 && ::read(fds[0], &value, sizeof value) != sizeof value) value = -1;
  ::close(fds[0]);
  return {pid, value};
}

int fork_sleeper() {
  int pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

TEST(process_tree, finds_child_and_grandchild) {
  Reaper reaper;
  auto [child, grandchild] = fork_reporting([] { return fork_sleeper(); });
  ASSERT_GT(child, 0);
  reaper.child(child);
  ASSERT_GT(grandchild, 0);
  reaper.other(grandchild);

  std::vector<int> tree = process_tree(child);
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree[0], child);  // root first
  EXPECT_EQ(tree[1], grandchild);

  std::vector<int> mine = process_tree(::getpid());
  EXPECT_EQ(mine.front(), ::getpid());
  EXPECT_NE(std::find(mine.begin(), mine.end(), grandchild), mine.end());
}

TEST(process_tree, finds_children_forked_by_a_secondary_thread) {
  // The grandchild is forked by a non-main thread of the helper, so it is listed only in that
  // thread's /proc/PID/task/TID/children. A program of its own rather than a fork of this test:
  // starting a thread allocates, which a forked copy of the test must not do.
  test::TestProcess child({FORK_FROM_THREAD});
  int grandchild = -1;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (grandchild < 0 && std::chrono::steady_clock::now() < give_up) {
    const std::string out = child.out();
    if (out.find('\n') != std::string::npos) {
      grandchild = std::stoi(out);
    } else if (child.wait_for(std::chrono::milliseconds(5))) {
      break;  // it ended: the assertion below shows what it said
    }
  }
  ASSERT_GT(grandchild, 0) << child.out() << child.err();

  EXPECT_EQ(process_tree(child.pid()), (std::vector<int>{child.pid(), grandchild}));
}  // the helper's process group, grandchild included, is killed here

TEST(process_tree, empty_when_root_is_gone) {
  int pid = ::fork();
  if (pid == 0) ::_exit(0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_TRUE(process_tree(pid).empty());
  EXPECT_TRUE(process_tree(-1).empty());
  EXPECT_TRUE(process_tree(0).empty());
}

TEST(self_rss_kib, is_sane) {
  std::int64_t rss = self_rss_kib();
  EXPECT_GT(rss, 1024);              // a GoogleTest program (with sanitizers) is over 1 MiB
  EXPECT_LT(rss, 16 * 1024 * 1024);  // and far below 16 GiB
}

TEST(vm_hwm_kib, live_process_and_gone_process) {
  EXPECT_GE(vm_hwm_kib(::getpid()), self_rss_kib() / 2);  // HWM >= RSS, up to timing slack
  int pid = ::fork();
  if (pid == 0) ::_exit(0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_EQ(vm_hwm_kib(pid), -1);
}

constexpr std::size_t kMiB = 1024 * 1024;

// A child that maps and touches `mib` MiB of private anonymous memory (mmap, not malloc, so the
// sanitizer's allocator plays no part).
int touch_mib(std::size_t mib) {
  std::size_t bytes = mib * kMiB;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  std::memset(p, 0x5a, bytes);
  return static_cast<int>(mib);
}

TEST(MemorySampler, rss_rises_with_touched_memory) {
  Reaper reaper;
  auto [small, small_ok] = fork_reporting([] { return 0; });
  ASSERT_GT(small, 0);
  reaper.child(small);
  auto [big, big_ok] = fork_reporting([] { return touch_mib(100); });
  ASSERT_GT(big, 0);
  reaper.child(big);
  ASSERT_EQ(big_ok, 100);

  MemorySampler sampler;
  MemorySample a = sampler.sample({small}, false);
  MemorySample b = sampler.sample({big}, false);
  EXPECT_EQ(a.processes, 1);
  EXPECT_EQ(b.processes, 1);
  EXPECT_GT(a.rss_kib, 0);
  EXPECT_GE(b.rss_kib - a.rss_kib, 90 * 1024);  // the two differ by the 100 MiB touched
  EXPECT_EQ(b.pss_kib, -1);                     // not read without with_smaps
  EXPECT_EQ(b.uss_kib, -1);
}

TEST(MemorySampler, smaps_gives_sane_pss_and_uss) {
  Reaper reaper;
  auto [big, big_ok] = fork_reporting([] { return touch_mib(100); });
  ASSERT_GT(big, 0);
  reaper.child(big);
  ASSERT_EQ(big_ok, 100);

  MemorySampler sampler;
  MemorySample s = sampler.sample({big}, true);
  EXPECT_EQ(s.processes, 1);
  EXPECT_GE(s.rss_kib, 100 * 1024);
  // The 100 MiB were written after fork, so they are private to the child: counted whole in
  // USS and PSS.
  EXPECT_GE(s.uss_kib, 95 * 1024);
  EXPECT_LE(s.uss_kib, s.pss_kib);
  EXPECT_LE(s.pss_kib, s.rss_kib);
  // Walking 100 MiB of page tables takes measurable CPU, but nowhere near a second.
  EXPECT_GT(sampler.last_smaps_cpu_ms(), 0.0);
  EXPECT_LT(sampler.last_smaps_cpu_ms(), 1000.0);
}

TEST(MemorySampler, sums_over_a_tree) {
  Reaper reaper;
  auto [a, a_ok] = fork_reporting([] { return touch_mib(40); });
  ASSERT_GT(a, 0);
  reaper.child(a);
  auto [b, b_ok] = fork_reporting([] { return touch_mib(40); });
  ASSERT_GT(b, 0);
  reaper.child(b);
  ASSERT_EQ(a_ok + b_ok, 80);

  MemorySampler sampler;
  MemorySample one = sampler.sample({a}, true);
  MemorySample both = sampler.sample({a, b}, true);
  EXPECT_EQ(both.processes, 2);
  EXPECT_GE(both.rss_kib - one.rss_kib, 38 * 1024);
  EXPECT_GE(both.uss_kib - one.uss_kib, 38 * 1024);
}

TEST(MemorySampler, vanished_pid_is_skipped) {
  Reaper reaper;
  int gone = ::fork();
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
  auto [alive, ok] = fork_reporting([] { return 0; });
  ASSERT_GT(alive, 0);
  reaper.child(alive);

  MemorySampler sampler;
  for (bool smaps : {false, true}) {
    MemorySample s = sampler.sample({alive, gone}, smaps);
    EXPECT_EQ(s.processes, 1) << "with_smaps=" << smaps;
    EXPECT_GT(s.rss_kib, 0);
    MemorySample none = sampler.sample({gone}, smaps);
    EXPECT_EQ(none.processes, 0);
    EXPECT_EQ(none.rss_kib, 0);
  }
  EXPECT_EQ(sampler.sample({}, false).processes, 0);
}

TEST(MemorySampler, more_pids_than_one_libproc2_select) {
  // libproc2 takes at most 255 ids per select; the sampler must split longer lists.
  std::vector<int> pids(300, ::getpid());
  pids.push_back(1);
  MemorySampler sampler;
  MemorySample s = sampler.sample(pids, false);
  EXPECT_EQ(s.processes, 301);
}

TEST(MemorySampler, libproc2_rss_source_agrees_with_statm) {
  Reaper reaper;
  auto [big, big_ok] = fork_reporting([] { return touch_mib(64); });
  ASSERT_GT(big, 0);
  reaper.child(big);
  ASSERT_EQ(big_ok, 64);
  MemorySampler via_statm(RssSource::statm);
  MemorySampler via_libproc2(RssSource::libproc2);
  MemorySample a = via_statm.sample({big}, false);
  MemorySample b = via_libproc2.sample({big}, false);
  EXPECT_EQ(a.processes, 1);
  EXPECT_EQ(b.processes, 1);
  EXPECT_GE(a.rss_kib, 64 * 1024);
  // The child sleeps, so both read the same VmRSS (allow a few pages of kernel-side drift).
  EXPECT_NEAR(static_cast<double>(a.rss_kib), static_cast<double>(b.rss_kib), 64.0);
}

TEST(MemorySampler, statm_fd_of_an_exited_process_is_not_reused) {
  auto [first, ok] = fork_reporting([] { return touch_mib(32); });
  ASSERT_GT(first, 0);
  ASSERT_EQ(ok, 32);
  MemorySampler sampler;
  EXPECT_GE(sampler.sample({first}, false).rss_kib, 32 * 1024);
  ::kill(first, SIGKILL);
  ::waitpid(first, nullptr, 0);
  // The cached fd still points at the dead task: the sample must say it is gone.
  MemorySample after = sampler.sample({first}, false);
  EXPECT_EQ(after.processes, 0);
  EXPECT_EQ(after.rss_kib, 0);
}

TEST(SmapsPacer, spaces_reads_by_cost_over_budget) {
  SmapsPacer pacer(250, 0.01, 0.002);
  EXPECT_TRUE(pacer.due(0));  // the first read is due at once
  pacer.record(0, 8.0);       // an 8 ms read at a 1 % budget: next one 800 ms later
  EXPECT_FALSE(pacer.due(799));
  EXPECT_TRUE(pacer.due(800));
  pacer.record(1000, 0.1);  // a cheap read: held to the 250 ms floor
  EXPECT_DOUBLE_EQ(pacer.next_ms(), 1250);
}

// The ticks between two reads take their share of the budget first: ticks of 0.5 ms every
// 100 ms are 0.5 % of a core, so of 1.8 % an 8 ms read gets 1.3 %: 8 / 0.013 = 615 ms.
TEST(SmapsPacer, charges_the_ticks_before_the_reads) {
  SmapsPacer pacer(250);
  EXPECT_DOUBLE_EQ(SmapsPacer::kBudget, 0.018);
  pacer.record(0, 1.0);
  for (int i = 0; i < 10; ++i) pacer.tick(0.5);
  pacer.record(1000, 8.0);
  EXPECT_DOUBLE_EQ(pacer.tick_share(), 0.005);
  EXPECT_NEAR(pacer.next_ms(), 1000 + 8.0 / 0.013, 1e-9);
  // Ticks that alone take more than the budget (3 % of a core): reads fall back to the floor.
  for (int i = 0; i < 10; ++i) pacer.tick(3.0);
  pacer.record(2000, 4.0);
  EXPECT_NEAR(pacer.next_ms(), 2000 + 4.0 / SmapsPacer::kFloor, 1e-9);
}

}  // namespace
}  // namespace harness
