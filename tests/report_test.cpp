// Report tests: each format against a stored expected file with placeholders, the JSON contract
// of reports/README.md, and hostile worker output through every format.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/core/escape.hpp"
#include "harness/report/json_report.hpp"
#include "harness/report/report_writer.hpp"
#include "harness/report/reporter.hpp"
#include "tests/output_match.hpp"
#include "tests/report_fixture.hpp"
#include "tests/xmllint.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using testing::hostile_report;
using testing::kHostileText;
using testing::seed_report;

std::string render(const Reporter& reporter, const RunReport& report) {
  std::ostringstream out;
  reporter.write(report, out);
  return out.str();
}

std::string expected(const std::string& name) {
  const std::string path = std::string(HARNESS_TEST_DATA_DIR) + "/reports/" + name;
  const std::string text = testing::read_text_file(path);
  EXPECT_FALSE(text.empty()) << "missing expected file " << path;
  return text;
}

// A fresh folder under the test temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::path(::testing::TempDir()) /
            ("report_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A scenario repeated 1500 times, every run failing with output: the human reports show a
// bounded part and say so; junit.xml keeps a testcase per instance; report.json keeps it all.
RunReport many_runs_report(std::size_t runs) {
  RunReport r;
  r.harness_version = "0.1.0";
  ScenarioResult s = testing::scenario("many", "fail");
  for (std::size_t i = 0; i < runs; ++i) {
    ScenarioRun run;
    run.repeat = static_cast<int>(i);
    ProcessResult p;
    p.pid = 100 + static_cast<int>(i);
    p.exit_code = 1;
    p.out.bytes = 6;
    p.out.lines = 1;
    p.out.tail = "oops!\n";
    run.instances.push_back(p);
    run.failures.push_back("instance 0: exit_code expected 0, got 1");
    s.failures.push_back("repeat " + std::to_string(i) +
                         ": instance 0: exit_code expected 0, got 1");
    s.runs.push_back(std::move(run));
  }
  r.scenarios.push_back(std::move(s));
  return r;
}

// ---- expected files ----------------------------------------------------------------------------

TEST(report_markdown_test, matches_expected_file) {
  const std::string out = render(*make_markdown_reporter(), seed_report());
  EXPECT_EQ(testing::match_output(expected("seed.md"), out), "");
}

TEST(report_junit_test, matches_expected_file) {
  const std::string out = render(*make_junit_reporter(), seed_report());
  EXPECT_EQ(testing::match_output(expected("seed.junit.xml"), out), "");
}

TEST(output_match_test, placeholders_match_numbers_and_times_only) {
  EXPECT_EQ(testing::match_output("took {{NUM}} s", "took 12.5 s"), "");
  EXPECT_EQ(testing::match_output("at {{TIME}}", "at 2026-11-25T10:00:00Z"), "");
  EXPECT_EQ(testing::match_output("a {{ANY}} z", "a anything at all z"), "");
  EXPECT_NE(testing::match_output("took {{NUM}} s", "took many s"), "");
  EXPECT_NE(testing::match_output("took {{NUM}} s", "took 1. s"), "");
  EXPECT_NE(testing::match_output("x", "x\ny"), "");
}

// ---- report.json contract ----------------------------------------------------------------------

TEST(report_json_test, minimal_contract_fields_have_their_types) {
  const nlohmann::json j = nlohmann::json::parse(render(*make_json_reporter(), seed_report()));
  EXPECT_EQ(j.at("schema"), 1);
  EXPECT_TRUE(j.at("harness").at("version").is_string());
  EXPECT_TRUE(j.at("host").at("cpus").is_number_integer());
  EXPECT_TRUE(j.at("host").at("mem_total_kib").is_number_integer());
  EXPECT_EQ(j.at("summary").at("passed"), 6);
  EXPECT_EQ(j.at("summary").at("failed"), 1);
  EXPECT_EQ(j.at("summary").at("errors"), 1);
  ASSERT_EQ(j.at("scenarios").size(), 8u);
  for (const auto& s : j.at("scenarios")) {
    EXPECT_TRUE(s.at("name").is_string());
    EXPECT_TRUE(s.at("status") == "pass" || s.at("status") == "fail" || s.at("status") == "error");
    EXPECT_TRUE(s.at("failures").is_array());
    for (const auto& i : s.at("instances")) {
      EXPECT_TRUE(i.at("index").is_number_integer());
      EXPECT_TRUE(i.at("exit_code").is_number_integer() || i.at("exit_code").is_null());
      EXPECT_TRUE(i.at("signal").is_string() || i.at("signal").is_null());
      EXPECT_TRUE(i.at("timed_out").is_boolean());
      EXPECT_TRUE(i.at("wall_s").is_number());
      EXPECT_TRUE(i.at("kill_latency_ms").is_number() || i.at("kill_latency_ms").is_null());
      const auto& m = i.at("memory");
      for (const char* key : {"baseline_rss_kib", "ready_rss_kib", "peak_rss_kib", "peak_pss_kib",
                              "peak_uss_kib", "hwm_kib"}) {
        EXPECT_TRUE(m.at(key).is_number_integer() || m.at(key).is_null()) << key;
      }
      for (const auto& sample : m.at("samples")) {
        ASSERT_EQ(sample.size(), 6u);  // t, rss, pss, uss, cpu_ms, threads
        EXPECT_TRUE(sample[0].is_number());
        EXPECT_TRUE(sample[1].is_number_integer());
        EXPECT_TRUE(sample[4].is_number() || sample[4].is_null());
        EXPECT_TRUE(sample[5].is_number_integer());
      }
    }
  }
}

TEST(report_json_test, timeout_instance_is_signalled_not_exited) {
  const nlohmann::json j = to_json(seed_report());
  const auto& i = j.at("scenarios").at(4).at("instances").at(0);
  EXPECT_EQ(j.at("scenarios").at(4).at("name"), "timeout");
  EXPECT_TRUE(i.at("exit_code").is_null());
  EXPECT_EQ(i.at("signal"), "SIGKILL");
  EXPECT_EQ(i.at("timed_out"), true);
  EXPECT_DOUBLE_EQ(i.at("kill_latency_ms").get<double>(), 1.2);
  EXPECT_TRUE(i.at("memory").at("baseline_rss_kib").is_null());  // -1: unknown
  EXPECT_EQ(i.at("memory").at("peak_rss_kib"), 3000);
}

TEST(report_json_test, instances_carry_run_result_and_events_without_progress) {
  const nlohmann::json j = to_json(seed_report());
  const auto& s = j.at("scenarios").at(0);
  const auto& i = s.at("instances").at(0);
  EXPECT_EQ(i.at("run"), 0);
  EXPECT_EQ(i.at("status"), "success");
  EXPECT_EQ(i.at("result").at("frames_processed"), 100);
  EXPECT_EQ(i.at("progress_events"), 2);
  for (const auto& e : i.at("events")) EXPECT_NE(e.at("body").at("event"), "progress");
  EXPECT_EQ(i.at("events").size(), 3u);
  EXPECT_EQ(i.at("memory").at("added_kib"), 204800 - 20480);
  EXPECT_EQ(s.at("runs").at(0).at("metrics").at("frames_total"), 100);
}

TEST(report_json_test, matrix_runs_have_params_and_metrics) {
  const nlohmann::json j = to_json(seed_report());
  const auto& s = j.at("scenarios").at(5);
  ASSERT_EQ(s.at("runs").size(), 3u);
  EXPECT_EQ(s.at("runs").at(2).at("params").at("instances"), 3);
  EXPECT_NEAR(s.at("runs").at(2).at("metrics").at("throughput_fps").get<double>(), 300 / 3.8, 1e-9);
  EXPECT_EQ(s.at("instances").size(), 6u);  // 1 + 2 + 3, flattened with their run index
  EXPECT_EQ(s.at("instances").at(5).at("run"), 2);
}

TEST(report_json_test, samples_are_capped_and_keep_the_peak) {
  RunReport r = seed_report();
  MemoryStats& m = r.scenarios[0].runs[0].instances[0].memory;
  m.samples.clear();
  for (int i = 0; i < 10000; ++i) {
    m.samples.push_back({i * 1.0, 1000 + (i == 7777 ? 50000 : i % 10), -1, -1, 1});
  }
  const nlohmann::json j = to_json(r);
  const auto& mem = j.at("scenarios").at(0).at("instances").at(0).at("memory");
  EXPECT_LE(mem.at("samples").size(), kMaxSamplesPerInstance);
  EXPECT_EQ(mem.at("samples_total"), 10000);
  bool has_peak = false;
  for (const auto& s : mem.at("samples")) has_peak = has_peak || s.at(1) == 51000;
  EXPECT_TRUE(has_peak);
  EXPECT_EQ(mem.at("samples").front().at(0), 0.0);
  EXPECT_EQ(mem.at("samples").back().at(0), 9999.0);
}

TEST(report_json_test, downsample_keeps_everything_under_the_cap) {
  std::vector<MemorySample> samples(10);
  EXPECT_EQ(downsample_indices(samples, 2000).size(), 10u);
}

// report.json is streamed scenario by scenario and run by run (json_stream.hpp): the bytes must
// be those of dumping the whole tree, for every kind of scenario the fixtures hold (a sweep with
// its capacity, a matrix, errors, hostile bytes, nothing at all).
TEST(report_json_test, streamed_report_is_byte_for_byte_the_whole_tree_dumped) {
  RunReport interrupted = seed_report();
  interrupted.interrupted = true;
  interrupted.complete = false;
  interrupted.finished_at.clear();
  RunReport no_runs = seed_report();
  for (auto& s : no_runs.scenarios) s.runs.clear();
  for (const RunReport& r :
       {seed_report(), hostile_report(), RunReport{}, interrupted, no_runs, many_runs_report(30)}) {
    const std::string whole =
        to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const std::string streamed = render(*make_json_reporter(), r);
    ASSERT_EQ(streamed.size(), whole.size());
    EXPECT_EQ(streamed, whole);
  }
}

TEST(report_json_test, empty_report_is_valid) {
  const nlohmann::json j = nlohmann::json::parse(render(*make_json_reporter(), RunReport{}));
  EXPECT_EQ(j.at("summary").at("passed"), 0);
  EXPECT_TRUE(j.at("scenarios").empty());
}

// ---- hostile worker output ---------------------------------------------------------------------

TEST(report_hostile_test, json_with_invalid_utf8_does_not_throw_and_parses_back) {
  const RunReport r = hostile_report();
  std::string out;
  ASSERT_NO_THROW(out = render(*make_json_reporter(), r));
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(out));
  ASSERT_NO_THROW(to_json(r).dump());  // to_json alone already yields dumpable JSON
  const std::string tail = j.at("scenarios").at(0).at("instances").at(0).at("stdout").at("tail");
  EXPECT_NE(tail.find("<script>"), std::string::npos);      // JSON keeps the text as text
  EXPECT_NE(tail.find("\xEF\xBF\xBD"), std::string::npos);  // invalid bytes became U+FFFD
}

TEST(report_hostile_test, junit_is_well_formed_xml) {
  TempDir dir;
  fs::create_directories(dir.path());
  const fs::path file = write_report(*make_junit_reporter(), hostile_report(), dir.path());
  const std::string xml = testing::read_text_file(file);
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
  EXPECT_EQ(xml.find("]]>"), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  EXPECT_NE(xml.find("\\x1B[31m"), std::string::npos);  // the escape is shown, not dropped
  HARNESS_XMLLINT_OR_SKIP(lint, file);
  EXPECT_EQ(lint->status, 0) << lint->message << testing::read_text_file(file);
}

TEST(report_hostile_test, xmllint_rejects_broken_xml) {  // the check above can fail
  TempDir dir;
  fs::create_directories(dir.path());
  std::ofstream(dir.path() / "bad.xml") << "<a><b></a>";
  HARNESS_XMLLINT_OR_SKIP(lint, dir.path() / "bad.xml");
  EXPECT_NE(lint->status, 0) << lint->message;
  EXPECT_NE(lint->message.find("parser error"), std::string::npos) << lint->message;
}

TEST(report_hostile_test, html_shows_script_as_text) {
  const std::string html = render(*make_html_reporter(), hostile_report());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>hostile"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;hostile&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.find(std::string(1, '\0')), std::string::npos);
  EXPECT_EQ(sanitize_utf8(html), html);  // valid UTF-8 throughout
}

TEST(report_hostile_test, markdown_stays_one_row_per_scenario) {
  const std::string md = render(*make_markdown_reporter(), hostile_report());
  EXPECT_EQ(md.find('\x1b'), std::string::npos);
  EXPECT_EQ(sanitize_utf8(md), md);
  const auto row = md.find("| &lt;b");  // not escaped for HTML, but for the table
  (void)row;
  const auto start = md.find("| <b>hostile</b> ]]> | FAIL |");
  ASSERT_NE(start, std::string::npos) << md;
  const auto end = md.find('\n', start);
  const std::string line = md.substr(start, end - start);
  EXPECT_EQ(line.back(), '|');
}

// ---- report.html -------------------------------------------------------------------------------

TEST(report_html_test, self_contained_and_responsive) {
  const std::string html = render(*make_html_reporter(), seed_report());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  // The only URL is the SVG namespace, which is a name, not a fetch.
  std::size_t pos = 0;
  while ((pos = html.find("http", pos)) != std::string::npos) {
    EXPECT_EQ(html.compare(pos, 26, "http://www.w3.org/2000/svg"), 0) << html.substr(pos, 60);
    ++pos;
  }
}

TEST(report_html_test, memory_charts_mark_ready_and_matrix_has_series_charts) {
  const std::string html = render(*make_html_reporter(), seed_report());
  EXPECT_NE(html.find(">ready</text>"), std::string::npos);
  EXPECT_NE(html.find("Throughput against instances"), std::string::npos);
  EXPECT_NE(html.find("Wall time per instance against instances"), std::string::npos);
  EXPECT_NE(html.find(">p95 wall</text>"), std::string::npos);
}

TEST(report_html_test, a_long_run_shows_bounded_tables_and_says_so) {
  const std::string html = render(*make_html_reporter(), many_runs_report(1500));
  EXPECT_NE(html.find("1000 of 1500 runs shown; all are in report.json."), std::string::npos);
  EXPECT_NE(html.find("1000 of 1500 instances shown; all are in report.json."), std::string::npos);
  EXPECT_NE(html.find("100 of 1500 failures shown; all are in report.json."), std::string::npos);
  EXPECT_NE(html.find("100 of 1500 instance outputs shown; all are in report.json."),
            std::string::npos);
  std::size_t details = 0;
  for (std::size_t pos = html.find("<details>"); pos != std::string::npos;
       pos = html.find("<details>", pos + 1))
    ++details;
  EXPECT_EQ(details, 100u);
  const std::string small = render(*make_html_reporter(), many_runs_report(10));
  EXPECT_EQ(small.find(" shown; all are in report.json."), std::string::npos);
}

TEST(report_markdown_test, a_long_run_lists_a_bounded_number_of_failures) {
  const std::string md = render(*make_markdown_reporter(), many_runs_report(1500));
  std::size_t items = 0;
  for (std::size_t pos = md.find("\n  - repeat "); pos != std::string::npos;
       pos = md.find("\n  - repeat ", pos + 1))
    ++items;
  EXPECT_EQ(items, 100u);
  EXPECT_NE(md.find("  - (1400 more in report.json)\n"), std::string::npos);
}

TEST(report_junit_test, a_long_run_keeps_a_testcase_per_instance) {
  const std::string xml = render(*make_junit_reporter(), many_runs_report(1500));
  EXPECT_NE(xml.find("tests=\"1500\" failures=\"1500\""), std::string::npos);
  std::size_t cases = 0;
  for (std::size_t pos = xml.find("<testcase "); pos != std::string::npos;
       pos = xml.find("<testcase ", pos + 1))
    ++cases;
  EXPECT_EQ(cases, 1500u);
}

// ---- writing -----------------------------------------------------------------------------------

TEST(report_writer_test, writes_all_four_and_leaves_no_tmp) {
  TempDir dir;
  const fs::path target = dir.path() / "nested" / "latest";
  write_reports(seed_report(), target);  // creates the folder
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(target)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"junit.xml", "report.html", "report.json", "report.md"}));
  if (const char* keep = std::getenv("HARNESS_KEEP_REPORTS")) {  // for looking at them by hand
    fs::create_directories(keep);
    fs::copy(target, keep, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  }
  HARNESS_XMLLINT_OR_SKIP(lint, target / "junit.xml");
  EXPECT_EQ(lint->status, 0) << lint->message;
}

TEST(report_writer_test, rewriting_replaces_the_previous_report) {
  TempDir dir;
  RunReport r = seed_report();
  write_reports(r, dir.path());
  r.scenarios.resize(1);
  write_reports(r, dir.path());
  const auto j = nlohmann::json::parse(testing::read_text_file(dir.path() / "report.json"));
  EXPECT_EQ(j.at("scenarios").size(), 1u);
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
}

TEST(report_writer_test, unwritable_folder_names_the_path) {
  TempDir dir;
  fs::create_directories(dir.path());
  std::ofstream(dir.path() / "file") << "x";
  try {
    write_reports(seed_report(), dir.path() / "file" / "sub");
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "file" / "sub").string()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace harness
