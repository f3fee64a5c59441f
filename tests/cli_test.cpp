// End-to-end tests of the `harness` command: the real binary (HARNESS_BINARY) runs as a child
// process against the small fault_worker scenarios in tests/data/cli, and the tests judge what a
// user or a CI system sees: exit status, stdout/stderr, and the four report files.
//
// Every test works in its own temporary folder (removed at the end) and passes
// `--var WORKERS=<folder of FAULT_WORKER>`, so nothing depends on the working directory or on
// files outside the repository and the build tree. Time bounds are generous functional bounds.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/escape.hpp"
#include "harness/supervise/sampler.hpp"
#include "tests/test_process.hpp"
#include "tests/xmllint.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const fs::path kData = fs::path(HARNESS_TEST_DATA_DIR) / "cli";

std::string workers_dir() {
  return fs::path(FAULT_WORKER).parent_path().string();
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/harness_cli_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

using Outcome = harness::test::Completed;  // status -1: did not end in time (then killed)
using harness::test::TestProcess;

// The harness command line with `args`.
std::vector<std::string> harness_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{HARNESS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// Started in `dir`, with `env` changes to the environment (see test::SpawnOptions).
harness::test::SpawnOptions in(const fs::path& dir, std::vector<std::string> env = {}) {
  harness::test::SpawnOptions options;
  options.cwd = dir;
  options.env = std::move(env);
  return options;
}

// Runs the harness to completion; a safety limit far above any test's need.
Outcome harness(const std::vector<std::string>& args, const fs::path& dir,
                std::vector<std::string> env = {}) {
  return harness::test::run_program(harness_argv(args), in(dir, std::move(env)), 120s);
}

// `harness run` with the fault_worker folder and a report folder inside `dir`.
Outcome run(std::vector<std::string> args, const fs::path& dir) {
  args.insert(args.begin(), "run");
  args.insert(args.end(),
              {"--var", "WORKERS=" + workers_dir(), "--report-dir", (dir / "report").string()});
  return harness(args, dir);
}

std::string describe(const Outcome& o) {
  return "exit " + std::to_string(o.status) + "\n--- stdout\n" + o.out + "\n--- stderr\n" + o.err;
}

json read_json(const fs::path& file) {
  return json::parse(read_text(file));  // throws on invalid JSON and invalid UTF-8
}

std::vector<std::string> scenario_names(const json& report) {
  std::vector<std::string> names;
  for (const auto& s : report.at("scenarios")) names.push_back(s.at("name").get<std::string>());
  return names;
}

const json& scenario(const json& report, const std::string& name) {
  for (const auto& s : report.at("scenarios")) {
    if (s.at("name") == name) return s;
  }
  throw std::runtime_error("no scenario " + name + " in report.json");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The command lines of live processes (NUL separators turned into spaces) that contain `token`.
std::vector<std::string> processes_with(const std::string& token) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::string cmdline;  // read(2): an ifstream iterator throws if the process exits mid-read
    if (!harness::read_proc_file((entry.path() / "cmdline").c_str(), cmdline)) continue;
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(token) != std::string::npos) found.push_back(pid + ": " + cmdline);
  }
  return found;
}

// Waits until `count` fault_workers carrying `token` run; false after 60 s.
bool wait_for_workers(const std::string& token, int count) {
  const auto running = [&] {
    int n = 0;
    for (const auto& p : processes_with(token)) n += p.find("fault_worker") != std::string::npos;
    return n;
  };
  const auto give_up = Clock::now() + 60s;
  while (running() < count && Clock::now() < give_up) std::this_thread::sleep_for(20ms);
  return running() >= count;
}

// Sends SIGINT to the harness and waits for it: its exit status, nullopt after 15 s.
std::optional<int> interrupt(TestProcess& child) {
  if (::kill(child.pid(), SIGINT) != 0) return std::nullopt;
  return child.wait_for(15s);
}

// What still runs carrying `token`, after giving reparented processes 2 s to be reaped by init.
std::vector<std::string> left_with(const std::string& token) {
  auto left = processes_with(token);
  for (int k = 0; k < 100 && !left.empty(); ++k) {
    std::this_thread::sleep_for(20ms);
    left = processes_with(token);
  }
  return left;
}

// "FILE.yaml:LINE:COL: error: MESSAGE" with numbers for LINE and COL and a message.
bool is_located_error(const std::string& line) {
  const std::size_t yaml = line.find(".yaml:");
  if (yaml == std::string::npos || yaml == 0) return false;
  std::size_t p = yaml + 6;
  for (int field = 0; field < 2; ++field) {
    const std::size_t digits = p;
    while (p < line.size() && std::isdigit(static_cast<unsigned char>(line[p]))) ++p;
    if (p == digits || p >= line.size() || line[p] != ':') return false;
    ++p;
  }
  const std::string tag = " error: ";
  return line.compare(p, tag.size(), tag) == 0 && line.size() > p + tag.size();
}

std::string unique_token() {
  std::random_device rd;
  return "cli-token-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) +
         std::to_string(rd());
}

// ---- validate ----------------------------------------------------------------------------------

TEST(cli_validate_test, good_files_exit_0_and_are_named) {
  TempDir dir;
  const Outcome o = harness({"validate", (kData / "valid").string()}, dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  for (const char* name : {"cli_pass", "cli_fail", "cli_memory"}) {
    EXPECT_NE(o.out.find(std::string("(") + name + ")"), std::string::npos) << name << "\n"
                                                                            << o.out;
  }
}

TEST(cli_validate_test, bad_file_exits_2_with_every_error_at_its_position) {
  TempDir dir;
  const std::string file = (kData / "invalid" / "errors.yaml").string();
  const Outcome o = harness({"validate", file}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  // Positions counted by hand in errors.yaml (1-based line:column of the offending token).
  EXPECT_NE(o.err.find(file + ":7:3: error: unknown key 'timout'"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("did you mean 'timeout'"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find(file + ":9:14: error: 'run.instances'"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find(file + ":11:18: error: 'expect.wall_time_max'"), std::string::npos) << o.err;
  EXPECT_EQ(o.out.find("ok:"), std::string::npos) << o.out;
}

TEST(cli_validate_test, a_folder_reports_the_errors_of_every_file) {
  TempDir dir;
  const Outcome o = harness({"validate", (kData / "invalid").string()}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  std::set<std::string> files;
  for (const auto& line : lines_of(o.err)) {
    EXPECT_TRUE(is_located_error(line)) << line;
    files.insert(line.substr(0, line.find(".yaml:") + 5));
  }
  EXPECT_EQ(files, (std::set<std::string>{(kData / "invalid" / "errors.yaml").string(),
                                          (kData / "invalid" / "syntax.yaml").string()}))
      << o.err;
  EXPECT_EQ(lines_of(o.err).size(), 4u) << o.err;  // three in errors.yaml, one syntax error
}

TEST(cli_validate_test, one_bad_file_among_good_ones_fails_the_whole_set) {
  TempDir dir;
  const Outcome o = harness(
      {"validate", (kData / "valid").string(), (kData / "invalid" / "syntax.yaml").string()},
      dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  EXPECT_NE(o.err.find("syntax.yaml:"), std::string::npos) << o.err;
}

// ---- list --------------------------------------------------------------------------------------

TEST(cli_list_test, prints_name_labels_and_file_per_scenario) {
  TempDir dir;
  const fs::path valid = kData / "valid";
  const Outcome o = harness({"list", valid.string()}, dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  std::vector<std::string> lines = lines_of(o.out);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "cli_fail\tcli,failing\t" + (valid / "fail.yaml").string(),
                       "cli_memory\tcli,memory\t" + (valid / "memory.yaml").string(),
                       "cli_pass\tcli,quick\t" + (valid / "pass.yaml").string(),
                   }));
}

// The line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  for (const auto& line : lines_of(text)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

TEST(cli_list_test, ctest_file_registers_each_scenario_with_labels_timeout_and_lock) {
  TempDir dir;
  const fs::path file = dir.path() / "scenarios.cmake";
  const Outcome o =
      harness({"list", (kData / "valid").string(), "--ctest", file.string(), "--report-dir",
               (dir.path() / "ctest-reports").string(), "--var", "WORKERS=" + workers_dir()},
              dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  const std::string text = read_text(file);

  for (const char* name : {"cli_pass", "cli_fail", "cli_memory"}) {
    const std::string test = std::string("[=[scenario.") + name + "]=]";
    const std::string add = line_starting(text, "add_test(" + test + " ");
    ASSERT_NE(add, "") << text;
    EXPECT_NE(add.find(" run "), std::string::npos) << add;
    EXPECT_NE(add.find("WORKERS=" + workers_dir()), std::string::npos) << add;
    EXPECT_NE(add.find((dir.path() / "ctest-reports" / name).string()), std::string::npos) << add;
    const std::string props = line_starting(text, "set_tests_properties(" + test + " ");
    ASSERT_NE(props, "") << text;
    const std::size_t at = props.find(" TIMEOUT ");
    ASSERT_NE(at, std::string::npos) << props;
    // At least the scenario's own timeout plus grace (20 s + 1 s for cli_memory, 30 s + 2 s).
    EXPECT_GE(std::stoi(props.substr(at + 9)), 21) << props;
  }
  EXPECT_NE(line_starting(text, "set_tests_properties([=[scenario.cli_memory]=]")
                .find("LABELS [=[scenario;cli;memory]=]"),
            std::string::npos)
      << text;
  EXPECT_NE(line_starting(text, "set_tests_properties([=[scenario.cli_pass]=]")
                .find("LABELS [=[scenario;cli;quick]=]"),
            std::string::npos)
      << text;
  // Only the scenario that judges memory must have the machine to itself.
  EXPECT_NE(line_starting(text, "set_tests_properties([=[scenario.cli_memory]=]")
                .find("RESOURCE_LOCK harness_memory"),
            std::string::npos)
      << text;
  EXPECT_EQ(
      line_starting(text, "set_tests_properties([=[scenario.cli_pass]=]").find("RESOURCE_LOCK"),
      std::string::npos)
      << text;
}

TEST(cli_list_test, ctest_file_is_read_by_ctest_and_runs_a_scenario) {
  TempDir dir;
  const fs::path tests = dir.path() / "tests";
  fs::create_directories(tests);
  const Outcome o =
      harness({"list", (kData / "valid").string(), "--ctest", (tests / "scenarios.cmake").string(),
               "--report-dir", (dir.path() / "ctest-reports").string(), "--var",
               "WORKERS=" + workers_dir()},
              dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  std::ofstream(tests / "CTestTestfile.cmake")
      << "include(\"" << (tests / "scenarios.cmake").string() << "\")\n";

  const std::string ctest = harness::test::find_program("ctest");
  ASSERT_NE(ctest, "") << "ctest is not on PATH";
  const Outcome ctest_list = harness::test::run_program(
      {ctest, "--test-dir", tests.string(), "-N", "-L", "memory"}, in(dir.path()), 60s);
  ASSERT_EQ(ctest_list.status, 0) << describe(ctest_list);
  EXPECT_NE(ctest_list.out.find("scenario.cli_memory"), std::string::npos) << ctest_list.out;
  EXPECT_EQ(ctest_list.out.find("scenario.cli_pass"), std::string::npos) << ctest_list.out;
  EXPECT_NE(ctest_list.out.find("Total Tests: 1"), std::string::npos) << ctest_list.out;

  const Outcome ctest_run = harness::test::run_program(
      {ctest, "--test-dir", tests.string(), "-L", "quick|failing", "--output-on-failure"},
      in(dir.path()), 120s);
  // cli_fail fails by design, so ctest reports one failure out of two.
  ASSERT_EQ(ctest_run.status, 8) << describe(ctest_run);
  EXPECT_NE(ctest_run.out.find("50% tests passed, 1 tests failed out of 2"), std::string::npos)
      << ctest_run.out;
  EXPECT_TRUE(fs::exists(dir.path() / "ctest-reports" / "cli_pass" / "report.json"));
}

// ---- run: exit status --------------------------------------------------------------------------

TEST(cli_run_test, all_passing_exits_0) {
  TempDir dir;
  const Outcome o = run({(kData / "valid" / "pass.yaml").string()}, dir.path());
  EXPECT_EQ(o.status, 0) << describe(o);
  const json report = read_json(dir.path() / "report" / "report.json");
  EXPECT_EQ(report.at("summary").at("passed"), 1);
  EXPECT_EQ(report.at("summary").at("failed"), 0);
  EXPECT_EQ(report.at("interrupted"), false);
}

TEST(cli_run_test, a_failing_scenario_exits_1_and_says_why) {
  TempDir dir;
  const Outcome o = run({(kData / "valid" / "fail.yaml").string()}, dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);
  const json report = read_json(dir.path() / "report" / "report.json");
  EXPECT_EQ(report.at("summary").at("failed"), 1);
  const json& s = scenario(report, "cli_fail");
  EXPECT_EQ(s.at("status"), "fail");
  ASSERT_EQ(s.at("failures").size(), 1u) << s.dump(2);
  EXPECT_NE(s.at("failures")[0].get<std::string>().find("exit_code expected 0, got 3"),
            std::string::npos)
      << s.at("failures");
  EXPECT_EQ(s.at("instances")[0].at("exit_code"), 3);
}

TEST(cli_run_test, bad_yaml_exits_2_and_runs_nothing) {
  TempDir dir;
  const std::string file = (kData / "invalid" / "errors.yaml").string();
  const Outcome o = run({file}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  EXPECT_NE(o.err.find(file + ":7:3: error:"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir.path() / "report" / "report.json"));
}

TEST(cli_run_test, unknown_path_exits_2_and_names_it) {
  TempDir dir;
  const std::string missing = (dir.path() / "no-such-scenarios").string();
  const Outcome o = run({missing}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  EXPECT_NE(o.err.find(missing), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir.path() / "report" / "report.json"));
}

TEST(cli_run_test, label_selecting_nothing_exits_2) {
  TempDir dir;
  const Outcome o = run({(kData / "valid").string(), "--label", "no-such-label"}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
  EXPECT_NE(o.err.find("--label"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir.path() / "report" / "report.json"));
}

TEST(cli_run_test, unknown_option_exits_2) {
  TempDir dir;
  const Outcome o = run({(kData / "valid" / "pass.yaml").string(), "--no-such-option"}, dir.path());
  EXPECT_EQ(o.status, 2) << describe(o);
}

// ---- run: reports ------------------------------------------------------------------------------

TEST(cli_report_test, report_json_holds_the_contract_fields) {
  TempDir dir;
  const Outcome o = run({(kData / "valid" / "memory.yaml").string()}, dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  const json r = read_json(dir.path() / "report" / "report.json");

  EXPECT_EQ(r.at("schema"), 1);
  EXPECT_TRUE(r.at("harness").at("version").is_string());
  EXPECT_FALSE(r.at("harness").at("version").get<std::string>().empty());
  EXPECT_EQ(r.at("host").at("cpus"), ::sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(r.at("host").at("mem_total_kib").get<long long>(), 0);
  EXPECT_EQ(r.at("summary").at("passed"), 1);
  EXPECT_EQ(r.at("summary").at("failed"), 0);
  EXPECT_EQ(r.at("summary").at("errors"), 0);

  const json& s = scenario(r, "cli_memory");
  EXPECT_EQ(s.at("status"), "pass");
  EXPECT_TRUE(s.at("failures").is_array());
  ASSERT_EQ(s.at("instances").size(), 1u);
  const json& i = s.at("instances")[0];
  EXPECT_EQ(i.at("index"), 0);
  EXPECT_EQ(i.at("exit_code"), 0);
  EXPECT_TRUE(i.at("signal").is_null());
  EXPECT_EQ(i.at("timed_out"), false);
  EXPECT_GT(i.at("wall_s").get<double>(), 0.0);
  EXPECT_TRUE(i.contains("kill_latency_ms"));
  const json& m = i.at("memory");
  for (const char* key : {"baseline_rss_kib", "ready_rss_kib", "peak_rss_kib", "peak_pss_kib",
                          "peak_uss_kib", "hwm_kib"}) {
    ASSERT_TRUE(m.contains(key)) << key;
    EXPECT_TRUE(m.at(key).is_number_integer()) << key << " = " << m.at(key);
  }
  // The worker touched 8 MiB after `ready`: the peak and the kernel's peak must see them.
  EXPECT_GE(m.at("peak_rss_kib").get<long long>(), 8 * 1024);
  EXPECT_GE(m.at("hwm_kib").get<long long>(), 8 * 1024);
  EXPECT_GE(m.at("peak_rss_kib").get<long long>(), m.at("baseline_rss_kib").get<long long>());
  ASSERT_TRUE(m.at("samples").is_array());
  ASSERT_FALSE(m.at("samples").empty());
  // Each sample: t_ms, RSS, PSS, USS, the tree's CPU so far and its thread count.
  double cpu_before = 0;
  for (const auto& sample : m.at("samples")) {
    ASSERT_EQ(sample.size(), 6u) << sample;
    ASSERT_TRUE(sample[4].is_number()) << sample;
    EXPECT_GE(sample[4].get<double>(), cpu_before) << sample;  // CPU time never goes back
    cpu_before = sample[4].get<double>();
    EXPECT_GE(sample[5].get<int>(), 1) << sample;
  }
  // CPU of the whole tree, exact at exit.
  const json& cpu = i.at("cpu");
  for (const char* key : {"user_s", "system_s", "cpu_s", "utilisation_pct"})
    EXPECT_GE(cpu.at(key).get<double>(), 0.0) << key;
  EXPECT_NEAR(cpu.at("cpu_s").get<double>(),
              cpu.at("user_s").get<double>() + cpu.at("system_s").get<double>(), 0.002);
  EXPECT_EQ(cpu.at("threads_max"), 1);
  EXPECT_EQ(cpu.at("processes_max"), 1);
}

TEST(cli_report_test, all_four_files_are_written_and_junit_is_xml) {
  TempDir dir;
  const Outcome o = run({(kData / "valid" / "pass.yaml").string()}, dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  const fs::path report = dir.path() / "report";
  for (const char* file : {"report.json", "junit.xml", "report.md", "report.html"}) {
    ASSERT_TRUE(fs::exists(report / file)) << file;
    EXPECT_GT(fs::file_size(report / file), 0u) << file;
  }
  EXPECT_NE(read_text(report / "junit.xml").find("cli_pass"), std::string::npos);
  EXPECT_NE(read_text(report / "report.md").find("cli_pass"), std::string::npos);
  EXPECT_NE(read_text(report / "report.html").find("cli_pass"), std::string::npos);
  // No temporary file of the atomic rewrite is left behind.
  for (const auto& entry : fs::directory_iterator(report)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
  HARNESS_XMLLINT_OR_SKIP(lint, report / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message << read_text(report / "junit.xml");
}

TEST(cli_report_test, xmllint_rejects_broken_xml) {  // the checks above can fail
  TempDir dir;
  std::ofstream(dir.path() / "bad.xml") << "<a><b></a>";
  HARNESS_XMLLINT_OR_SKIP(lint, dir.path() / "bad.xml");
  EXPECT_NE(lint->status, 0) << lint->message;
  EXPECT_NE(lint->message.find("parser error"), std::string::npos) << lint->message;
}

TEST(cli_report_test, hostile_worker_output_keeps_every_report_valid_and_escaped) {
  TempDir dir;
  const Outcome o = run({(kData / "hostile").string()}, dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);  // cli_script expects exit 0 and gets 3
  const fs::path report = dir.path() / "report";

  const json r = read_json(report / "report.json");  // throws on invalid UTF-8
  EXPECT_EQ(scenario_names(r), (std::vector<std::string>{"cli_garbage", "cli_script"}));
  const json& garbage = scenario(r, "cli_garbage").at("instances")[0];
  // The garbage really arrived: its byte counts include the invalid bytes.
  EXPECT_GT(garbage.at("stdout").at("bytes").get<long long>(), 100);
  EXPECT_GT(garbage.at("stderr").at("bytes").get<long long>(), 0);

  const std::string xml = read_text(report / "junit.xml");
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  EXPECT_EQ(harness::sanitize_utf8(xml), xml);

  const std::string html = read_text(report / "report.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert("), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.find('\x07'), std::string::npos);
  EXPECT_EQ(html.find(std::string(1, '\0')), std::string::npos);
  EXPECT_EQ(harness::sanitize_utf8(html), html);

  const std::string md = read_text(report / "report.md");
  EXPECT_EQ(md.find('\x1b'), std::string::npos);
  EXPECT_EQ(harness::sanitize_utf8(md), md);
  HARNESS_XMLLINT_OR_SKIP(lint, report / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message << read_text(report / "junit.xml");
}

TEST(cli_report_test, reports_hold_every_scenario_of_the_run_in_order) {
  TempDir dir;
  const Outcome o =
      run({(kData / "valid" / "pass.yaml").string(), (kData / "valid" / "fail.yaml").string()},
          dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);
  const fs::path report = dir.path() / "report";
  const json r = read_json(report / "report.json");
  EXPECT_EQ(scenario_names(r), (std::vector<std::string>{"cli_pass", "cli_fail"}));
  EXPECT_EQ(r.at("summary").at("passed"), 1);
  EXPECT_EQ(r.at("summary").at("failed"), 1);
  EXPECT_FALSE(r.at("finished_at").is_null());
  const std::string xml = read_text(report / "junit.xml");
  EXPECT_NE(xml.find("cli_pass"), std::string::npos);
  EXPECT_NE(xml.find("cli_fail"), std::string::npos);
}

// ---- run: selection and variables --------------------------------------------------------------

TEST(cli_run_test, label_runs_only_the_scenarios_carrying_it) {
  TempDir dir;
  const Outcome o = run({(kData / "valid").string(), "--label", "quick"}, dir.path());
  EXPECT_EQ(o.status, 0) << describe(o);  // cli_fail is not selected
  EXPECT_EQ(scenario_names(read_json(dir.path() / "report" / "report.json")),
            (std::vector<std::string>{"cli_pass"}));
}

TEST(cli_run_test, repeated_labels_select_the_union) {
  TempDir dir;
  const Outcome o =
      run({(kData / "valid").string(), "--label", "quick", "--label", "failing"}, dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);
  std::vector<std::string> names = scenario_names(read_json(dir.path() / "report" / "report.json"));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cli_fail", "cli_pass"}));
}

TEST(cli_run_test, var_overrides_a_default_and_stays_one_argument) {
  TempDir dir;
  const std::string message = "two words; $(touch pwned) \"quoted\" ${WORKERS}";
  const Outcome o = run({(kData / "valid" / "fail.yaml").string(), "--var", "CLI_EXIT_CODE=0",
                         "--var", "CLI_MESSAGE=" + message},
                        dir.path());
  EXPECT_EQ(o.status, 0) << describe(o);  // the worker now exits 0 as expected
  const json r = read_json(dir.path() / "report" / "report.json");
  const json& i = scenario(r, "cli_fail").at("instances")[0];
  EXPECT_EQ(i.at("exit_code"), 0);
  const auto argv = i.at("argv").get<std::vector<std::string>>();
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.back(), message);  // not split, not expanded again, not run by a shell
  EXPECT_NE(i.at("stderr").at("tail").get<std::string>().find(message), std::string::npos)
      << i.at("stderr");
  EXPECT_FALSE(fs::exists(dir.path() / "pwned"));
}

TEST(cli_run_test, var_defines_a_name_used_without_default) {
  TempDir dir;
  const Outcome o =
      run({(kData / "var").string(), "--var", "CLI_REQUIRED=given by --var"}, dir.path());
  EXPECT_EQ(o.status, 0) << describe(o);
}

TEST(cli_run_test, harness_workers_environment_is_the_default_workers_folder) {
  TempDir dir;
  // A folder of its own, so the report shows which folder ${WORKERS} came from.
  const fs::path workers = dir.path() / "workers";
  fs::create_directories(workers);
  fs::create_symlink(FAULT_WORKER, workers / "fault_worker");
  const Outcome o = harness({"run", (kData / "valid" / "pass.yaml").string(), "--report-dir",
                             (dir.path() / "report").string()},
                            dir.path(), {"HARNESS_WORKERS=" + workers.string()});
  EXPECT_EQ(o.status, 0) << describe(o);
  const json r = read_json(dir.path() / "report" / "report.json");
  EXPECT_EQ(scenario(r, "cli_pass").at("instances")[0].at("argv")[0],
            (workers / "fault_worker").string());
}

TEST(cli_run_test, matrix_gives_one_run_per_point) {
  TempDir dir;
  const Outcome o = run({(kData / "matrix").string()}, dir.path());
  ASSERT_EQ(o.status, 0) << describe(o);
  const json r = read_json(dir.path() / "report" / "report.json");
  const json& s = scenario(r, "cli_matrix");
  std::set<std::pair<int, int>> points;  // (instances, work)
  std::size_t instances = 0;
  for (const auto& r : s.at("runs")) {
    const int n = r.at("params").at("instances").get<int>();
    points.insert({n, r.at("params").at("work").get<int>()});
    EXPECT_EQ(r.at("metrics").at("instances"), n) << r.at("params");
    instances += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(s.at("runs").size(), 6u);
  EXPECT_EQ(points,
            (std::set<std::pair<int, int>>{{1, 0}, {1, 20}, {1, 40}, {2, 0}, {2, 20}, {2, 40}}));
  EXPECT_EQ(s.at("instances").size(), instances);
  for (const auto& i : s.at("instances")) {
    const auto argv = i.at("argv").get<std::vector<std::string>>();
    EXPECT_EQ(argv.back(), std::to_string(i.at("params").at("work").get<int>())) << i.at("argv");
  }
}

// ---- run: timeouts and interruption -----------------------------------------------------------

TEST(cli_run_test, timeout_is_reported_with_signal_and_kill_latency) {
  TempDir dir;
  const Outcome o = run({(kData / "timeout").string()}, dir.path());
  EXPECT_EQ(o.status, 0) << describe(o);  // the scenario expects the timeout
  const json r = read_json(dir.path() / "report" / "report.json");
  const json& s = scenario(r, "cli_timeout");
  ASSERT_EQ(s.at("instances").size(), 1u);
  const json& i = s.at("instances")[0];
  EXPECT_EQ(i.at("timed_out"), true);
  EXPECT_TRUE(i.at("exit_code").is_null()) << i.at("exit_code");
  ASSERT_TRUE(i.at("signal").is_string()) << i.at("signal");
  EXPECT_TRUE(i.at("signal") == "SIGTERM" || i.at("signal") == "SIGKILL") << i.at("signal");
  ASSERT_TRUE(i.at("kill_latency_ms").is_number()) << i.at("kill_latency_ms");
  EXPECT_GE(i.at("kill_latency_ms").get<double>(), 0.0);
  EXPECT_GE(i.at("wall_s").get<double>(), 1.0);  // not killed before its 1 s timeout
  EXPECT_LT(i.at("wall_s").get<double>(), 10.0);
}

TEST(cli_run_test, sigint_mid_scenario_leaves_a_valid_partial_report_and_no_processes) {
  TempDir dir;
  const std::string token = unique_token();
  const fs::path report = dir.path() / "report";
  TestProcess child(
      harness_argv({"run", (kData / "interrupt").string(), "--var", "WORKERS=" + workers_dir(),
                    "--var", "CLI_TOKEN=" + token, "--report-dir", report.string()}),
      in(dir.path()));

  // Wait for the hanging worker (the only fault_worker carrying the token) to be alive.
  ASSERT_TRUE(wait_for_workers(token, 1)) << "the worker never started\n" << child.err();
  ASSERT_TRUE(fs::exists(report / "report.json"));
  std::this_thread::sleep_for(500ms);

  const std::optional<int> status = interrupt(child);
  ASSERT_TRUE(status.has_value()) << "the harness did not stop within 15 s of SIGINT";
  EXPECT_EQ(*status, 130) << child.out() << child.err();

  const json r = read_json(report / "report.json");
  EXPECT_EQ(r.at("interrupted"), true);
  EXPECT_EQ(scenario_names(r), (std::vector<std::string>{"cli_interrupt_hang"}));
  const json& i = scenario(r, "cli_interrupt_hang").at("instances")[0];
  EXPECT_EQ(i.at("cancelled"), true);
  EXPECT_EQ(i.at("timed_out"), false);  // stopped by the interrupt, long before its 60 s
  EXPECT_FALSE(fs::exists(report / "out" / "cli_interrupt_after"));
  EXPECT_NE(child.err().find("interrupted"), std::string::npos) << child.err();
  // What the worker printed before the interrupt is in its log and in run.log, prefixed.
  ASSERT_TRUE(i.at("log").is_string()) << i.dump();
  EXPECT_EQ(i.at("log"), "logs/cli_interrupt_hang/run-1/instance-0.log");
  const std::string log = read_text(report / i.at("log").get<std::string>());
  EXPECT_NE(log.find(" out [cli_interrupt_hang#0] {\"event\":\"started\""), std::string::npos)
      << log;
  const std::string run_log = read_text(report / "logs" / "run.log");
  EXPECT_NE(run_log.find(" [cli_interrupt_hang#0] out: {\"event\":\"started\""),
            std::string::npos)
      << run_log;

  const auto left = left_with(token);  // the worker's tree is gone
  EXPECT_TRUE(left.empty()) << left.front();
  HARNESS_XMLLINT_OR_SKIP(lint, report / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message;
}

}  // namespace

namespace {

double end_s(const json& s) {
  return s.at("start_s").get<double>() + s.at("duration_s").get<double>();
}

bool overlap(const json& a, const json& b) {
  return a.at("start_s").get<double>() < end_s(b) && b.at("start_s").get<double>() < end_s(a);
}

TEST(cli_jobs_test, two_jobs_overlap_scenarios_but_memory_ones_run_alone) {
  TempDir dir;
  const Outcome o = run({(kData / "jobs").string(), "--jobs", "2"}, dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);  // jobs_fail fails
  const json r = read_json(dir.path() / "report" / "report.json");
  EXPECT_EQ(r.at("jobs"), 2);
  // File order in every report, whatever order the jobs finished in.
  EXPECT_EQ(scenario_names(r),
            (std::vector<std::string>{"jobs_slow_a", "jobs_slow_b", "jobs_memory", "jobs_fail"}));
  const json& a = scenario(r, "jobs_slow_a");
  const json& b = scenario(r, "jobs_slow_b");
  const json& m = scenario(r, "jobs_memory");
  const json& f = scenario(r, "jobs_fail");
  EXPECT_EQ(a.at("status"), "pass");
  EXPECT_EQ(b.at("status"), "pass");
  EXPECT_EQ(m.at("status"), "pass");
  EXPECT_EQ(f.at("status"), "fail");
  EXPECT_TRUE(overlap(a, b)) << a.at("start_s") << " " << b.at("start_s");
  for (const json* other : {&a, &b, &f}) {
    EXPECT_FALSE(overlap(m, *other)) << m.at("start_s") << " vs " << other->at("start_s");
  }
  const std::string md = read_text(dir.path() / "report" / "report.md");
  EXPECT_NE(md.find("| jobs | 2 scenarios at a time"), std::string::npos) << md;
  EXPECT_NE(o.err.find("FAIL jobs_fail"), std::string::npos) << o.err;
  HARNESS_XMLLINT_OR_SKIP(lint, dir.path() / "report" / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message;
}

TEST(cli_jobs_test, one_job_is_the_default_and_runs_scenarios_in_a_row) {
  TempDir dir;
  const Outcome o = run({(kData / "jobs").string()}, dir.path());
  EXPECT_EQ(o.status, 1) << describe(o);
  const json r = read_json(dir.path() / "report" / "report.json");
  EXPECT_EQ(r.at("jobs"), 1);
  const json& s = r.at("scenarios");
  ASSERT_EQ(s.size(), 4u);
  for (std::size_t i = 1; i < s.size(); ++i) {
    EXPECT_GE(s[i].at("start_s").get<double>(), end_s(s[i - 1])) << s[i].at("name");
  }
  EXPECT_EQ(read_text(dir.path() / "report" / "report.md").find("| jobs |"), std::string::npos);
}

TEST(cli_jobs_test, jobs_must_be_at_least_one) {
  TempDir dir;
  for (const char* bad : {"0", "-1", "two"}) {
    const Outcome o = run({(kData / "jobs").string(), "--jobs", bad}, dir.path());
    EXPECT_EQ(o.status, 2) << bad << "\n" << describe(o);
    EXPECT_NE(o.err.find("--jobs"), std::string::npos) << o.err;
    EXPECT_FALSE(fs::exists(dir.path() / "report" / "report.json"));
  }
}

TEST(cli_jobs_test, sigint_stops_every_running_job_and_keeps_their_report) {
  TempDir dir;
  const std::string token = unique_token();
  const fs::path report = dir.path() / "report";
  TestProcess child(harness_argv({"run", (kData / "interrupt_jobs").string(), "--jobs", "2",
                                  "--var", "WORKERS=" + workers_dir(), "--var",
                                  "CLI_TOKEN=" + token, "--report-dir", report.string()}),
                    in(dir.path()));
  ASSERT_TRUE(wait_for_workers(token, 2)) << "the two hanging workers never ran together\n"
                                          << child.err();
  std::this_thread::sleep_for(300ms);

  const std::optional<int> status = interrupt(child);
  ASSERT_TRUE(status.has_value()) << "the harness did not stop within 15 s of SIGINT";
  EXPECT_EQ(*status, 130) << child.out() << child.err();

  const json r = read_json(report / "report.json");
  EXPECT_EQ(r.at("interrupted"), true);
  EXPECT_EQ(scenario_names(r),
            (std::vector<std::string>{"jobs_interrupt_hang_1", "jobs_interrupt_hang_2"}));
  for (const auto& s : r.at("scenarios")) {
    EXPECT_EQ(s.at("instances")[0].at("cancelled"), true) << s.at("name");
  }
  EXPECT_FALSE(fs::exists(report / "out" / "jobs_interrupt_after"));

  const auto left = left_with(token);
  EXPECT_TRUE(left.empty()) << left.front();
  HARNESS_XMLLINT_OR_SKIP(lint, report / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message;
}

}  // namespace
