#pragma once
// Whether a file is well-formed XML, as xmllint (Debian's libxml2-utils, installed by setup.sh)
// says. Without xmllint nothing can be said, and the exit status 127 of a program that is not
// there must never count as "rejected" or "accepted": a test that needs the check is skipped
// with a message instead.

#include <filesystem>
#include <optional>
#include <string>

#include "tests/test_process.hpp"

namespace harness::test {

struct Lint {
  int status = -1;      // 0: well-formed
  std::string message;  // what xmllint printed on stderr
};

// `xmllint --noout FILE`, or nullopt when xmllint is not on PATH.
inline std::optional<Lint> xmllint(const std::filesystem::path& file) {
  if (find_program("xmllint").empty()) return std::nullopt;
  const Completed c = run_program({"xmllint", "--noout", file.string()});
  return Lint{c.status, c.err};
}

}  // namespace harness::test

// Declares `lint` as the result of xmllint on `file`, or skips the rest of the test with a
// message when xmllint is missing. Put it after the test's other checks, so they still run.
#define HARNESS_XMLLINT_OR_SKIP(lint, file)                                               \
  const std::optional<::harness::test::Lint> lint = ::harness::test::xmllint(file);       \
  if (!lint)                                                                              \
  GTEST_SKIP() << "xmllint is not on PATH (Debian package libxml2-utils, which setup.sh " \
                  "installs), so "                                                        \
               << (file) << " cannot be checked"
