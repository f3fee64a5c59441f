#pragma once
// Whole-file reads and writes whose errors name the path and the cause
// ("cannot create reports/x/report.json.tmp: Permission denied").

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace harness {

// Writes `text` to PATH.tmp, flushes it to the disk, then renames it over `path` (atomic within
// a folder), so a reader, or a run interrupted at any moment, only ever sees the whole old file
// or the whole new one. Throws std::system_error naming the path; PATH.tmp is removed then.
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// The contents of `path`. With `limit`, at most limit + 1 bytes are read, so a caller can refuse
// a file over the limit (it may grow after a stat) without reading it all. Throws
// std::system_error naming the path ("cannot open x.json: No such file or directory").
std::string read_file(const std::filesystem::path& path,
                      std::optional<std::uintmax_t> limit = std::nullopt);

}  // namespace harness
