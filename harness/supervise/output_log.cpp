#include "harness/supervise/output_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "harness/core/escape.hpp"

namespace harness {
namespace {

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a full disk loses log lines, never the run
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void stamp(std::string& out, double seconds) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%10.6f ", seconds);
  out.append(buf, static_cast<std::size_t>(n));
}

// One line as a log shows it: printable (terminal escapes as \x1B, no raw CR), never a newline.
void append_text(std::string& out, std::string_view text) {
  for (char c : printable_text(text)) {
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

}  // namespace

RunLog::RunLog(const std::string& path, std::size_t max_bytes)
    : path_(path), max_bytes_(max_bytes), start_(std::chrono::steady_clock::now()) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + path);
}

RunLog::~RunLog() {
  if (fd_ >= 0) ::close(fd_);
}

void RunLog::write(std::string_view lines) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cut_ || lines.empty()) return;
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  block_.clear();
  while (!lines.empty()) {
    const std::size_t eol = lines.find('\n');
    const std::string_view one = lines.substr(0, eol);
    stamp(block_, t);
    block_.append(one);
    block_ += '\n';
    lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 1);
  }
  if (written_ + block_.size() > max_bytes_) {
    cut_ = true;
    block_.clear();
    stamp(block_, t);
    block_ += "harness: run.log is cut here, at " + std::to_string(written_) +
              " bytes; every instance's own log goes on, and report.json has the exact counts\n";
  }
  write_all(fd_, block_);
  written_ += block_.size();
}

InstanceLog::InstanceLog(LogTarget target) : target_(std::move(target)) {}

InstanceLog::~InstanceLog() {
  if (fd_ >= 0) ::close(fd_);
}

void InstanceLog::add(bool is_err, std::string_view data, double t_ms) {
  Stream& s = is_err ? err_ : out_;
  while (!data.empty()) {
    const std::size_t eol = data.find('\n');
    const std::string_view piece = data.substr(0, eol);
    s.partial_bytes += piece.size();
    if (s.partial.size() < kMaxLogLineBytes)
      s.partial.append(piece.substr(0, kMaxLogLineBytes - s.partial.size()));
    if (eol == std::string_view::npos) break;
    line(is_err, s.partial, s.partial_bytes, t_ms);
    s.partial.clear();
    s.partial_bytes = 0;
    data.remove_prefix(eol + 1);
  }
  flush();
}

void InstanceLog::line(bool is_err, std::string_view text, std::size_t full_bytes, double t_ms,
                       bool no_newline) {
  const char* stream = is_err ? "err" : "out";
  std::string shown;
  append_text(shown, text);
  if (full_bytes > text.size())
    shown += " [line cut: " + std::to_string(full_bytes) + " bytes in all]";
  if (no_newline) shown += " [no newline at the end]";
  if (!target_.path.empty() && !cut_ && !failed_) {
    const std::size_t before = file_block_.size();
    stamp(file_block_, t_ms / 1000.0);
    file_block_ += stream;
    file_block_ += " [" + target_.tag + "] ";
    file_block_ += shown;
    file_block_ += '\n';
    if (written_ + file_block_.size() > target_.max_bytes) {
      file_block_.resize(before);
      stamp(file_block_, t_ms / 1000.0);
      file_block_ += "harness: this log is cut here, at " + std::to_string(written_ + before) +
                     " bytes; the worker's exact byte and line counts follow at its end\n";
      cut_ = true;
    }
  }
  if (target_.run) {
    run_block_ += "[" + target_.tag + "] ";
    run_block_ += stream;
    run_block_ += ": ";
    run_block_ += shown;
    run_block_ += '\n';
  }
}

void InstanceLog::flush() {
  if (!file_block_.empty() && !failed_) {
    if (fd_ < 0) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(target_.path).parent_path(), ec);
      fd_ = ::open(target_.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      failed_ = fd_ < 0;  // no log file is no reason to fail the run; report.json has the tails
      opened_ = !failed_;
    }
    if (fd_ >= 0) {
      write_all(fd_, file_block_);
      written_ += file_block_.size();
    }
  }
  file_block_.clear();
  if (target_.run && !run_block_.empty()) target_.run->write(run_block_);
  run_block_.clear();
}

void InstanceLog::finish(const StreamCapture& out, const StreamCapture& err, double t_ms) {
  for (bool is_err : {false, true}) {
    Stream& s = is_err ? err_ : out_;
    if (s.partial_bytes == 0) continue;
    line(is_err, s.partial, s.partial_bytes, t_ms, true);
    s.partial.clear();
    s.partial_bytes = 0;
  }
  if (cut_ && !failed_) {
    stamp(file_block_, t_ms / 1000.0);
    file_block_ += "harness: in all, stdout " + std::to_string(out.bytes) + " bytes in " +
                   std::to_string(out.lines) + " lines, stderr " + std::to_string(err.bytes) +
                   " bytes in " + std::to_string(err.lines) + " lines\n";
  }
  flush();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace harness
