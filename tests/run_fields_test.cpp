// The `run:` fields are one table (run_fields()): `run:` and the matrix read them through the
// same rows, and the `run` table of docs/scenarios.md documents exactly those rows.

#include "harness/scenario/run_fields.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "harness/scenario/scenario.hpp"
#include "markdown_table.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;

const std::string kDocs = std::string(HARNESS_SOURCE_DIR) + "/docs/scenarios.md";
const std::string kHead = "schema: 1\nname: t\nworker:\n  command: [prog]\n";

TEST(run_fields_test, docs_table_documents_every_field_with_its_bounds_and_default) {
  const auto docs = testing::markdown_table(kDocs, "## `run`");
  ASSERT_FALSE(docs.empty()) << "no `run` table found in " << kDocs;
  std::set<std::string> documented;
  for (const auto& row : docs) {
    const std::string where = kDocs + ":" + std::to_string(row.line);
    ASSERT_EQ(row.cells.size(), 4u) << where << ": expected key | type | default | meaning";
    const std::string& key = row.cells[0];
    ASSERT_TRUE(key.size() > 2 && key.front() == '`' && key.back() == '`') << where;
    const std::string name = key.substr(1, key.size() - 2);
    documented.insert(name);
    const RunField* field = find_run_field(name);
    if (!field) {
      ADD_FAILURE() << where << ": '" << name << "' is documented but is not a run field";
      continue;
    }
    EXPECT_EQ(row.cells[1], field->type) << where << ": bounds of '" << name << "'";
    EXPECT_EQ(row.cells[2], "`" + field->fallback + "`")
        << where << ": default of '" << name << "'";
    EXPECT_EQ(row.cells[3], field->meaning) << where << ": meaning of '" << name << "'";
  }
  for (const auto& f : run_fields())
    EXPECT_TRUE(documented.count(f.name))
        << "run field '" << f.name << "' has no line in the `run` table of " << kDocs
        << "; add: | `" << f.name << "` | " << f.type << " | `" << f.fallback << "` | " << f.meaning
        << " |";
}

TEST(run_fields_test, run_and_matrix_set_every_field_alike) {
  const std::string values =
      "instances: 3, repeat: 2, warmup: 1, stagger: 5ms, sample_interval: 20ms";
  for (const auto& name : run_field_names())
    ASSERT_NE(values.find(name + ":"), std::string::npos) << "this test does not set " << name;
  const Scenario by_run = parse_scenario(kHead + "run: {" + values + "}\n", "x.yaml");
  const Scenario by_matrix =
      parse_scenario(kHead +
                         "matrix: {instances: [3], repeat: [2], warmup: [1], stagger: [5ms], "
                         "sample_interval: [20ms]}\n",
                     "x.yaml");
  const auto points = expand_matrix(by_matrix);
  ASSERT_EQ(points.size(), 1u);
  for (const RunSpec& run : {by_run.run, points[0].run}) {
    EXPECT_EQ(run.instances, 3);
    EXPECT_EQ(run.repeat, 2);
    EXPECT_EQ(run.warmup, 1);
    EXPECT_EQ(run.stagger, 5ms);
    EXPECT_EQ(run.sample_interval, 20ms);
  }
  EXPECT_TRUE(points[0].vars.count("SCENARIO_DIR"));
  EXPECT_FALSE(points[0].vars.count("instances"));  // a run field is not a variable
}

TEST(run_fields_test, matrix_values_are_checked_like_the_field) {
  try {
    parse_scenario(kHead + "matrix:\n  sample_interval: [5ms, 0ms, 2m]\n", "x.yaml");
    FAIL() << "out-of-bounds matrix values were accepted";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              "x.yaml:6:26: error: 'matrix.sample_interval[1]' must be between 1ms and 60s, got "
              "0ms");
    EXPECT_EQ(
        e.diagnostics()[1].str(),
        "x.yaml:6:31: error: 'matrix.sample_interval[2]' must be between 1ms and 60s, got 2m");
  }
}

}  // namespace
}  // namespace harness
