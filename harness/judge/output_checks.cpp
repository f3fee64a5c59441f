// Rows of the expectations on the file each instance writes in its ${OUT} folder: that it is
// valid JSON, and that no two instances of a run share it or wrote the same bytes.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "harness/core/json_validator.hpp"
#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"

namespace harness::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxOutputFileBytes = 64u << 20;
const char* const kNeedsOutput =
    "output_valid_json and outputs_distinct need 'expect.output', the file each instance writes "
    "in its ${OUT} folder (e.g. output: result.json)";

// What outputs_distinct compares: a hash of the bytes and their count. Equal digests are
// confirmed byte by byte, so a hash collision can cost time but never a wrong verdict.
struct Digest {
  std::uint64_t hash = 0xcbf29ce484222325u;  // FNV-1a 64, fed byte by byte
  std::uint64_t size = 0;
  bool operator==(const Digest&) const = default;
};

// Calls `chunk(bytes)` for each block of at most 64 KiB of `path`; false stops the reading.
// Returns an error text, or "" when the file was read to its end (or `chunk` stopped it).
template <typename Chunk>
std::string read_chunks(const fs::path& path, Chunk&& chunk) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path.string() + ": " + std::strerror(errno);
  std::vector<char> buf(64 * 1024);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n > 0 && !chunk(std::string_view(buf.data(), n))) return "";
  }
  if (in.bad()) return "cannot read " + path.string();
  return "";
}

// Streams the instance's output file once: JSON validated and bytes hashed as they are read,
// so no output is ever held whole (four 63 MiB outputs cost a few 64 KiB buffers). Sets
// `problem` when it is missing, too large or not JSON.
std::optional<Digest> digest_output(const ProcessResult& p, const std::string& name,
                                    std::string& problem) {
  const fs::path path = fs::path(p.out_dir) / name;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    problem = "cannot read " + path.string() + ": " + ec.message();
    return std::nullopt;
  }
  const std::string too_large = " the " + format_size(kMaxOutputFileBytes) + " the harness reads";
  if (size > kMaxOutputFileBytes) {
    problem = path.string() + " is " + format_size(static_cast<std::int64_t>(size)) +
              ", larger than" + too_large;
    return std::nullopt;
  }
  Digest digest;
  JsonValidator json;
  problem = read_chunks(path, [&](std::string_view bytes) {
    for (char c : bytes)
      digest.hash = (digest.hash ^ static_cast<unsigned char>(c)) * 0x100000001b3u;
    digest.size += bytes.size();
    return digest.size <= kMaxOutputFileBytes && json.feed(bytes);
  });
  if (!problem.empty()) return std::nullopt;
  if (digest.size > kMaxOutputFileBytes) {  // it grew since the stat
    problem = path.string() + " is larger than" + too_large;
    return std::nullopt;
  }
  if (!json.finish()) {
    problem = path.string() + " is not valid JSON (" + json.error() + ")";
    return std::nullopt;
  }
  return digest;
}

// Whether two files hold the same bytes, read side by side in blocks.
bool same_bytes(const fs::path& a, const fs::path& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(64 * 1024), bb(64 * 1024);
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount()) return false;
    if (!std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin())) return false;
    if (fa.gcount() == 0 || !fa || !fb) return !fa.bad() && !fb.bad() && fa.eof() == fb.eof();
  }
}

std::optional<std::string> read_output_name(ExpectParser& in, const YamlEntry& e) {
  auto s = in.reader.string(e);
  if (!s) return std::nullopt;
  fs::path p(*s);
  bool escapes = std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
  if (p.is_absolute() || escapes || s->empty()) {
    in.reader.error(e,
                    "'expect.output' must be a file name inside the instance's ${OUT} folder, "
                    "such as result.json, got '" +
                        *s + "'");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> read_output_flag(ExpectParser& in, const YamlEntry& e) {
  auto v = in.reader.boolean(e);
  if (v && *v) in.require("output", e.key.Mark(), kNeedsOutput);
  return v;
}

// The name given by `output`; parsing made sure there is one when these checks are on.
const std::string& output_name(const Judgement& j) {
  static const std::string none;
  const std::string* name = j.expect.get<std::string>("output");
  return name ? *name : none;
}

void check_valid_json(const bool& on, const Judgement& j) {
  if (!on) return;
  std::string problem;
  if (!digest_output(j.p(), output_name(j), problem)) j.fail("output_valid_json: " + problem);
}

void check_distinct(const bool& on, const Judgement& j) {
  if (!on) return;
  const std::string& name = output_name(j);
  struct Output {
    int index;
    fs::path path;
    Digest digest;
  };
  std::vector<Output> outputs;
  for (const auto& p : j.run.instances) {
    if (!p.spawn_error.empty()) continue;  // reported by the instance's own checks
    std::string problem;
    auto digest = digest_output(p, name, problem);
    if (!digest) {
      j.fail("instance " + std::to_string(p.index) + ": outputs_distinct: " + problem);
      continue;
    }
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::path(p.out_dir) / name, ec);
    outputs.push_back({p.index, ec ? fs::path(p.out_dir) / name : canonical, *digest});
  }
  for (std::size_t a = 0; a < outputs.size(); ++a) {
    for (std::size_t b = a + 1; b < outputs.size(); ++b) {
      const std::string pair = "instances " + std::to_string(outputs[a].index) + " and " +
                               std::to_string(outputs[b].index);
      if (outputs[a].path == outputs[b].path)
        j.fail("outputs_distinct expected separate files, got " + pair + " both writing " +
               outputs[a].path.string());
      else if (outputs[a].digest == outputs[b].digest &&
               same_bytes(outputs[a].path, outputs[b].path))
        j.fail("outputs_distinct expected different contents, got " + pair + " with identical " +
               name);
    }
  }
}

}  // namespace

std::vector<ExpectRow> output_rows() {
  return {
      row("output", "file name",
          "the file each instance writes in its `${OUT}` (relative, no `..`); needed by the two "
          "below",
          read_output_name, nullptr),
      row("output_valid_json", "boolean", "each instance's `output` exists and is valid JSON",
          read_output_flag, check_valid_json),
      row("outputs_distinct", "boolean",
          "each instance's `output` exists, is valid JSON, and no two instances share the file or "
          "have byte-identical contents",
          read_output_flag, check_distinct, {.scope = Scope::kRun}),
  };
}

}  // namespace harness::detail
