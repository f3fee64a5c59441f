#pragma once
// Whole-file reads and writes whose errors name the path and the cause
// ("cannot create reports/x/report.json.tmp: Permission denied").

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace harness {

// Writes `text` to PATH.tmp, flushes it to the disk, then renames it over `path` (atomic within
// a folder), so a reader, or a run interrupted at any moment, only ever sees the whole old file
// or the whole new one. Throws std::system_error naming the path; PATH.tmp is removed then.
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// The same for content written piece by piece, so a large file is never held whole in memory:
// stream() writes to PATH.tmp through a 64 KiB buffer; commit() flushes, syncs and renames it
// over `path`. Destroyed without a commit (an exception on the way), PATH.tmp is removed and
// `path` is untouched. The constructor and commit() throw std::system_error naming the path;
// a write that fails meanwhile sets the stream's badbit and commit() reports its errno.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  void commit();

 private:
  class Buffer;
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
  bool committed_ = false;
};

// The contents of `path`. With `limit`, at most limit + 1 bytes are read, so a caller can refuse
// a file over the limit (it may grow after a stat) without reading it all. Throws
// std::system_error naming the path ("cannot open x.json: No such file or directory").
std::string read_file(const std::filesystem::path& path,
                      std::optional<std::uintmax_t> limit = std::nullopt);

}  // namespace harness
