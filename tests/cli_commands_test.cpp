// The subcommands of `harness` (cli/*_command.cpp) end to end: the real binary (HARNESS_BINARY)
// runs under the harness's own Supervisor, in a temporary folder, on small /bin/sh scenarios
// written there. What is judged is what a user sees: exit status, stderr, files written.
// Time bounds are generous functional bounds.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/core/files.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class cli_commands_test : public ::testing::Test {
 protected:
  cli_commands_test() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/cli_commands_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~cli_commands_test() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs `harness args...` in the temporary folder.
  ProcessResult harness(std::vector<std::string> args) {
    ProcessSpec spec;
    spec.argv = {HARNESS_BINARY};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.cwd = dir_.string();
    spec.timeout = 60s;  // a safety net: no test gets near it
    return supervisor_.run({spec}).at(0);
  }

  // A scenario running `/bin/sh -c script`, with `expect` lines under expect:.
  std::string scenario(const std::string& name, const std::string& script,
                       const std::string& expect) {
    const fs::path file = dir_ / (name + ".yaml");
    write_file_atomic(file, "schema: 1\nname: " + name + "\nworker:\n  command: [/bin/sh, -c, '" +
                                script + "']\n  timeout: 30s\nexpect:\n" + expect);
    return file.string();
  }

  static std::string why(const ProcessResult& r) { return "stderr: " + r.err.tail; }

  fs::path dir_;
  Supervisor supervisor_;
};

TEST_F(cli_commands_test, run_refuses_a_tail_that_would_overflow_or_be_empty) {
  const std::string s = scenario("tail", "echo hi", "  exit_code: 0\n");
  for (const std::string value : {"18014398509481984", "0", "-1", "65537"}) {
    const ProcessResult r = harness({"run", s, "--tail-kib", value});
    EXPECT_EQ(r.exit_code, 2) << value << " " << why(r);
    EXPECT_NE(r.err.tail.find("--tail-kib: Value " + value + " not in range 1 to 65536"),
              std::string::npos)
        << why(r);
    EXPECT_FALSE(fs::exists(dir_ / "reports")) << "nothing runs on a refused option";
  }
  const ProcessResult r = harness({"run", s, "--tail-kib", "65536", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << why(r);
}

TEST_F(cli_commands_test, a_catastrophic_pattern_is_judged_at_once_end_to_end) {
  // 34 'a's and a 100 kB line of them: std::regex backtracked for minutes on the first.
  const std::string s = scenario(
      "catastrophic",
      "printf \"%s\\n\" " + std::string(34, 'a') +
          "; head -c 100000 /dev/zero | tr \"\\\\000\" a; echo",
      "  exit_code: 0\n  stdout_not_matches: \"^(a+)+b\"\n  stdout_matches: \"^(a+)+$\"\n");
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = harness({"run", s, "--quiet", "--report-dir", "reports"});
  EXPECT_EQ(r.exit_code, 0) << why(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(cli_commands_test, list_ctest_writes_its_file_whole_or_says_why_not) {
  scenario("listed", "true", "  exit_code: 0\n");
  const ProcessResult ok = harness({"list", dir_.string(), "--ctest", "tests.cmake"});
  EXPECT_EQ(ok.exit_code, 0) << why(ok);
  EXPECT_NE(read_file(dir_ / "tests.cmake").find("add_test([=[scenario.listed]=]"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "tests.cmake.tmp"));

  const ProcessResult bad = harness({"list", dir_.string(), "--ctest", "missing/tests.cmake"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.tail,
            "harness: cannot create missing/tests.cmake.tmp: No such file or directory\n");
}

TEST_F(cli_commands_test, compare_markdown_is_written_whole_or_fails_the_gate) {
  const std::string s = scenario("compared", "true", "  exit_code: 0\n");
  ASSERT_EQ(harness({"run", s, "--quiet", "--report-dir", "reports"}).exit_code, 0);
  const std::string report = (dir_ / "reports" / "report.json").string();

  const ProcessResult ok = harness({"compare", report, report, "--markdown", "changes.md"});
  EXPECT_EQ(ok.exit_code, 0) << why(ok);
  EXPECT_EQ(read_file(dir_ / "changes.md"), ok.out.tail);
  EXPECT_FALSE(ok.out.tail.empty());

  const ProcessResult bad = harness({"compare", report, report, "--markdown", "no/changes.md"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.tail, "harness: cannot create no/changes.md.tmp: No such file or directory\n");
}

TEST_F(cli_commands_test, every_subcommand_is_dispatched) {
  const ProcessResult help = harness({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* name : {"run", "validate", "list", "plan", "compare"})
    EXPECT_NE(help.out.tail.find(std::string("\n  ") + name + " "), std::string::npos)
        << name << " missing from:\n"
        << help.out.tail;
  const ProcessResult none = harness({});
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
}  // namespace harness
