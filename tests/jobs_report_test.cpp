// How a job stream shows in the reports: report.json's runs[].jobs, the report.md table (with
// "designs compared" when the runs differ in mode) and report.html's CDF and timeline.

#include <gtest/gtest.h>

#include <sstream>

#include "harness/report/reporter.hpp"
#include "tests/peak_fixture.hpp"

namespace harness {
namespace {

std::string render(const Reporter& reporter, const RunReport& report) {
  std::ostringstream out;
  reporter.write(report, out);
  return out.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

ScenarioRun stream(const std::string& mode, int jobs, double service_ms) {
  ScenarioRun run;
  run.params = {{"mode", mode}};
  JobsResult r;
  r.mode = mode;
  r.workers = 2;
  r.arrival = "closed 2";
  for (int i = 1; i <= jobs; ++i) {
    JobRecord j;
    j.id = i;
    j.worker = i % 2;
    j.attempts = 1;
    j.scheduled_ms = j.submitted_ms = 10.0 * i;
    j.dispatched_ms = j.scheduled_ms + 1;
    j.ended_ms = j.dispatched_ms + service_ms;
    j.status = i == jobs ? "failed" : "success";
    if (i == jobs) j.error = "job <7> & \"bad\"";
    r.records.push_back(j);
  }
  r.scheduled = static_cast<std::size_t>(jobs);
  r.succeeded = r.scheduled - 1;
  r.failed = 1;
  run.jobs = std::move(r);
  return run;
}

RunReport report() {
  RunReport rep;
  ScenarioResult s;
  s.name = "streams";
  s.status = "pass";
  s.runs.push_back(stream("spawn", 5, 300));
  s.runs.push_back(stream("pool", 5, 40));
  rep.scenarios.push_back(std::move(s));
  return rep;
}

TEST(jobs_report_test, markdown_compares_the_designs_run_by_run) {
  const std::string md = render(*make_markdown_reporter(), report());
  EXPECT_NE(md.find("### streams: designs compared on the same jobs"), std::string::npos) << md;
  EXPECT_NE(md.find("| {\"mode\":\"spawn\"} | spawn | 2 | closed 2 | 4 / 1 / 0 / 0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| {\"mode\":\"pool\"} | pool | 2 |"), std::string::npos) << md;
  // The fps series table is for instances, not for job streams.
  EXPECT_EQ(md.find("series over"), std::string::npos) << md;
}

TEST(jobs_report_test, json_carries_every_record) {
  const auto j = nlohmann::json::parse(render(*make_json_reporter(), report()));
  const auto& jobs = j["scenarios"][0]["runs"][1]["jobs"];
  EXPECT_EQ(jobs["mode"], "pool");
  EXPECT_EQ(jobs["records"].size(), 5u);
  EXPECT_EQ(jobs["records"][4]["status"], "failed");
  EXPECT_EQ(jobs["records"][4]["error"], "job <7> & \"bad\"");
  EXPECT_EQ(jobs["records"][0]["dispatched_ms"], 11);
}

TEST(jobs_report_test, html_draws_one_cdf_and_a_timeline_per_run) {
  const std::string html = render(*make_html_reporter(), report());
  EXPECT_EQ(count(html, "<h3>Job streams</h3>"), 1u);
  EXPECT_NE(html.find("Latency distribution"), std::string::npos);
  EXPECT_EQ(count(html, "<h4>Jobs of "), 2u);
  EXPECT_EQ(count(html, "<title>job "), 10u);  // a bar per dispatched job, both runs
}

// A search of two rates over the pool stream: 10/s meets, 20/s exceeds.
RunReport peak_report() {
  RunReport rep = report();
  ScenarioResult& s = rep.scenarios[0];
  s.peaks.push_back(test::two_rate_peak());
  return rep;
}

TEST(jobs_report_test, a_peak_search_is_a_series_in_every_report) {
  const RunReport rep = peak_report();
  const std::string md = render(*make_markdown_reporter(), rep);
  EXPECT_NE(md.find("**Peak search {\"workers\":2}** (latency_p90_max 150 ms): peak 10/s"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 10/s | 41 ms | 9.80/s | meets: p90 41ms <= 150ms |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| 20/s | 301 ms | 12.50/s | exceeds: p90 301ms > 150ms |"), std::string::npos)
      << md;

  const auto j = nlohmann::json::parse(render(*make_json_reporter(), rep));
  const auto& peaks = j["scenarios"][0]["peaks"];
  ASSERT_EQ(peaks.size(), 1u);
  EXPECT_EQ(peaks[0]["peak_per_s"], 10);
  EXPECT_EQ(peaks[0]["failed_per_s"], 20);
  EXPECT_EQ(peaks[0]["points"].size(), 2u);
  EXPECT_EQ(peaks[0]["points"][1]["verdict"], "exceeds");
  EXPECT_EQ(peaks[0]["points"][1]["value_ms"], 301);
  // A scenario without a search has an empty list.
  const auto plain = nlohmann::json::parse(render(*make_json_reporter(), report()));
  EXPECT_EQ(plain["scenarios"][0]["peaks"], nlohmann::json::array());

  const std::string html = render(*make_html_reporter(), rep);
  EXPECT_EQ(count(html, "<h3>Peak search</h3>"), 1u);
  EXPECT_NE(html.find("peak 10/s"), std::string::npos);
  EXPECT_NE(html.find("bound 150 ms"), std::string::npos);
  EXPECT_NE(html.find("20/s exceeds &lt;a&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(html.find("<a>"), std::string::npos);
}

}  // namespace
}  // namespace harness
