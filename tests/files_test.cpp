// Whole-file reads and atomic writes (core/files.hpp): contents, limits, and errors that name
// the path and the cause.

#include "harness/core/files.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
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

TEST_F(files_test, atomic_file_streams_many_pieces_into_place) {
  const fs::path file = dir_ / "streamed.txt";
  std::string expected;
  {
    AtomicFile out(file);
    for (int i = 0; i < 100000; ++i) {  // ~590 KB: many 64 KiB buffers
      out.stream() << i << '\n';
      expected += std::to_string(i) + '\n';
    }
    EXPECT_FALSE(fs::exists(file));  // nothing visible before the commit
    out.commit();
  }
  EXPECT_EQ(read_file(file), expected);
  EXPECT_FALSE(fs::exists(dir_ / "streamed.txt.tmp"));
}

TEST_F(files_test, atomic_file_abandoned_without_commit_keeps_the_old_file) {
  const fs::path file = dir_ / "kept.txt";
  write_file_atomic(file, "old");
  try {
    AtomicFile out(file);
    out.stream() << std::string(200000, 'n');
    throw std::runtime_error("a reporter failed half way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(file), "old");
  EXPECT_FALSE(fs::exists(dir_ / "kept.txt.tmp"));
}

TEST_F(files_test, atomic_file_write_error_is_reported_at_commit_with_its_cause) {
  // A file size limit makes write() fail with EFBIG once the buffer is flushed.
  const fs::path file = dir_ / "big.txt";
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 100000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  {
    AtomicFile out(file);
    out.stream() << std::string(300000, 'z');
    EXPECT_FALSE(out.stream().good());
    message = error_of([&] { out.commit(); });
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(message, "cannot write " + (dir_ / "big.txt.tmp").string() + ": File too large");
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(dir_ / "big.txt.tmp"));
}

}  // namespace
}  // namespace harness
