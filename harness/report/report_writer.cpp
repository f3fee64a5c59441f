#include "harness/report/report_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>
#include <system_error>

namespace harness {
namespace {

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Plain POSIX so the data reaches the disk (fsync) before the rename makes it visible.
void write_file(const std::filesystem::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno, "cannot create " + path.string());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(err, "cannot write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(fd);
    fail(err, "cannot flush " + path.string());
  }
  if (::close(fd) != 0) fail(errno, "cannot close " + path.string());
}

}  // namespace

std::filesystem::path write_report(const Reporter& reporter, const RunReport& report,
                                   const std::filesystem::path& dir) {
  std::ostringstream content;
  reporter.write(report, content);
  const std::filesystem::path target = dir / reporter.filename();
  std::filesystem::path tmp = target;
  tmp += ".tmp";
  try {
    write_file(tmp, content.str());
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
      fail(errno, "cannot rename " + tmp.string() + " to " + target.string());
    }
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  return target;
}

void write_reports(const RunReport& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::system_error(
        ec, "cannot create report folder " + dir.string() + " (choose another with --report-dir)");
  }
  for (const auto& reporter : all_reporters()) write_report(*reporter, report, dir);
}

std::vector<std::unique_ptr<Reporter>> all_reporters() {
  std::vector<std::unique_ptr<Reporter>> out;
  out.push_back(make_json_reporter());
  out.push_back(make_junit_reporter());
  out.push_back(make_markdown_reporter());
  out.push_back(make_html_reporter());
  return out;
}

}  // namespace harness
