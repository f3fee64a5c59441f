// Where an installed or a build-tree harness looks for its workers, models and fixtures
// (harness/cli/default_paths.hpp). The install test runs the installed tree for real; these pin
// the rule on layouts made up here, so they hold whatever folders this build uses.

#include "harness/cli/default_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace harness {
namespace {

namespace fs = std::filesystem;

// A build tree that exists (the harness's own), with made-up install folders.
PathLayout layout() {
  PathLayout l;
  l.build_bin_dir = fs::path(HARNESS_BINARY).parent_path();
  l.build = {"/build/bin", "/build/models", "/build/fixtures"};
  l.installed = {"../libexec/ih/workers", "../share/ih/models", "../share/ih/fixtures"};
  return l;
}

TEST(default_paths_test, harness_in_its_build_tree_uses_the_build_folders) {
  const DefaultPaths p = default_paths(fs::path(HARNESS_BINARY), layout());
  EXPECT_EQ(p.workers, "/build/bin");
  EXPECT_EQ(p.models, "/build/models");
  EXPECT_EQ(p.fixtures, "/build/fixtures");
}

TEST(default_paths_test, build_tree_is_recognised_through_a_symlinked_path) {
  const fs::path link = fs::path(::testing::TempDir()) / "default_paths_test_link";
  std::error_code ignored;
  fs::remove(link, ignored);
  fs::create_directory_symlink(fs::path(HARNESS_BINARY).parent_path(), link);
  const DefaultPaths p = default_paths(link / "harness", layout());
  fs::remove(link, ignored);
  EXPECT_EQ(p.workers, "/build/bin");
}

TEST(default_paths_test, installed_harness_looks_beside_its_own_folder) {
  const DefaultPaths p = default_paths("/opt/tools/bin/harness", layout());
  EXPECT_EQ(p.workers, "/opt/tools/libexec/ih/workers");
  EXPECT_EQ(p.models, "/opt/tools/share/ih/models");
  EXPECT_EQ(p.fixtures, "/opt/tools/share/ih/fixtures");
}

TEST(default_paths_test, a_build_tree_that_is_gone_is_no_match) {
  PathLayout l = layout();
  l.build_bin_dir = "/no/such/build/harness";
  const DefaultPaths p = default_paths("/no/such/build/harness/harness", l);
  EXPECT_EQ(p.workers, "/no/such/build/libexec/ih/workers");
}

TEST(default_paths_test, compiled_layout_is_the_build_of_this_tree) {
  const PathLayout& l = compiled_layout();
  EXPECT_TRUE(fs::equivalent(l.build_bin_dir, fs::path(HARNESS_BINARY).parent_path()));
  EXPECT_EQ(l.build.workers, HARNESS_WORKERS_DIR);
  EXPECT_EQ(l.build.models, HARNESS_MODELS_DIR);
  EXPECT_EQ(l.build.fixtures, HARNESS_FIXTURES_DIR);
  // Installed folders are relative to the executable, so any prefix works.
  for (const std::string& rel : {l.installed.workers, l.installed.models, l.installed.fixtures}) {
    EXPECT_TRUE(fs::path(rel).is_relative()) << rel;
  }
}

}  // namespace
}  // namespace harness
