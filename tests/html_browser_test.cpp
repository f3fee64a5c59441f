// report.html in a real browser: Debian's Chromium (installed by setup.sh) loads the report of a
// job-stream scenario with a peak search, headless, and prints the DOM it built. The page must
// load without a script error, and every chart of the file must be in the DOM as an SVG element
// (a markup error would drop or swallow charts). Without chromium the test is skipped with a
// message, never passed.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/report/reporter.hpp"
#include "tests/peak_fixture.hpp"
#include "tests/test_process.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;

std::string fmt_rate(double r) {
  std::ostringstream o;
  o << r << "/s";
  return o.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

ScenarioRun stream(const std::string& mode, double rate, double service_ms) {
  ScenarioRun run;
  run.params = {{"mode", mode}, {"rate", fmt_rate(rate)}};
  JobsResult r;
  r.mode = mode;
  r.workers = 2;
  r.arrival = "poisson " + fmt_rate(rate) + " seed 1";
  for (int i = 1; i <= 40; ++i) {
    JobRecord j;
    j.id = i;
    j.worker = i % 2;
    j.attempts = 1;
    j.scheduled_ms = j.submitted_ms = 1000.0 * i / rate;
    j.dispatched_ms = j.scheduled_ms + (i % 7);
    j.ended_ms = j.dispatched_ms + service_ms + (i % 5) * 10;
    j.status = i == 13 ? "failed" : "success";
    r.records.push_back(j);
  }
  r.scheduled = 40;
  r.succeeded = 39;
  r.failed = 1;
  r.latency = {39, 120, 160, 170, 180, 180, 180, 130};
  run.jobs = std::move(r);
  return run;
}

RunReport peak_report() {
  RunReport rep;
  rep.harness_version = "test";
  ScenarioResult s;
  s.name = "peak <search> & \"designs\"";
  s.status = "pass";
  s.runs.push_back(stream("pool", 10, 50));
  s.runs.push_back(stream("pool", 20, 80));
  s.peaks.push_back(test::two_rate_peak());
  rep.scenarios.push_back(std::move(s));
  return rep;
}

TEST(html_browser_test, chromium_loads_the_report_and_every_chart_is_in_its_dom) {
  const std::string chromium = test::find_program("chromium");
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (setup.sh installs it)";
  const fs::path dir =
      fs::temp_directory_path() / ("html_browser_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path page = dir / "report.html";
  {
    std::ofstream out(page);
    make_html_reporter()->write(peak_report(), out);
  }
  std::stringstream source;
  source << std::ifstream(page).rdbuf();
  const std::size_t charts = count(source.str(), "<svg");
  // The CDF, a timeline per run and the peak chart at least.
  ASSERT_GE(charts, 4u);

  const test::Completed c =
      test::run_program({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--user-data-dir=" + (dir / "profile").string(), "--enable-logging=stderr",
                         "--v=0", "--dump-dom", "file://" + page.string()},
                        {}, std::chrono::seconds(90));
  ASSERT_FALSE(c.timed_out) << c.err;
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("</html>"), std::string::npos) << c.out.substr(0, 2000);
  EXPECT_EQ(count(c.out, "<svg"), charts) << c.out.substr(0, 2000);
  EXPECT_NE(c.out.find("<h3>Peak search</h3>"), std::string::npos);
  EXPECT_NE(c.out.find("Latency distribution"), std::string::npos);
  // The scenario's name is text in the DOM, not markup.
  EXPECT_NE(c.out.find("peak &lt;search&gt; &amp; \"designs\""), std::string::npos)
      << c.out.substr(0, 2000);
  EXPECT_EQ(c.out.find("<search>"), std::string::npos);
  EXPECT_EQ(c.err.find("Uncaught"), std::string::npos) << c.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace harness
