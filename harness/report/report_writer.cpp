#include "harness/report/report_writer.hpp"

#include <system_error>

#include "harness/core/files.hpp"

namespace harness {

std::filesystem::path write_report(const Reporter& reporter, const RunReport& report,
                                   const std::filesystem::path& dir) {
  // Streamed to the file: a report of 10000 runs is tens of MB, never held whole.
  const std::filesystem::path target = dir / reporter.filename();
  AtomicFile file(target);
  reporter.write(report, file.stream());
  file.commit();
  return target;
}

void write_reports(const RunReport& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::system_error(
        ec, "cannot create report folder " + dir.string() + " (choose another with --report-dir)");
  }
  for (const auto& reporter : all_reporters()) write_report(*reporter, report, dir);
}

std::vector<std::unique_ptr<Reporter>> all_reporters() {
  std::vector<std::unique_ptr<Reporter>> out;
  out.push_back(make_json_reporter());
  out.push_back(make_junit_reporter());
  out.push_back(make_markdown_reporter());
  out.push_back(make_html_reporter());
  return out;
}

}  // namespace harness
