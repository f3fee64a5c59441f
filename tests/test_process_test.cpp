// The tests' own spawn helper (tests/test_process.hpp), on fault_worker and /bin/sh: what every
// other end-to-end test relies on when it judges a program by its exit status and output.

#include "tests/test_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(test_process_test, exit_code_and_both_streams_apart) {
  const Completed c = run_program({"/bin/sh", "-c", "echo to stdout; echo to stderr >&2; exit 3"});
  EXPECT_EQ(c.status, 3);
  EXPECT_FALSE(c.timed_out);
  EXPECT_EQ(c.out, "to stdout\n");
  EXPECT_EQ(c.err, "to stderr\n");
}

TEST(test_process_test, a_signal_is_128_plus_its_number) {
  const Completed c = run_program({FAULT_WORKER, "--mode", "segv", "--raise"});
  EXPECT_EQ(c.status, 128 + SIGSEGV) << c.err;
}

std::string stdin_bytes(const Completed& c) {
  for (std::istringstream in(c.out); !in.eof();) {
    std::string line;
    std::getline(in, line);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "result") return j.at("stdin_bytes").dump();
  }
  return "no result event in: " + c.out;
}

TEST(test_process_test, stdin_is_the_given_text_or_empty) {
  SpawnOptions fed;
  fed.stdin_text = std::string(100000, 'x');  // more than a pipe holds: no writer to block
  EXPECT_EQ(stdin_bytes(run_program({FAULT_WORKER, "--mode", "stdin"}, fed)), "100000");
  EXPECT_EQ(stdin_bytes(run_program({FAULT_WORKER, "--mode", "stdin"})), "0");  // /dev/null
}

TEST(test_process_test, cwd_and_environment_changes) {
  const fs::path dir = fs::canonical(::testing::TempDir());
  ASSERT_EQ(::setenv("TEST_PROCESS_REMOVED", "still here", 1), 0);
  SpawnOptions options;
  options.cwd = dir;
  options.env = {"TEST_PROCESS_SET=given", "TEST_PROCESS_REMOVED"};
  const Completed c = run_program(
      {"/bin/sh", "-c", "pwd; echo \"$TEST_PROCESS_SET\"; echo \"${TEST_PROCESS_REMOVED-unset}\""},
      options);
  ::unsetenv("TEST_PROCESS_REMOVED");
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, dir.string() + "\ngiven\nunset\n");
}

TEST(test_process_test, bare_names_are_looked_up_on_path) {
  ASSERT_NE(find_program("sh"), "");
  EXPECT_EQ(run_program({"sh", "-c", "exit 7"}).status, 7);
  EXPECT_EQ(find_program("no-such-program-anywhere"), "");
}

TEST(test_process_test, a_program_that_cannot_start_throws_with_its_name) {
  for (const std::string program : {"no-such-program-anywhere", "/no/such/program"}) {
    try {
      TestProcess child({program});
      ADD_FAILURE() << program << " started";
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find(program), std::string::npos) << e.what();
      EXPECT_EQ(e.code().value(), ENOENT) << e.what();
    }
  }
}

TEST(test_process_test, output_is_readable_while_it_runs) {
  TestProcess child({FAULT_WORKER, "--mode", "hang"});
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (child.out().find(R"("event":"ready")") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(child.out().find(R"("event":"ready")"), std::string::npos) << child.out();
  EXPECT_FALSE(child.wait_for(0ms).has_value());  // it hangs
  EXPECT_EQ(child.kill(), 128 + SIGKILL);
  EXPECT_FALSE(child.running());
}

// Dead: no such process, or a zombie left for whoever inherited it to reap.
bool gone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(")");
  return !stat || close == std::string::npos || text.compare(close, 3, ") Z") == 0;
}

TEST(test_process_test, limit_kills_the_whole_process_group) {
  // ignore-term forks two children that stay in its process group and reports their pids.
  TestProcess child({FAULT_WORKER, "--mode", "ignore-term", "--children", "2"});
  nlohmann::json ready;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (ready.is_null() && std::chrono::steady_clock::now() < give_up) {
    std::istringstream in(child.out());
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "ready") ready = j;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(ready.is_null()) << child.out();
  const std::vector<int> children = ready.at("children").get<std::vector<int>>();
  ASSERT_EQ(children.size(), 2u);

  EXPECT_FALSE(child.wait_for(200ms).has_value());
  EXPECT_EQ(child.kill(), 128 + SIGKILL);
  // SIGKILL is delivered at once, but give a loaded machine time to let them die.
  for (const int pid : children) {
    for (int k = 0; k < 200 && !gone(pid); ++k) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(gone(pid)) << pid;
  }
}

TEST(test_process_test, run_program_kills_at_the_limit) {
  const Completed c = run_program({FAULT_WORKER, "--mode", "hang"}, {}, 300ms);
  EXPECT_TRUE(c.timed_out);
  EXPECT_EQ(c.status, -1);
  EXPECT_GE(c.seconds, 0.3);
  EXPECT_LT(c.seconds, 30.0);
}

}  // namespace
}  // namespace harness::test
