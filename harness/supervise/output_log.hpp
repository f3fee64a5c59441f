#pragma once
// Every line a worker prints, kept in logs/ of the report folder as the run goes: a file per
// instance, each line prefixed with its time since spawn, its stream and a tag such as
// [concurrency#2], and one merged run.log of all workers in the order the harness read them,
// each line stamped with the time since the run began. Both are bounded (the exact byte and
// line counts are the capture's, in report.json; a cut file says where it was cut), and every
// block is written with one write(2) as it is read, so an interrupted or killed run keeps what
// came before.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "harness/core/result.hpp"

namespace harness {

inline constexpr std::size_t kLogBytesPerInstance = 1 << 20;
inline constexpr std::size_t kRunLogBytes = 64 << 20;
inline constexpr std::size_t kMaxLogLineBytes = 16 * 1024;  // longer lines are cut, and say so

// run.log: shared by every instance of a run, from any thread.
class RunLog {
 public:
  // Creates (truncates) `path`; throws std::system_error when it cannot.
  explicit RunLog(const std::string& path, std::size_t max_bytes = kRunLogBytes);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  // Whole lines, each "TAG STREAM: text"; stamped here, under the lock, with the time since the
  // run began, so the file's times never go back.
  void write(std::string_view tagged_lines);
  const std::string& path() const { return path_; }

 private:
  std::mutex mu_;
  int fd_ = -1;
  std::string path_;
  std::size_t max_bytes_, written_ = 0;
  bool cut_ = false;
  std::chrono::steady_clock::time_point start_;
  std::string block_;
};

// Where an instance's lines go: its own file (made when the first line comes, with its folder)
// and the run's log. Empty path: no file of its own.
struct LogTarget {
  std::string path;
  std::string tag;  // "concurrency#2"
  std::shared_ptr<RunLog> run;
  std::size_t max_bytes = kLogBytesPerInstance;
  bool enabled() const { return !path.empty() || run != nullptr; }
};

// One instance's lines, fed the bytes as they are read (on the session's loop thread).
class InstanceLog {
 public:
  explicit InstanceLog(LogTarget target);
  ~InstanceLog();
  InstanceLog(const InstanceLog&) = delete;
  InstanceLog& operator=(const InstanceLog&) = delete;

  void add(bool is_err, std::string_view data, double t_ms);
  // At the end: the last lines without a newline, and when the file was cut, the exact counts.
  void finish(const StreamCapture& out, const StreamCapture& err, double t_ms);
  // The file, when one was written; "" otherwise.
  std::string written_path() const { return opened_ ? target_.path : ""; }

 private:
  struct Stream {
    std::string partial;  // the line being assembled, at most kMaxLogLineBytes
    std::size_t partial_bytes = 0;
  };
  void line(bool is_err, std::string_view text, std::size_t full_bytes, double t_ms,
            bool no_newline = false);
  void flush();

  LogTarget target_;
  Stream out_, err_;
  int fd_ = -1;
  bool opened_ = false, failed_ = false, cut_ = false;
  std::size_t written_ = 0;
  std::string file_block_, run_block_;
};

}  // namespace harness
