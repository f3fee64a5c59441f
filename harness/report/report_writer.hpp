#pragma once
// Writes every report format into a report folder. Called after each scenario, so it must leave
// a complete set of files at every moment: each file is written to NAME.tmp, flushed, then
// renamed over NAME (rename is atomic within a folder), so a reader or an interrupted run only
// ever sees a whole old report or a whole new one.

#include <filesystem>

#include "harness/core/result.hpp"
#include "harness/report/reporter.hpp"

namespace harness {

// Creates `dir` (and parents) when missing. Throws std::system_error naming the path and the
// cause when a file cannot be written; the .tmp file is removed then.
void write_reports(const RunReport& report, const std::filesystem::path& dir);

// The same for one reporter; returns the final path.
std::filesystem::path write_report(const Reporter& reporter, const RunReport& report,
                                   const std::filesystem::path& dir);

}  // namespace harness
