// The expectation table is the one list of `expect:` keys: the loader accepts exactly its keys
// (with "did you mean" among them), and the `expect` table of docs/scenarios.md documents
// exactly its rows, with the same type and "passes when" text. A row added to the code without
// its line in the docs (or the reverse) fails here.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/judge/expect.hpp"
#include "harness/scenario/scenario.hpp"
#include "markdown_table.hpp"

namespace harness {
namespace {

const std::string kDocs = std::string(HARNESS_SOURCE_DIR) + "/docs/scenarios.md";

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

struct DocRow {
  int line = 0;
  std::vector<std::string> keys;
  std::string type, passes;
};

std::vector<DocRow> documented_rows() {
  std::vector<DocRow> rows;
  for (const auto& r : testing::markdown_table(kDocs, "## `expect`")) {
    EXPECT_EQ(r.cells.size(), 3u) << kDocs << ":" << r.line
                                  << ": expected key | type | passes when";
    if (r.cells.size() == 3) rows.push_back({r.line, keys_of(r.cells[0]), r.cells[1], r.cells[2]});
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
  // Every row that judges a memory figure or a per-process row (they come with the PSS/USS
  // reads), and only those, keeps the machine to itself.
  for (const auto& row : expectation_table()) {
    const bool named_memory = row.key.find("memory") != std::string::npos ||
                              row.key.rfind("peak_", 0) == 0 || row.key.rfind("process_", 0) == 0;
    EXPECT_EQ(row.memory, named_memory) << row.key;
    if (!row.memory) continue;
    const std::string value = row.type == "duration" ? "1s" : "1MiB";
    const Scenario s = parse_scenario(
        "schema: 1\nname: t\nworker: {command: [p]}\nexpect:\n  " + row.key + ": " + value + "\n",
        "x.yaml");
    EXPECT_TRUE(measures_memory(s)) << row.key;
  }
  const Scenario s = parse_scenario(
      "schema: 1\nname: t\nworker: {command: [p]}\nexpect:\n  exit_code: 0\n", "x.yaml");
  EXPECT_FALSE(measures_memory(s));
}

}  // namespace
}  // namespace harness
