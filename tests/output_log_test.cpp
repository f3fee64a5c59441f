// The logs of a run: each instance's file and the merged run.log. Fed made-up chunks (split
// lines, long lines, escapes, a file over its bound) and then real processes: a three-process
// worker whose processes print at once, whose lines must come out whole, tagged and in order.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness/supervise/output_log.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("output_log_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// "  1.234567 out [tag] text" into its parts; false when the line is not of that shape.
struct LogLine {
  double t = -1;
  std::string stream, tag, text;
};
bool parse_instance_line(const std::string& l, LogLine& out) {
  std::istringstream in(l);
  if (!(in >> out.t >> out.stream)) return false;
  std::string rest;
  std::getline(in, rest);
  if (rest.size() < 3 || rest[0] != ' ' || rest[1] != '[') return false;
  const auto close = rest.find("] ");
  if (close == std::string::npos) return false;
  out.tag = rest.substr(2, close - 2);
  out.text = rest.substr(close + 2);
  return out.stream == "out" || out.stream == "err";
}
// "  1.234567 [tag] out: text"
bool parse_run_line(const std::string& l, LogLine& out) {
  std::istringstream in(l);
  std::string tag;
  if (!(in >> out.t >> tag >> out.stream)) return false;
  if (tag.size() < 3 || tag.front() != '[' || tag.back() != ']') return false;
  out.tag = tag.substr(1, tag.size() - 2);
  if (out.stream != "out:" && out.stream != "err:") return false;
  out.stream.pop_back();
  std::getline(in, out.text);
  if (!out.text.empty() && out.text[0] == ' ') out.text.erase(0, 1);
  return true;
}

TEST(output_log_test, lines_split_across_reads_come_out_whole_and_stamped) {
  TempDir dir;
  LogTarget t;
  t.path = (dir.path / "a" / "instance-0.log").string();
  t.tag = "smoke#0";
  {
    InstanceLog log(t);
    EXPECT_EQ(log.written_path(), "");  // nothing printed yet, no file
    EXPECT_FALSE(fs::exists(t.path));
    log.add(false, "hel", 1.0);
    log.add(false, "lo\nwor", 2.0);
    log.add(true, "an error\n", 2500.0);
    log.add(false, "ld\n\x1b[31mred\r\n", 3000.0);
    StreamCapture out, err;
    log.finish(out, err, 4000.0);
    EXPECT_EQ(log.written_path(), t.path);
  }
  const auto lines = lines_of(t.path);
  ASSERT_EQ(lines.size(), 4u);
  LogLine l;
  ASSERT_TRUE(parse_instance_line(lines[0], l)) << lines[0];
  EXPECT_EQ(l.stream, "out");
  EXPECT_EQ(l.tag, "smoke#0");
  EXPECT_EQ(l.text, "hello");
  EXPECT_DOUBLE_EQ(l.t, 0.002);  // the time of the read that ended the line
  ASSERT_TRUE(parse_instance_line(lines[1], l));
  EXPECT_EQ(l.stream, "err");
  EXPECT_EQ(l.text, "an error");
  EXPECT_DOUBLE_EQ(l.t, 2.5);
  ASSERT_TRUE(parse_instance_line(lines[2], l));
  EXPECT_EQ(l.text, "world");
  // A terminal escape and a carriage return are shown, never sent to whoever reads the log.
  ASSERT_TRUE(parse_instance_line(lines[3], l));
  EXPECT_EQ(l.text.find('\x1b'), std::string::npos) << l.text;
  EXPECT_EQ(l.text.find('\r'), std::string::npos) << l.text;
  EXPECT_NE(l.text.find("red"), std::string::npos);
}

TEST(output_log_test, a_last_line_without_newline_is_kept_and_says_so) {
  TempDir dir;
  LogTarget t;
  t.path = (dir.path / "instance-0.log").string();
  t.tag = "x#0";
  InstanceLog log(t);
  log.add(false, "done", 10);
  log.finish({}, {}, 20);
  const auto lines = lines_of(t.path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("done [no newline at the end]"), std::string::npos) << lines[0];
}

TEST(output_log_test, a_huge_line_is_cut_with_its_true_length) {
  TempDir dir;
  LogTarget t;
  t.path = (dir.path / "instance-0.log").string();
  t.tag = "x#0";
  InstanceLog log(t);
  const std::string chunk(10000, 'a');
  for (int i = 0; i < 10; ++i) log.add(false, chunk, i);
  log.add(false, "\nnext\n", 11);
  log.finish({}, {}, 12);
  const auto lines = lines_of(t.path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_LT(lines[0].size(), kMaxLogLineBytes + 200);
  EXPECT_GE(lines[0].size(), kMaxLogLineBytes);
  EXPECT_NE(lines[0].find("[line cut: 100000 bytes in all]"), std::string::npos);
  LogLine l;
  ASSERT_TRUE(parse_instance_line(lines[1], l));
  EXPECT_EQ(l.text, "next");
}

TEST(output_log_test, a_file_over_its_bound_is_cut_and_ends_with_the_exact_counts) {
  TempDir dir;
  LogTarget t;
  t.path = (dir.path / "instance-0.log").string();
  t.tag = "flood#0";
  t.max_bytes = 4096;
  InstanceLog log(t);
  StreamCapture out, err;
  for (int i = 0; i < 1000; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    log.add(false, line, i);
    out.bytes += line.size();
    ++out.lines;
  }
  log.finish(out, err, 1000);
  EXPECT_LE(fs::file_size(t.path), 4096u + 400u);
  const auto lines = lines_of(t.path);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(lines[lines.size() - 2].find("harness: this log is cut here"), std::string::npos);
  EXPECT_NE(lines.back().find("stdout " + std::to_string(out.bytes) + " bytes in 1000 lines"),
            std::string::npos)
      << lines.back();
  // What came before the cut is every line, in order, from the first.
  for (std::size_t i = 0; i + 2 < lines.size(); ++i) {
    LogLine l;
    ASSERT_TRUE(parse_instance_line(lines[i], l)) << lines[i];
    EXPECT_EQ(l.text, "line " + std::to_string(i));
  }
}

TEST(output_log_test, the_run_log_has_every_instance_and_its_times_never_go_back) {
  TempDir dir;
  fs::create_directories(dir.path);
  auto run = std::make_shared<RunLog>((dir.path / "run.log").string());
  LogTarget a{"", "a#0", run, kLogBytesPerInstance};
  LogTarget b{"", "b#1", run, kLogBytesPerInstance};
  InstanceLog la(a), lb(b);
  for (int i = 0; i < 50; ++i) {
    la.add(false, "a " + std::to_string(i) + "\n", i);
    lb.add(true, "b " + std::to_string(i) + "\n", i);
  }
  la.finish({}, {}, 50);
  lb.finish({}, {}, 50);
  const auto lines = lines_of(dir.path / "run.log");
  ASSERT_EQ(lines.size(), 100u);
  double last = 0;
  int na = 0, nb = 0;
  for (const std::string& s : lines) {
    LogLine l;
    ASSERT_TRUE(parse_run_line(s, l)) << s;
    EXPECT_GE(l.t, last);
    last = l.t;
    if (l.tag == "a#0") {
      EXPECT_EQ(l.stream, "out");
      EXPECT_EQ(l.text, "a " + std::to_string(na++));
    } else {
      EXPECT_EQ(l.tag, "b#1");
      EXPECT_EQ(l.stream, "err");
      EXPECT_EQ(l.text, "b " + std::to_string(nb++));
    }
  }
  EXPECT_EQ(na, 50);
  EXPECT_EQ(nb, 50);
}

TEST(output_log_test, the_run_log_is_cut_at_its_bound) {
  TempDir dir;
  fs::create_directories(dir.path);
  RunLog run((dir.path / "run.log").string(), 2000);
  for (int i = 0; i < 500; ++i) run.write("[x#0] out: line " + std::to_string(i) + "\n");
  EXPECT_LE(fs::file_size(dir.path / "run.log"), 2000u + 300u);
  const auto lines = lines_of(dir.path / "run.log");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("run.log is cut here"), std::string::npos);
}

// Three processes of one worker print 300 lines each to stdout and stderr at once: each line of
// the log is one of theirs, whole, and each process's lines are in the order it wrote them.
TEST(output_log_test, a_three_process_worker_printing_at_once_keeps_its_lines_whole) {
  TempDir dir;
  fs::create_directories(dir.path);
  auto run = std::make_shared<RunLog>((dir.path / "run.log").string());
  ProcessSpec spec = test::fault({"--mode", "tree", "--children", "2", "--mib", "0", "--ms", "0",
                                  "--count", "300", "--hold-ms", "0"});
  spec.log.path = (dir.path / "logs" / "instance-0.log").string();
  spec.log.tag = "tree#0";
  spec.log.run = run;
  Supervisor sup;
  const ProcessResult r = sup.run({spec}).at(0);
  ASSERT_EQ(r.exit_code.value_or(-1), 0) << r.err.tail;
  EXPECT_EQ(r.log_file, spec.log.path);

  auto check = [&](const std::vector<std::string>& lines, bool run_log) {
    std::map<std::string, std::map<int, int>> next;  // stream -> process -> next line number
    int tree_lines = 0;
    double last = 0;
    for (const std::string& s : lines) {
      LogLine l;
      ASSERT_TRUE(run_log ? parse_run_line(s, l) : parse_instance_line(s, l)) << s;
      EXPECT_EQ(l.tag, "tree#0");
      EXPECT_GE(l.t, last);
      last = l.t;
      if (l.text.rfind("tree ", 0) != 0) continue;  // the worker's JSON events
      int k = -1, i = -1;
      ASSERT_EQ(std::sscanf(l.text.c_str(), "tree %d line %d", &k, &i), 2) << s;
      EXPECT_EQ(l.text, "tree " + std::to_string(k) + " line " + std::to_string(i));
      EXPECT_EQ(i, next[l.stream][k]++) << s;
      ++tree_lines;
    }
    EXPECT_EQ(tree_lines, 2 * 3 * 300);
    for (const char* stream : {"out", "err"})
      for (int k = 0; k < 3; ++k) EXPECT_EQ(next[stream][k], 300) << stream << " " << k;
  };
  check(lines_of(spec.log.path), false);
  check(lines_of(dir.path / "run.log"), true);
}

}  // namespace
}  // namespace harness
