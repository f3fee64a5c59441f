// The installed tree, used as another project uses it: `cmake --install` of this build into a
// temporary prefix, then tests/data/install_consumer (find_package(inference_harness),
// harness_add_scenarios over one fault_worker scenario, no HARNESS, no WORKERS) configured
// against that prefix, built, and its ctest run. The scenario must run the installed harness and
// the installed fault_worker, not the ones of this build tree.
//
// Everything happens in a temporary folder; nothing comes from the network or from outside the
// repository, this build tree and the CMake that built it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_process.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::Completed;
using test::run_program;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string describe(const Completed& c) {
  return "exit " + std::to_string(c.status) + (c.timed_out ? " (timed out)" : "") +
         "\n--- stdout\n" + c.out + "\n--- stderr\n" + c.err;
}

// Steps run without the variables that would point the harness elsewhere than its own defaults.
test::SpawnOptions clean_env() {
  test::SpawnOptions options;
  options.env = {"HARNESS_WORKERS", "HARNESS_MODELS", "HARNESS_FIXTURES", "CMAKE_PREFIX_PATH"};
  return options;
}

// One installation for all tests of the suite.
class InstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::path(::testing::TempDir()) /
                         ("install_test_" + std::to_string(::getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    *root_ = fs::canonical(*root_);
    // `cmake --install` records what it installed in the build's install_manifest.txt: put back
    // the one found, so a real install of this build keeps its record.
    const fs::path manifest = fs::path(HARNESS_BUILD_DIR) / "install_manifest.txt";
    const bool had_manifest = fs::exists(manifest);
    const std::string saved = had_manifest ? read_text(manifest) : "";
    install_ = new Completed(
        run_program({CMAKE_COMMAND, "--install", HARNESS_BUILD_DIR, "--prefix", prefix().string()},
                    clean_env(), 5min));
    if (had_manifest) {
      std::ofstream(manifest, std::ios::binary) << saved;
    } else {
      std::error_code ignored;
      fs::remove(manifest, ignored);
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*root_, ignored);
    delete root_;
    delete install_;
  }
  void SetUp() override { ASSERT_EQ(install_->status, 0) << describe(*install_); }

  static fs::path prefix() { return *root_ / "prefix"; }
  static fs::path workers() { return prefix() / HARNESS_INSTALL_WORKERS_DIR; }

  // Configures the consumer project into `build` against the prefix only.
  static Completed configure(const fs::path& build, const std::string& wanted_version) {
    return run_program(
        {CMAKE_COMMAND, "-S", CONSUMER_SOURCE_DIR, "-B", build.string(), "-G", CMAKE_GENERATOR,
         "-DCMAKE_PREFIX_PATH=" + prefix().string(), "-DWANTED_VERSION=" + wanted_version},
        clean_env(), 2min);
  }

  static fs::path* root_;
  static Completed* install_;
};
fs::path* InstallTest::root_ = nullptr;
Completed* InstallTest::install_ = nullptr;

TEST_F(InstallTest, every_part_is_in_place) {
  for (const fs::path& program : {prefix() / HARNESS_INSTALL_BIN_DIR / "harness",
                                  workers() / "fault_worker", workers() / "yolo_worker"}) {
    EXPECT_EQ(::access(program.c_str(), X_OK), 0) << program << " is not an installed program";
  }
  const fs::path cmake_dir = prefix() / HARNESS_INSTALL_CMAKE_DIR;
  for (const char* file : {"inference_harnessConfig.cmake", "inference_harnessConfigVersion.cmake",
                           "inference_harnessTargets.cmake", "HarnessScenarios.cmake"}) {
    EXPECT_TRUE(fs::is_regular_file(cmake_dir / file)) << cmake_dir / file;
  }
  EXPECT_TRUE(fs::is_regular_file(prefix() / HARNESS_INSTALL_DATA_DIR / "scenarios" / "core" /
                                  "success.yaml"));
}

TEST_F(InstallTest, installed_harness_runs_and_knows_its_version) {
  const Completed c =
      run_program({(prefix() / HARNESS_INSTALL_BIN_DIR / "harness").string(), "--version"});
  EXPECT_EQ(c.status, 0) << describe(c);
  EXPECT_EQ(c.out, std::string("harness ") + HARNESS_VERSION + "\n");
}

TEST_F(InstallTest, consumer_project_registers_and_passes_the_scenario) {
  const fs::path build = *root_ / "consumer";
  const Completed configured = configure(build, HARNESS_VERSION);
  ASSERT_EQ(configured.status, 0) << describe(configured);
  // The package found is the one just installed, not another copy on this machine.
  EXPECT_NE(read_text(build / "CMakeCache.txt")
                .find("inference_harness_DIR:PATH=" +
                      (prefix() / HARNESS_INSTALL_CMAKE_DIR).lexically_normal().string()),
            std::string::npos)
      << read_text(build / "CMakeCache.txt");

  const Completed built =
      run_program({CMAKE_COMMAND, "--build", build.string()}, clean_env(), 2min);
  ASSERT_EQ(built.status, 0) << describe(built);

  const Completed listed = run_program(
      {CTEST_COMMAND, "--test-dir", build.string(), "-N", "-L", "consumer"}, clean_env(), 1min);
  EXPECT_EQ(listed.status, 0) << describe(listed);
  EXPECT_NE(listed.out.find("scenario.consumer_fault_worker"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("Total Tests: 1"), std::string::npos) << listed.out;

  const Completed ran = run_program(
      {CTEST_COMMAND, "--test-dir", build.string(), "--output-on-failure"}, clean_env(), 2min);
  ASSERT_EQ(ran.status, 0) << describe(ran);
  EXPECT_NE(ran.out.find("100% tests passed, 0 tests failed out of 1"), std::string::npos)
      << ran.out;

  // It ran the installed harness on the installed fault_worker.
  const fs::path report = build / "reports" / "ctest" / "consumer_fault_worker" / "report.json";
  ASSERT_TRUE(fs::exists(report)) << "no " << report << "\n" << ran.out;
  const auto r = nlohmann::json::parse(read_text(report));
  const auto& scenario = r.at("scenarios").at(0);
  EXPECT_EQ(scenario.at("status"), "pass") << scenario.dump(2);
  EXPECT_EQ(scenario.at("instances").at(0).at("argv").at(0),
            (workers() / "fault_worker").lexically_normal().string());
  const std::string command = r.at("harness").at("command").at(0).get<std::string>();
  EXPECT_TRUE(fs::equivalent(command, prefix() / HARNESS_INSTALL_BIN_DIR / "harness")) << command;
}

TEST_F(InstallTest, a_newer_minor_version_than_installed_is_refused) {
  // The version file says SameMinorVersion: 0.1.x satisfies 0.1, nothing satisfies 0.2.
  const std::string version = HARNESS_VERSION;
  const auto dot = version.find('.');
  const auto dot2 = version.find('.', dot + 1);
  const std::string newer = version.substr(0, dot + 1) +
                            std::to_string(std::stoi(version.substr(dot + 1, dot2 - dot - 1)) + 1);
  const Completed c = configure(*root_ / "consumer_newer", newer);
  EXPECT_NE(c.status, 0) << describe(c);
  EXPECT_NE(c.err.find("inference_harness"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find(newer), std::string::npos) << c.err;
}

}  // namespace
}  // namespace harness
