// Whole-file reads and atomic writes (core/files.hpp): contents, limits, and errors that name
// the path and the cause.

#include "harness/core/files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace harness {
namespace {

namespace fs = std::filesystem;

class files_test : public ::testing::Test {
 protected:
  files_test() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/files_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~files_test() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The message of the std::system_error that `f` throws, or "" when it throws none.
  template <class F>
  static std::string error_of(F f) {
    try {
      f();
    } catch (const std::system_error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(files_test, atomic_write_creates_and_replaces_whole_files) {
  const fs::path file = dir_ / "a.txt";
  write_file_atomic(file, "first");
  EXPECT_EQ(read_file(file), "first");
  const std::string big(300000, 'x');  // more than one read buffer
  write_file_atomic(file, big);
  EXPECT_EQ(read_file(file), big);
  write_file_atomic(file, "");
  EXPECT_EQ(read_file(file), "");
  EXPECT_FALSE(fs::exists(dir_ / "a.txt.tmp"));
}

TEST_F(files_test, failed_write_names_the_path_and_leaves_the_old_file) {
  const fs::path file = dir_ / "kept.txt";
  write_file_atomic(file, "old");
  fs::create_directory(dir_ / "kept.txt.tmp");  // the temporary file cannot be created
  EXPECT_EQ(error_of([&] { write_file_atomic(file, "new"); }),
            "cannot create " + (dir_ / "kept.txt.tmp").string() + ": Is a directory");
  EXPECT_EQ(read_file(file), "old");
  const fs::path nowhere = dir_ / "no" / "x.txt";
  EXPECT_EQ(error_of([&] { write_file_atomic(nowhere, "x"); }),
            "cannot create " + nowhere.string() + ".tmp: No such file or directory");
}

TEST_F(files_test, read_errors_name_the_path_and_the_cause) {
  EXPECT_EQ(error_of([&] { read_file(dir_ / "missing"); }),
            "cannot open " + (dir_ / "missing").string() + ": No such file or directory");
  EXPECT_EQ(error_of([&] { read_file(dir_); }),
            "cannot read " + dir_.string() + ": Is a directory");
}

TEST_F(files_test, a_limit_reads_one_byte_past_it_and_no_more) {
  const fs::path file = dir_ / "long.txt";
  write_file_atomic(file, std::string(1000, 'y'));
  EXPECT_EQ(read_file(file, 10).size(), 11u);
  EXPECT_EQ(read_file(file, 999).size(), 1000u);
  EXPECT_EQ(read_file(file, 1000).size(), 1000u);
  EXPECT_EQ(read_file(file, 0).size(), 1u);
}

}  // namespace
}  // namespace harness
