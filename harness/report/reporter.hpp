#pragma once
// One interface for every report format (benchmark's reporter.h, hyperfine's src/export/).
// A reporter turns a whole RunReport into one file's content. It must accept any RunReport,
// including a partial one from an interrupted run and any bytes a worker printed, and must not
// throw on content (only the stream may fail). Writing to disk is report_writer's job.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual std::string filename() const = 0;  // "report.json", "junit.xml", ...
  virtual void write(const RunReport& report, std::ostream& out) const = 0;
};

std::unique_ptr<Reporter> make_json_reporter();      // report.json
std::unique_ptr<Reporter> make_junit_reporter();     // junit.xml
std::unique_ptr<Reporter> make_markdown_reporter();  // report.md
std::unique_ptr<Reporter> make_html_reporter();      // report.html

// The four above, in that order.
std::vector<std::unique_ptr<Reporter>> all_reporters();

}  // namespace harness
