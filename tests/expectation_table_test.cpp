// The expectation table is the one list of `expect:` keys: the loader accepts exactly its keys
// (with "did you mean" among them), and the `expect` table of docs/scenarios.md documents
// exactly its rows, with the same type and "passes when" text. A row added to the code without
// its line in the docs (or the reverse) fails here.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/judge/expect.hpp"
#include "harness/scenario/scenario.hpp"

namespace harness {
namespace {

const std::string kDocs = std::string(HARNESS_SOURCE_DIR) + "/docs/scenarios.md";

struct DocRow {
  int line = 0;
  std::vector<std::string> keys;
  std::string type, passes;
};

// The cells of a Markdown table line "| a | b | c |"; "\|" is a '|' inside a cell.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      const auto b = cell.find_first_not_of(' ');
      const auto e = cell.find_last_not_of(' ');
      out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// "`stdout_matches`, `stderr_matches`" -> the two names.
std::vector<std::string> keys_of(const std::string& cell) {
  std::vector<std::string> out;
  std::istringstream in(cell);
  for (std::string item; std::getline(in, item, ',');) {
    const auto b = item.find('`');
    const auto e = item.rfind('`');
    if (b != std::string::npos && e > b) out.push_back(item.substr(b + 1, e - b - 1));
  }
  return out;
}

// The rows of the first table after the "## `expect`" heading.
std::vector<DocRow> documented_rows() {
  std::ifstream in(kDocs);
  EXPECT_TRUE(in) << "cannot read " << kDocs;
  std::vector<DocRow> rows;
  bool in_section = false, in_table = false;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.rfind("## ", 0) == 0) in_section = line == "## `expect`";
    if (!in_section) continue;
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    const auto c = cells(line);
    if (c.size() != 3 || c[0] == "key" || c[0].rfind("---", 0) == 0) continue;
    rows.push_back({n, keys_of(c[0]), c[1], c[2]});
  }
  return rows;
}

TEST(expectation_table_test, docs_table_documents_every_row_with_the_same_words) {
  std::map<std::string, const ExpectRow*> code;
  for (const auto& row : expectation_table()) code[row.key] = &row;
  const auto docs = documented_rows();
  ASSERT_FALSE(docs.empty()) << "no `expect` table found in " << kDocs;
  std::set<std::string> documented;
  for (const auto& doc : docs) {
    const std::string where = kDocs + ":" + std::to_string(doc.line);
    EXPECT_FALSE(doc.keys.empty()) << where << ": a row without a `key`";
    for (const auto& key : doc.keys) {
      EXPECT_TRUE(documented.insert(key).second) << where << ": '" << key << "' documented twice";
      const auto it = code.find(key);
      if (it == code.end()) {
        ADD_FAILURE() << where << ": '" << key
                      << "' is documented but has no row in the expectation table";
        continue;
      }
      EXPECT_EQ(doc.type, it->second->type)
          << where << ": the type of '" << key << "' differs from its row in the code";
      EXPECT_EQ(doc.passes, it->second->passes)
          << where << ": 'passes when' of '" << key << "' differs from its row in the code";
    }
  }
  for (const auto& [key, row] : code)
    EXPECT_TRUE(documented.count(key))
        << "'" << key << "' has a row in the expectation table but no line in the `expect` table "
        << "of " << kDocs << "; add: | `" << key << "` | " << row->type << " | " << row->passes
        << " |";
}

TEST(expectation_table_test, every_row_parses_and_checks) {
  for (const auto& row : expectation_table()) {
    EXPECT_FALSE(row.key.empty());
    EXPECT_FALSE(row.type.empty()) << row.key;
    EXPECT_FALSE(row.passes.empty()) << row.key;
    EXPECT_TRUE(row.parse) << row.key;
  }
  EXPECT_EQ(expectation_keys().size(), expectation_table().size());
}

TEST(expectation_table_test, unknown_keys_are_refused_with_the_closest_row) {
  try {
    parse_scenario("schema: 1\nname: t\nworker: {command: [p]}\nexpect:\n  leftover_process: 0\n",
                   "x.yaml");
    FAIL() << "a misspelt key was accepted";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              "x.yaml:5:3: error: unknown key 'leftover_process' in 'expect' (did you mean "
              "'leftover_processes'?)");
  }
}

TEST(expectation_table_test, memory_rows_make_a_scenario_measure_memory) {
  // Every row that judges a memory figure, and only those, keeps the machine to itself.
  for (const auto& row : expectation_table()) {
    const bool named_memory =
        row.key.find("memory") != std::string::npos || row.key.rfind("peak_", 0) == 0;
    EXPECT_EQ(row.memory, named_memory) << row.key;
    if (!row.memory) continue;
    const Scenario s = parse_scenario(
        "schema: 1\nname: t\nworker: {command: [p]}\nexpect:\n  " + row.key + ": 1MiB\n", "x.yaml");
    EXPECT_TRUE(measures_memory(s)) << row.key;
  }
  const Scenario s = parse_scenario(
      "schema: 1\nname: t\nworker: {command: [p]}\nexpect:\n  exit_code: 0\n", "x.yaml");
  EXPECT_FALSE(measures_memory(s));
}

}  // namespace
}  // namespace harness
