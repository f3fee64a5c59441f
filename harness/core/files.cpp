#include "harness/core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

namespace harness {
namespace {

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Closes on every path out; close errors on the way out of a failure are not the news.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Plain POSIX so the data reaches the disk (fsync) before the rename makes it visible.
void write_whole(const std::filesystem::path& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail(errno, "cannot create " + path.string());
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, "cannot write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  // EINVAL: the file system cannot sync (a pipe, some FUSE mounts); the write itself held.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) fail(errno, "cannot flush " + path.string());
  if (::close(fd.release()) != 0) fail(errno, "cannot close " + path.string());
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  try {
    write_whole(tmp, text);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail(errno, "cannot rename " + tmp.string() + " to " + path.string());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

std::string read_file(const std::filesystem::path& path, std::optional<std::uintmax_t> limit) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(errno, "cannot open " + path.string());
  std::string text;
  char buf[65536];
  for (;;) {
    std::size_t want = sizeof buf;
    if (limit) {
      if (text.size() > *limit) break;
      want = std::min<std::uintmax_t>(want, *limit + 1 - text.size());
    }
    const ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, "cannot read " + path.string());
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace harness
