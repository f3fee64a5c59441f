// junit.xml: one <testsuite> per scenario, one <testcase> per instance of every run.
//
// It validates against the Ant JUnit schema CI tools follow (shared/reference/JUnit.xsd), which
// shapes it: <testsuites> carries no attributes (counts live on each <testsuite>), a testcase
// holds at most one <failure>/<error>/<skipped> (so all failures of an instance are joined into
// one <failure>), and system-out/system-err belong to the suite (the tails of all instances,
// each under an "== instance N ==" header). Warmup instances are <skipped>. A run failure that
// names "instance K" is charged to that instance only; any other run failure to every instance
// of the run.

#include <cctype>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/report_summary.hpp"
#include "harness/report/reporter.hpp"

namespace harness {
namespace {

std::string attr(std::string_view s) {
  return xml_escape(s, true);
}

std::string decimal(double v) {
  return std::isfinite(v) && v >= 0 ? fmt::format("{:.3f}", v) : "0.000";
}

// The schema wants a local date-time without zone or fraction: 2024-05-01T10:00:00.
std::string junit_timestamp(const std::string& iso) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  bool ok = iso.size() >= shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i) {
    ok = shape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(iso[i])) != 0
                         : iso[i] == shape[i];
  }
  if (ok) return iso.substr(0, shape.size());
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// True when `failure` names an instance ("instance 2: ...") other than `index`.
bool names_other_instance(const std::string& failure, int index) {
  static constexpr std::string_view word = "instance ";
  bool names_any = false;
  for (std::size_t pos = failure.find(word); pos != std::string::npos;
       pos = failure.find(word, pos + 1)) {
    const bool word_start = pos == 0 || !std::isalnum(static_cast<unsigned char>(failure[pos - 1]));
    std::size_t end = pos + word.size();
    long long value = 0;
    while (end < failure.size() && std::isdigit(static_cast<unsigned char>(failure[end])) &&
           value < 1000000000) {
      value = value * 10 + (failure[end++] - '0');
    }
    if (!word_start || end == pos + word.size()) continue;
    if (end < failure.size() && std::isalnum(static_cast<unsigned char>(failure[end]))) continue;
    names_any = true;
    if (value == index) return false;
  }
  return names_any;
}

std::string testcase_name(const ScenarioRun& run, const ProcessResult& p) {
  std::string name = fmt::format("instance {}", p.index);
  const std::string params = format_params(run.params);
  if (!params.empty()) name += " [" + params + "]";
  if (run.repeat > 0) name += fmt::format(" (repeat {})", run.repeat);
  if (run.warmup) name += " (warmup)";
  return name;
}

void write_property(std::ostream& out, std::string_view name, std::string_view value) {
  out << "      <property name=\"" << attr(name) << "\" value=\"" << attr(value) << "\"/>\n";
}

// Piece by piece: the tails of every instance together can be far larger than any one of them.
// Escaping pieces gives the text escaping their concatenation would: each piece boundary is
// next to an ASCII character, where no UTF-8 sequence can span.
void write_tails(std::ostream& out, const ScenarioResult& s, bool err) {
  const char* tag = err ? "system-err" : "system-out";
  out << "    <" << tag << ">";
  for (const ScenarioRun& run : s.runs) {
    for (const ProcessResult& p : run.instances) {
      const StreamCapture& c = err ? p.err : p.out;
      if (c.bytes == 0) continue;
      out << xml_escape("== " + testcase_name(run, p) + ": " + std::to_string(c.bytes) + " bytes" +
                        (c.truncated ? ", last " + std::to_string(c.tail.size()) + " kept" : "") +
                        " ==\n")
          << xml_escape(c.tail);
      if (!c.tail.empty() && c.tail.back() != '\n') out << '\n';
    }
  }
  out << "</" << tag << ">\n";
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
};

// Writes the testcases of one scenario into `body` and counts them.
Counts write_testcases(std::ostream& body, const ScenarioResult& s) {
  Counts c;
  const std::string classname = attr(s.name.empty() ? "unnamed" : s.name);
  const bool scenario_error = s.status == "error";
  auto open = [&](const std::string& name, double time) {
    body << "    <testcase name=\"" << attr(name) << "\" classname=\"" << classname << "\" time=\""
         << decimal(time) << "\"";
  };
  auto error_element = [&](std::string_view message, std::string_view type) {
    body << ">\n      <error message=\"" << attr(message) << "\" type=\"" << attr(type) << "\">"
         << xml_escape(message) << "</error>\n    </testcase>\n";
  };
  bool any = false;
  for (const ScenarioRun& run : s.runs) {
    for (const ProcessResult& p : run.instances) {
      any = true;
      ++c.tests;
      open(testcase_name(run, p), p.wall_s);
      if (run.warmup) {
        ++c.skipped;
        body << ">\n      <skipped message=\"warmup run: reported, not judged\"/>\n    "
                "</testcase>\n";
        continue;
      }
      if (scenario_error) {
        ++c.errors;
        error_element(s.error.empty() ? "scenario error" : s.error, "ScenarioError");
        continue;
      }
      if (!p.spawn_error.empty()) {
        ++c.errors;
        error_element(p.spawn_error, "SpawnError");
        continue;
      }
      std::vector<std::string> mine;
      for (const std::string& f : run.failures) {
        if (!names_other_instance(f, p.index)) mine.push_back(f);
      }
      if (mine.empty()) {
        body << "/>\n";
        continue;
      }
      ++c.failures;
      std::string all;
      for (const auto& f : mine) all += f + "\n";
      const std::string message =
          mine.size() == 1 ? mine[0] : fmt::format("{} (and {} more)", mine[0], mine.size() - 1);
      body << ">\n      <failure message=\"" << attr(message) << "\" type=\"ExpectationFailed\">"
           << xml_escape(all) << "</failure>\n    </testcase>\n";
    }
  }
  if (any && s.status == "fail" && c.failures == 0 && !s.failures.empty()) {
    // The scenario failed on something no run recorded (a cross-run check): say so somewhere.
    ++c.tests;
    ++c.failures;
    open("scenario", s.duration_s);
    std::string all;
    for (const auto& f : s.failures) all += f + "\n";
    body << ">\n      <failure message=\"" << attr(s.failures.front())
         << "\" type=\"ExpectationFailed\">" << xml_escape(all) << "</failure>\n    </testcase>\n";
  }
  if (!any) {  // the scenario never ran an instance: one testcase carries its outcome
    ++c.tests;
    open("scenario", s.duration_s);
    if (scenario_error || s.status != "pass") {
      ++c.errors;
      std::string message = s.error;
      if (message.empty() && !s.failures.empty()) message = s.failures.front();
      if (message.empty()) message = "no instance ran";
      error_element(message, scenario_error ? "ScenarioError" : "NoInstances");
    } else {
      body << "/>\n";
    }
  }
  return c;
}

// The workers' CPU, over the scenario's judged instances (the Ant schema has properties per
// suite only): total CPU time, the busiest instance's utilisation, the largest tree.
void write_cpu_properties(std::ostream& out, const ScenarioResult& s) {
  const CpuTotals t = cpu_totals(s);
  if (t.instances == 0) return;
  write_property(out, "cpu.total_s", decimal(t.cpu_s));
  write_property(out, "cpu.utilisation_pct.max", fmt::format("{:.1f}", t.utilisation_pct));
  write_property(out, "cpu.peak_utilisation_pct.max",
                 fmt::format("{:.1f}", t.peak_utilisation_pct));
  write_property(out, "threads.max", std::to_string(t.threads_max));
  write_property(out, "processes.max", std::to_string(t.processes_max));
}

class JunitReporter final : public Reporter {
 public:
  std::string filename() const override { return "junit.xml"; }

  void write(const RunReport& report, std::ostream& out) const override {
    const std::string timestamp = junit_timestamp(report.started_at);
    const std::string hostname =
        attr(report.host.hostname.empty() ? "localhost" : report.host.hostname);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
    int id = 0;
    for (const ScenarioResult& s : report.scenarios) {
      // The suite's counts come first in the file: one pass to count (its text thrown away),
      // one to write, so the testcases of 10000 runs are never held in memory.
      std::ostream discard(nullptr);
      const Counts c = write_testcases(discard, s);
      const std::string name = attr(s.name.empty() ? "unnamed" : s.name);
      out << "  <testsuite name=\"" << name << "\" package=\"" << name << "\" id=\"" << id++
          << "\" timestamp=\"" << timestamp << "\" hostname=\"" << hostname << "\" tests=\""
          << c.tests << "\" failures=\"" << c.failures << "\" errors=\"" << c.errors
          << "\" skipped=\"" << c.skipped << "\" time=\"" << decimal(s.duration_s) << "\">\n";
      out << "    <properties>\n";
      write_property(out, "status", s.status);
      if (!s.file.empty()) write_property(out, "file", s.file);
      if (!s.description.empty()) write_property(out, "description", s.description);
      std::string labels;
      for (const auto& l : s.labels) labels += (labels.empty() ? "" : ",") + l;
      if (!labels.empty()) write_property(out, "labels", labels);
      write_property(out, "harness.version", report.harness_version);
      write_cpu_properties(out, s);
      out << "    </properties>\n";
      write_testcases(out, s);
      write_tails(out, s, false);
      write_tails(out, s, true);
      out << "  </testsuite>\n";
    }
    // A run that did not finish must not read as a clean pass to a CI system.
    if (!report.complete) {
      out << "  <testsuite name=\"harness\" package=\"harness\" id=\"" << id << "\" timestamp=\""
          << timestamp << "\" hostname=\"" << hostname
          << "\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
          << "    <testcase name=\"run complete\" classname=\"harness\" time=\"0.000\">\n"
          << "      <error message=\"the harness run did not finish (still running, or killed)\" "
             "type=\"incomplete\"/>\n"
          << "    </testcase>\n  </testsuite>\n";
    }
    out << "</testsuites>\n";
  }
};

}  // namespace

std::unique_ptr<Reporter> make_junit_reporter() {
  return std::make_unique<JunitReporter>();
}

}  // namespace harness
