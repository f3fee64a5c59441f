#include "harness/core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <streambuf>
#include <system_error>
#include <utility>
#include <vector>

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

// Writes all of `data` to `fd`; returns 0 or the errno of the failure.
int write_all(int fd, const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

// A streambuf over a file descriptor that keeps the first write error instead of throwing, so
// the ostream on top behaves as streams do (badbit) and commit() can still name the cause.
class AtomicFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(int fd) : fd_(fd), data_(64 * 1024) { reset(); }
  int fd() const { return fd_.get(); }
  int release() { return fd_.release(); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (flush_buffer() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return flush_buffer() == 0 ? 0 : -1; }

 private:
  void reset() { setp(data_.data(), data_.data() + data_.size()); }
  int flush_buffer() {
    if (error_ == 0)
      error_ = write_all(fd_.get(), pbase(), static_cast<std::size_t>(pptr() - pbase()));
    reset();
    return error_;
  }

  Fd fd_;
  std::vector<char> data_;
  int error_ = 0;
};

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)), tmp_(path_) {
  tmp_ += ".tmp";
  const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(errno, "cannot create " + tmp_.string());
  buffer_ = std::make_unique<Buffer>(fd);
  stream_ = std::make_unique<std::ostream>(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  stream_.reset();
  buffer_.reset();  // closes the descriptor, if commit() did not
  std::error_code ignored;
  std::filesystem::remove(tmp_, ignored);
}

std::ostream& AtomicFile::stream() {
  return *stream_;
}

// Plain POSIX so the data reaches the disk (fsync) before the rename makes it visible.
void AtomicFile::commit() {
  stream_->flush();
  if (buffer_->error() != 0) fail(buffer_->error(), "cannot write " + tmp_.string());
  if (!*stream_) fail(EIO, "cannot write " + tmp_.string());
  // EINVAL: the file system cannot sync (a pipe, some FUSE mounts); the write itself held.
  if (::fsync(buffer_->fd()) != 0 && errno != EINVAL) fail(errno, "cannot flush " + tmp_.string());
  if (::close(buffer_->release()) != 0) fail(errno, "cannot close " + tmp_.string());
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail(errno, "cannot rename " + tmp_.string() + " to " + path_.string());
  committed_ = true;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  AtomicFile file(path);
  file.stream().write(text.data(), static_cast<std::streamsize>(text.size()));
  file.commit();
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
