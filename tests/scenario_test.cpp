#include "harness/scenario/scenario.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "harness/core/yaml_text.hpp"
#include "harness/judge/expectation_values.hpp"

using namespace std::chrono_literals;

namespace harness {
namespace {

const std::string kData = HARNESS_TEST_DATA_DIR "/scenarios";

// A valid scenario's head, so each test adds only the lines it is about.
const std::string kHead = "schema: 1\nname: t\nworker:\n  command: [prog]\n";

std::vector<std::string> errors_of(const std::string& text, const LoadOptions& options = {}) {
  try {
    parse_scenario(text, "x.yaml", options);
  } catch (const ScenarioError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

std::string only_error(const std::string& text) {
  auto errors = errors_of(text);
  EXPECT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  return errors.empty() ? "" : errors[0];
}

TEST(scenario_test, loads_the_design_example) {
  Scenario s = load_scenario(kData + "/valid_concurrency.yaml");
  EXPECT_EQ(s.name, "concurrency");
  EXPECT_EQ(s.labels, (std::vector<std::string>{"core", "yolo"}));
  ASSERT_EQ(s.worker.command.size(), 7u);
  EXPECT_EQ(s.worker.command[2], "${MODELS}/yolov8${model}.onnx");
  EXPECT_EQ(s.worker.env.at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(s.worker.timeout, 60s);
  EXPECT_EQ(s.worker.grace, 2s);
  EXPECT_EQ(s.run.instances, 3);
  EXPECT_EQ(s.run.sample_interval, 10ms);
  const auto* exit_code = s.expect.get<ExitCodeExpectation>("exit_code");
  ASSERT_TRUE(exit_code);
  EXPECT_EQ(exit_code->kind, ExitCodeExpectation::Kind::kEquals);
  EXPECT_EQ(exit_code->value, 0);
  ASSERT_TRUE(s.expect.get<std::int64_t>("peak_rss_max"));
  EXPECT_EQ(*s.expect.get<std::int64_t>("peak_rss_max"), 600 * 1024);
  const auto* result = s.expect.get<std::vector<FieldExpectation>>("result");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->size(), 2u);
  EXPECT_EQ((*result)[1].field, "fps");
  EXPECT_EQ((*result)[1].bounds.min, 1.0);
  EXPECT_EQ(s.expect_json["peak_rss_max"], "600MiB");
  EXPECT_EQ(s.matrix_json["instances"], nlohmann::json::array({1, 2}));
  EXPECT_EQ(s.dir, std::filesystem::absolute(kData).lexically_normal().string());
  EXPECT_TRUE(measures_memory(s));
}

TEST(scenario_test, defaults_when_keys_are_absent) {
  Scenario s = parse_scenario(kHead, "x.yaml");
  EXPECT_EQ(s.worker.timeout, 60s);
  EXPECT_EQ(s.worker.grace, 2s);
  EXPECT_FALSE(s.worker.stdin_data);
  EXPECT_EQ(s.run.instances, 1);
  EXPECT_EQ(s.run.repeat, 1);
  EXPECT_EQ(s.run.warmup, 0);
  EXPECT_EQ(s.run.stagger, 0ms);
  EXPECT_EQ(s.run.sample_interval, 10ms);
  EXPECT_TRUE(s.matrix.empty());
  EXPECT_TRUE(s.matrix_json.is_null());
  EXPECT_FALSE(measures_memory(s));
}

TEST(scenario_test, reports_every_error_of_a_file_with_its_position) {
  try {
    load_scenario(kData + "/invalid_many.yaml");
    FAIL() << "loaded an invalid file";
  } catch (const ScenarioError& e) {
    const std::string f = kData + "/invalid_many.yaml";
    ASSERT_EQ(e.diagnostics().size(), 4u) << e.what();
    EXPECT_EQ(e.diagnostics()[0].str(),
              f + ":5:3: error: unknown key 'timout' in 'worker' (did you mean 'timeout'?)");
    EXPECT_EQ(e.diagnostics()[1].str(),
              f + ":7:14: error: 'run.instances' must be between 1 and 256, got 0");
    EXPECT_EQ(e.diagnostics()[2].str(),
              f + ":8:12: error: 'run.stagger': unknown duration unit 'sec' in '10 sec': write a "
                  "number followed by ms, s, m or h, e.g. 250ms, 30s, 2m");
    EXPECT_EQ(e.diagnostics()[3].str(),
              f + ":10:17: error: 'expect.peak_rss_max': unknown size unit 'MB' in '600MB' (sizes "
                  "are binary: write 600MiB): write a number followed by B, KiB, MiB or GiB, e.g. "
                  "512KiB, 600MiB, 8GiB");
    EXPECT_NE(std::string(e.what()).find("timout"), std::string::npos);
  }
}

TEST(scenario_test, unknown_key_points_to_the_section_it_belongs_in) {
  EXPECT_EQ(only_error(kHead + "run:\n  timeout: 5s\n"),
            "x.yaml:6:3: error: unknown key 'timeout' in 'run' (it belongs in 'worker')");
}

TEST(scenario_test, unknown_key_far_from_any_lists_the_allowed_ones) {
  EXPECT_EQ(only_error(kHead + "run:\n  zzzzzz: 1\n"),
            "x.yaml:6:3: error: unknown key 'zzzzzz' in 'run'; allowed keys: instances, repeat, "
            "warmup, stagger, sample_interval");
}

TEST(scenario_test, unknown_top_level_key_with_did_you_mean) {
  EXPECT_EQ(only_error(kHead + "expects:\n  exit_code: 0\n"),
            "x.yaml:5:1: error: unknown key 'expects' at the top level (did you mean 'expect'?)");
}

TEST(scenario_test, duplicate_key_is_an_error) {
  EXPECT_EQ(only_error(kHead + "name: again\n"),
            "x.yaml:5:1: error: duplicate key 'name' at the top level; keep only one");
}

TEST(scenario_test, wrong_types_name_the_key_and_what_was_found) {
  EXPECT_EQ(only_error(kHead + "run:\n  instances: three\n"),
            "x.yaml:6:14: error: 'run.instances' must be a whole number, got 'three'");
  EXPECT_EQ(only_error(kHead + "run:\n  instances: \"3\"\n"),
            "x.yaml:6:14: error: 'run.instances' must be a whole number, got the string '3'");
  EXPECT_EQ(only_error(kHead + "expect:\n  timed_out: yes\n"),
            "x.yaml:6:14: error: 'expect.timed_out' must be true or false, got 'yes'");
  EXPECT_EQ(only_error(kHead + "labels: core\n"),
            "x.yaml:5:9: error: 'labels' must be a list such as [a, b], got 'core'");
}

TEST(scenario_test, command_must_be_a_list) {
  EXPECT_EQ(only_error("schema: 1\nname: t\nworker:\n  command: prog --flag\n"),
            "x.yaml:4:12: error: 'worker.command' must be a list of arguments such as [\"prog\", "
            "\"--flag\", \"value\"] (it is never split by a shell), got 'prog --flag'");
}

TEST(scenario_test, command_entry_that_is_a_map_is_explained) {
  EXPECT_EQ(only_error("schema: 1\nname: t\nworker:\n  command: [prog, --opt: 1]\n"),
            "x.yaml:4:19: error: 'worker.command[1]' must be one argument (a string), got a map; "
            "quote it if it holds ', ' or ': '");
}

TEST(scenario_test, missing_required_fields) {
  auto errors = errors_of("schema: 1\ndescription: nothing else\n");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "x.yaml:1:1: error: missing 'name' (add e.g. 'name: my_scenario'; it "
                        "names the test)",
                        "x.yaml:1:1: error: missing 'worker' (add 'worker: {command: [\"prog\", "
                        "\"--flag\"]}')"}));
  EXPECT_EQ(only_error("schema: 1\nname: t\nworker:\n  timeout: 1s\n"),
            "x.yaml:3:1: error: missing 'worker.command': the program and its arguments as a "
            "list, e.g. command: [\"${WORKERS}/yolo_worker\", \"--help\"]");
}

TEST(scenario_test, schema_is_required_and_must_be_1) {
  EXPECT_EQ(only_error("name: t\nworker:\n  command: [prog]\n"),
            "x.yaml:1:1: error: missing 'schema: 1' (add it as the first line)");
  EXPECT_EQ(only_error("schema: 2\nname: t\nworker:\n  command: [prog]\n"),
            "x.yaml:1:9: error: unsupported schema version '2'; this harness reads 'schema: 1'");
}

TEST(scenario_test, absurd_values_are_refused) {
  EXPECT_EQ(only_error(kHead + "  timeout: 25h\n"),
            "x.yaml:5:12: error: 'worker.timeout' must be between 1ms and 24h, got 25h");
  EXPECT_EQ(only_error(kHead + "run:\n  instances: 257\n"),
            "x.yaml:6:14: error: 'run.instances' must be between 1 and 256, got 257");
  EXPECT_EQ(only_error(kHead + "run:\n  warmup: -1\n"),
            "x.yaml:6:11: error: 'run.warmup' must be between 0 and 1000, got -1");
  EXPECT_EQ(only_error(kHead + "expect:\n  exit_code: 300\n"),
            "x.yaml:6:14: error: 'expect.exit_code' must be between 0 and 255, got 300");
}

TEST(scenario_test, bad_regex_is_a_load_error_at_its_position) {
  EXPECT_EQ(only_error(kHead + "expect:\n  stderr_matches: \"a(b\"\n"),
            "x.yaml:6:19: error: 'expect.stderr_matches' is not a valid RE2 regular expression "
            "'a(b': missing ): a(b (RE2 has no lookaround and no backreferences; escape special "
            "characters such as ( [ . * with a backslash)");
}

TEST(scenario_test, lookaround_and_backreferences_are_load_errors_naming_re2) {
  // RE2 refuses what would need backtracking; the message says which syntax is accepted.
  auto errors = errors_of(kHead +
                          "expect:\n  stdout_matches: [\"^(?=.*x)\", \"(a)\\\\1\"]\n  error: "
                          "{message_matches: \"(?<!a)b\"}\n");
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind("x.yaml:6:20: error: 'expect.stdout_matches' is not a valid RE2 "
                            "regular expression '^(?=.*x)': invalid perl operator: (?=",
                            0),
            0u)
      << errors[0];
  EXPECT_EQ(errors[1].rfind("x.yaml:6:32: error: 'expect.stdout_matches' is not a valid RE2 "
                            "regular expression '(a)\\1': invalid escape sequence: \\1",
                            0),
            0u)
      << errors[1];
  EXPECT_EQ(errors[2].rfind("x.yaml:7:28: error: 'expect.error.message_matches' is not a valid "
                            "RE2 regular expression",
                            0),
            0u)
      << errors[2];
}

TEST(scenario_test, unknown_signal_name_suggests_the_closest) {
  EXPECT_EQ(only_error(kHead + "expect:\n  signal: SIGKIL\n"),
            "x.yaml:6:11: error: unknown signal 'SIGKIL' in 'expect.signal' (did you mean "
            "'SIGKILL'?)");
}

TEST(scenario_test, output_checks_need_the_output_name) {
  EXPECT_EQ(only_error(kHead + "expect:\n  outputs_distinct: true\n"),
            "x.yaml:6:3: error: output_valid_json and outputs_distinct need 'expect.output', the "
            "file each instance writes in its ${OUT} folder (e.g. output: result.json)");
  EXPECT_EQ(only_error(kHead + "expect:\n  output: ../x.json\n"),
            "x.yaml:6:11: error: 'expect.output' must be a file name inside the instance's ${OUT} "
            "folder, such as result.json, got '../x.json'");
}

TEST(scenario_test, yaml_syntax_error_has_a_position) {
  auto error = only_error("schema: 1\nname: [t\nworker: {}\n");
  EXPECT_EQ(error.rfind("x.yaml:", 0), 0u);
  EXPECT_NE(error.find("error: invalid YAML: "), std::string::npos) << error;
  EXPECT_EQ(only_error("schema: 1\n\tname: t\n").rfind("x.yaml:2:", 0), 0u);
}

TEST(scenario_test, empty_file_and_second_document_are_errors) {
  EXPECT_EQ(only_error(""),
            "x.yaml: error: empty scenario; it needs at least 'schema: 1', 'name' and "
            "'worker.command'");
  EXPECT_EQ(only_error(kHead + "---\n" + kHead),
            "x.yaml:6:1: error: a second YAML document; put one scenario per file");
}

TEST(scenario_test, unknown_variable_is_a_load_error_naming_it) {
  EXPECT_EQ(only_error("schema: 1\nname: t\nworker:\n  command: [prog, \"${MODLES}/a.onnx\"]\n"),
            "x.yaml:4:19: error: unknown variable ${MODLES} in 'worker.command[1]' (did you mean "
            "${MODELS}?); known: ${WORKERS}, ${MODELS}, ${FIXTURES}, ${OUT}, ${INSTANCE}, "
            "${SCENARIO_DIR}, the environment, or write ${MODLES:-default}");
}

TEST(scenario_test, variables_known_at_load_time) {
  ::setenv("HARNESS_TEST_SET_VAR", "1", 1);
  ::unsetenv("HARNESS_TEST_UNSET_VAR");
  Scenario s = parse_scenario(
      "schema: 1\nname: t\nworker:\n  command: [p, \"${model}\", \"${HARNESS_TEST_SET_VAR}\", "
      "\"${HARNESS_TEST_UNSET_VAR:-x}\", \"${OUT}\"]\nmatrix:\n  model: [n, s]\n",
      "x.yaml");
  EXPECT_EQ(s.worker.command.size(), 5u);
}

TEST(scenario_test, expand_worker_keeps_each_argument_one_entry) {
  WorkerSpec w;
  w.command = {"${WORKERS}/w", "--name", "a b 'c' \"d\" $e ${X}", "cost: $5", "$${X}"};
  w.env = {{"A", "${OUT}/x y"}};
  w.cwd = "${OUT}";
  w.stdin_data = "in ${X}\n";
  WorkerSpec e = expand_worker(w, {{"WORKERS", "/bin dir"}, {"X", "v a l"}, {"OUT", "/o"}});
  EXPECT_EQ(e.command, (std::vector<std::string>{"/bin dir/w", "--name", "a b 'c' \"d\" $e v a l",
                                                 "cost: $5", "${X}"}));
  EXPECT_EQ(e.env.at("A"), "/o/x y");
  EXPECT_EQ(e.cwd, "/o");
  EXPECT_EQ(*e.stdin_data, "in v a l\n");
}

TEST(scenario_test, expand_values_are_not_expanded_again) {
  EXPECT_EQ(expand_variables("${A}", {{"A", "${B}"}, {"B", "no"}}), "${B}");
}

TEST(scenario_test, expand_unknown_variable_throws_naming_it) {
  ::unsetenv("HARNESS_TEST_NOPE");
  try {
    expand_variables("x${HARNESS_TEST_NOPE}", {});
    FAIL() << "expanded an unknown variable";
  } catch (const VariableError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown variable ${HARNESS_TEST_NOPE}"),
              std::string::npos);
    EXPECT_EQ(e.offset(), 1u);
  }
  EXPECT_THROW(expand_variables("${OPEN", {}), VariableError);
  EXPECT_THROW(expand_variables("${1BAD}", {}), VariableError);
}

TEST(scenario_test, defaults_and_environment) {
  ::setenv("HARNESS_TEST_ENV", "from-env", 1);
  ::setenv("HARNESS_TEST_EMPTY", "", 1);
  EXPECT_EQ(expand_variables("${HARNESS_TEST_ENV}", {}), "from-env");
  EXPECT_EQ(expand_variables("${HARNESS_TEST_EMPTY:-dflt}", {}), "dflt");
  EXPECT_EQ(expand_variables("${HARNESS_TEST_UNSET_2:-}", {}), "");
  EXPECT_EQ(expand_variables("${HARNESS_TEST_ENV}", {{"HARNESS_TEST_ENV", "vars win"}}),
            "vars win");
}

TEST(scenario_test, stdin_forms) {
  auto stdin_of = [](const std::string& line) {
    return parse_scenario(kHead + line, "x.yaml").worker.stdin_data;
  };
  EXPECT_FALSE(stdin_of("  stdin: closed\n"));
  EXPECT_EQ(*stdin_of("  stdin: \"one\"\n"), "one");
  EXPECT_EQ(*stdin_of("  stdin: ['{\"job\": 1}', '{\"job\": 2}']\n"),
            "{\"job\": 1}\n{\"job\": 2}\n");
}

TEST(scenario_test, matrix_expands_to_the_cartesian_product_in_file_order) {
  Scenario s = load_scenario(kData + "/valid_concurrency.yaml");
  auto points = expand_matrix(s);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].params, (nlohmann::json{{"instances", 1}, {"model", "n"}}));
  EXPECT_EQ(points[1].params, (nlohmann::json{{"instances", 1}, {"model", "s"}}));
  EXPECT_EQ(points[3].params, (nlohmann::json{{"instances", 2}, {"model", "s"}}));
  EXPECT_EQ(points[0].run.instances, 1);
  EXPECT_EQ(points[3].run.instances, 2);
  EXPECT_EQ(points[3].vars.at("model"), "s");
  EXPECT_EQ(points[3].vars.at("SCENARIO_DIR"), s.dir);
  EXPECT_EQ(points[3].run.sample_interval, 10ms);  // untouched fields keep the scenario's value
}

TEST(scenario_test, no_matrix_is_one_point) {
  Scenario s = parse_scenario(kHead + "run: {instances: 4, stagger: 50ms}\n", "x.yaml");
  auto points = expand_matrix(s);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].params.empty());
  EXPECT_EQ(points[0].run.instances, 4);
  EXPECT_EQ(points[0].run.stagger, 50ms);
}

TEST(scenario_test, matrix_over_durations_and_typed_variables) {
  Scenario s =
      parse_scenario(kHead + "matrix:\n  stagger: [0ms, 100ms]\n  batch: [1, \"2\"]\n", "x.yaml");
  auto points = expand_matrix(s);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[2].run.stagger, 100ms);
  EXPECT_EQ(points[0].params["batch"], 1);
  EXPECT_EQ(points[1].params["batch"], "2");
  EXPECT_EQ(points[1].vars.at("batch"), "2");
}

TEST(scenario_test, matrix_errors) {
  EXPECT_EQ(only_error(kHead + "matrix:\n  instances: [1, 0]\n"),
            "x.yaml:6:18: error: 'matrix.instances[1]' must be between 1 and 256, got 0");
  EXPECT_EQ(only_error(kHead + "matrix:\n  instances: []\n"),
            "x.yaml:6:14: error: 'matrix.instances' must be a non-empty list of values, e.g. [1, "
            "2, 4], got a list");
  EXPECT_EQ(only_error(kHead + "matrix:\n  OUT: [a]\n"),
            "x.yaml:6:3: error: matrix key 'OUT' would hide the built-in ${OUT}; choose another "
            "name");
  EXPECT_EQ(only_error(kHead + "matrix:\n  instance: [1, 2]\n"),
            "x.yaml:6:3: error: matrix key 'instance' is not a run field (did you mean "
            "'instances'?); rename it if it is meant as a variable");
  EXPECT_EQ(only_error(kHead + "matrix:\n  bad-key: [1]\n"),
            "x.yaml:6:3: error: matrix key 'bad-key' is neither a run field (instances, repeat, "
            "warmup, stagger, sample_interval) nor a variable name (letters, digits, '_')");
}

TEST(scenario_test, matrix_with_too_many_points_is_refused) {
  auto errors = errors_of(kHead +
                          "matrix:\n  a: [1,2,3,4,5,6,7,8,9,10]\n  b: [1,2,3,4,5,6,7,8,9,10]\n"
                          "  c: [1,2,3,4,5,6,7,8,9,10]\n  d: [1,2]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("x.yaml:9:3: error: the matrix has more than 1000 combinations", 0),
            0u);
}

TEST(scenario_test, run_time_bound_covers_every_run) {
  Scenario s = parse_scenario(kHead +
                                  "  timeout: 10s\n  grace: 2s\nrun: {repeat: 2, warmup: 1, "
                                  "instances: 3, stagger: 1s}\nmatrix:\n  model: [a, b]\n",
                              "x.yaml");
  // 2 points x 3 runs x (10s + 2s + 2 x 1s stagger + 5s slack) + 10s startup.
  EXPECT_EQ(run_time_bound(s), 2 * 3 * 19s + 10s);
}

TEST(scenario_test, refuses_a_file_over_the_size_cap_before_parsing) {
  auto path = std::filesystem::temp_directory_path() / "harness_scenario_test_big.yaml";
  {
    std::ofstream out(path);
    out << kHead << "description: \"" << std::string(2 << 20, 'x') << "\"\n";
  }
  try {
    load_scenario(path.string());
    FAIL() << "loaded a 2 MiB file";
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("over the 1MiB limit"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(scenario_test, missing_file_is_one_error) {
  try {
    load_scenario(kData + "/nope.yaml");
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.diagnostics().at(0).str(), kData + "/nope.yaml: error: cannot open " + kData +
                                               "/nope.yaml: No such file or directory");
  }
}

TEST(scenario_test, alias_bomb_in_a_value_kept_as_written_is_refused_quickly) {
  // "Billion laughs": 10 levels of 9 aliases each. yaml-cpp shares aliased nodes, so loading is
  // cheap; only a walk of the expanded tree would explode, and it must stop at its budget.
  // The bomb sits under `expect.result.x.eq`, a value the loader converts generically.
  std::string bomb = "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    bomb += "x" + std::to_string(level) + ": &x" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *x" : "*x") + std::to_string(level - 1);
    bomb += "]\n";
  }
  std::string text = "schema: 1\nname: t\nworker:\n  command: [prog]\nbombs:\n";
  for (std::size_t pos = 0; pos < bomb.size();) {
    auto nl = bomb.find('\n', pos);
    text += "  " + bomb.substr(pos, nl - pos + 1);
    pos = nl + 1;
  }
  text += "expect:\n  result:\n    boom: {eq: *x9}\n";
  auto start = std::chrono::steady_clock::now();
  auto errors = errors_of(text);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 5s);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind("x.yaml:5:1: error: unknown key 'bombs'", 0), 0u) << errors[0];
  EXPECT_NE(errors[1].find("expands to too many values"), std::string::npos) << errors[1];
}

TEST(scenario_test, alias_bomb_anywhere_is_refused_quickly) {
  std::string bomb = "bombs:\n  x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    bomb += "  x" + std::to_string(level) + ": &x" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *x" : "*x") + std::to_string(level - 1);
    bomb += "]\n";
  }
  for (const char* use :
       {"matrix: {instances: *x9}\nworker: {command: [p]}\n",
        "labels: *x9\nworker: {command: [p]}\n", "worker: {command: *x9}\n",
        "worker: {command: [p], env: *x9}\n", "worker: {command: [p], stdin: *x9}\n",
        "worker: {command: [p]}\nexpect: *x9\n"}) {
    auto start = std::chrono::steady_clock::now();
    auto errors = errors_of("schema: 1\nname: t\n" + bomb + std::string(use));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << use;
    EXPECT_GE(errors.size(), 2u) << use;  // the unknown `bombs` key and the misuse
  }
}

TEST(scenario_test, deep_nesting_is_refused_quickly) {
  for (int depth : {40, 500, 100000}) {
    std::string text = kHead + "expect:\n  result:\n    deep: {eq: " + std::string(depth, '[') +
                       std::string(depth, ']') + "}\n";
    auto start = std::chrono::steady_clock::now();
    auto errors = errors_of(text);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << depth;
    ASSERT_EQ(errors.size(), 1u) << depth;
    EXPECT_NE(errors[0].find("nesting deeper than"), std::string::npos) << errors[0];
  }
}

// Issue 12 item 8: what the YAML spec refuses, yaml-cpp let through. One test per class; the
// byte-level cases are in yaml_text_test.cpp.
TEST(scenario_test, invalid_utf8_is_refused_with_its_position) {
  // kHead is 4 lines; "description: ab" puts the bad byte at line 5, column 16.
  EXPECT_EQ(only_error(kHead + "description: ab\xC3(\n"),
            "x.yaml:5:16: error: invalid UTF-8: a character cut short (missing continuation "
            "bytes) (byte 0xC3); a scenario is UTF-8 text: save the file as UTF-8");
}

TEST(scenario_test, raw_control_characters_are_refused_with_their_position) {
  EXPECT_EQ(only_error(kHead + "description: a\x1B[31mb\n"),
            "x.yaml:5:15: error: control character U+001B is not allowed in YAML; remove it, or "
            "write it as an escape (\\u001B) in a double-quoted string");
}

TEST(scenario_test, tab_indentation_is_refused_with_a_fix) {
  const std::string e = only_error("schema: 1\nname: t\nworker:\n  command:\n  -\tprog\n");
  EXPECT_EQ(e.rfind("x.yaml:5:4: error: invalid YAML: ", 0), 0u) << e;
  EXPECT_NE(e.find("replace it with spaces"), std::string::npos) << e;
}

TEST(scenario_test, unterminated_quote_at_the_end_is_refused) {
  const std::string e = only_error(kHead + "description: \"no end\n");
  EXPECT_EQ(e.rfind("x.yaml:6:1: error: invalid YAML: found unexpected end of stream", 0), 0u) << e;
}

TEST(scenario_test, nul_in_an_argument_is_refused_not_cut) {
  // Before: "abc\0def" loaded as the 7 bytes, and exec saw "abc".
  EXPECT_EQ(only_error("schema: 1\nname: t\nworker:\n  command: [prog, \"abc\\0def\"]\n"),
            "x.yaml:4:19: error: a NUL character (an escape such as \\0 or \\x00) in a string: "
            "argv, environment and paths end at a NUL, so the worker would get a cut value; "
            "remove it");
  for (const std::string where :
       {"  env: {A: \"x\\x00\"}\n", "  cwd: \"/tmp\\u0000x\"\n", "  stdin: \"a\\0\"\n"}) {
    const auto errors = errors_of(kHead + where);
    ASSERT_EQ(errors.size(), 1u) << where;
    EXPECT_NE(errors[0].find("x.yaml:5:"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("NUL character"), std::string::npos) << errors[0];
  }
}

TEST(scenario_test, an_escaped_control_in_an_unknown_key_stays_on_one_line) {
  // Valid YAML (the controls are escapes), so the loader echoes the key: escaped, one line.
  const std::string e = only_error(kHead + "\"ti\\nme\\x1Bout\": 1\n");
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_EQ(e.find('\x1B'), std::string::npos) << e;
  EXPECT_EQ(e.rfind("x.yaml:5:1: error: unknown key 'ti\\nme\\x1Bout' at the top level", 0), 0u)
      << e;
}

TEST(scenario_test, a_long_non_ascii_key_is_cut_on_a_character_boundary) {
  std::string key;
  for (int i = 0; i < 40; ++i) key += "\xC3\xA9";  // after the x, byte 60 splits the 30th
  const std::string e = only_error(kHead + "x" + key + ": 1\n");
  EXPECT_EQ(e.find("\\x"), std::string::npos) << e;  // no half character shown as a byte
  EXPECT_NE(e.find("x" + key.substr(0, 58) + "...'"), std::string::npos) << e;
}

TEST(scenario_test, every_scenario_of_the_repository_passes_the_text_checks) {
  const auto files = find_scenarios({HARNESS_SOURCE_DIR "/scenarios"});
  ASSERT_GT(files.size(), 10u);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(check_yaml_text(text, f, 32).empty()) << f;
  }
}

TEST(scenario_test, find_scenarios_walks_folders_sorted) {
  auto files = find_scenarios({kData + "/tree", kData + "/valid_concurrency.yaml"});
  EXPECT_EQ(files, (std::vector<std::string>{kData + "/tree/a.yml", kData + "/tree/b.yaml",
                                             kData + "/tree/sub/c.yaml",
                                             kData + "/valid_concurrency.yaml"}));
  EXPECT_THROW(find_scenarios({kData + "/missing"}), std::runtime_error);
}

TEST(scenario_test, did_you_mean_uses_edit_distance) {
  EXPECT_EQ(closest_match("timout", {"command", "timeout", "grace"}), "timeout");
  EXPECT_EQ(closest_match("tiemout", {"timeout"}), "timeout");
  EXPECT_EQ(closest_match("xyz", {"timeout"}), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace harness
