// Rows of the expectations on what a worker printed: regexes over the captured tail of stdout
// and stderr, and the exact byte counts of the whole streams.
#include <string>

#include "harness/judge/expectation_rows.hpp"
#include "harness/judge/expectation_values.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness::detail {
namespace {

const char* const kMatchesType = "regex or list";
const char* const kMatchesPasses = "each regex matches some line of the stream's tail";
const char* const kNotMatchesPasses = "no line of the tail matches";
const char* const kBytesType = "size/integer, or `{min:, max:}`";
const char* const kBytesPasses = "the exact byte count of the whole stream (not just the tail)";

std::optional<std::vector<Pattern>> read_list(ExpectParser& in, const YamlEntry& e) {
  return read_patterns(in.reader, e);
}

std::optional<Bounds> read_byte_bounds(ExpectParser& in, const YamlEntry& e) {
  return read_bounds(in.reader, e, true);
}

void check_matches(const char* name, const StreamCapture& s, const std::vector<Pattern>& must,
                   const Judgement& j) {
  for (const auto& pat : must)
    if (!pat.search(s.tail))
      j.fail(std::string(name) + "_matches expected /" + pat.source + "/, got no match in " +
             std::to_string(s.bytes) + " bytes (last line: \"" + printable(last_line(s.tail)) +
             "\")");
}

void check_not_matches(const char* name, const StreamCapture& s,
                       const std::vector<Pattern>& must_not, const Judgement& j) {
  for (const auto& pat : must_not)
    if (auto hit = pat.first_match(s.tail))
      j.fail(std::string(name) + "_not_matches expected no /" + pat.source + "/, got \"" +
             printable(*hit) + "\"");
}

void check_bytes(const char* name, const StreamCapture& s, const Bounds& bytes,
                 const Judgement& j) {
  auto problem = check_bounds(bytes, static_cast<double>(s.bytes), format_bytes);
  if (!problem.empty()) j.fail(std::string(name) + "_bytes " + problem);
}

}  // namespace

std::vector<ExpectRow> stream_rows() {
  using P = std::vector<Pattern>;
  return {
      row("stdout_matches", kMatchesType, kMatchesPasses, read_list,
          [](const P& v, const Judgement& j) { check_matches("stdout", j.p().out, v, j); }),
      row("stdout_not_matches", kMatchesType, kNotMatchesPasses, read_list,
          [](const P& v, const Judgement& j) { check_not_matches("stdout", j.p().out, v, j); }),
      row("stdout_bytes", kBytesType, kBytesPasses, read_byte_bounds,
          [](const Bounds& v, const Judgement& j) { check_bytes("stdout", j.p().out, v, j); }),
      row("stderr_matches", kMatchesType, kMatchesPasses, read_list,
          [](const P& v, const Judgement& j) { check_matches("stderr", j.p().err, v, j); }),
      row("stderr_not_matches", kMatchesType, kNotMatchesPasses, read_list,
          [](const P& v, const Judgement& j) { check_not_matches("stderr", j.p().err, v, j); }),
      row("stderr_bytes", kBytesType, kBytesPasses, read_byte_bounds,
          [](const Bounds& v, const Judgement& j) { check_bytes("stderr", j.p().err, v, j); }),
  };
}

}  // namespace harness::detail
