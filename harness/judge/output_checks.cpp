// Rows of the expectations on the file each instance writes in its ${OUT} folder: that it is
// valid JSON, and that no two instances of a run share it or wrote the same bytes.
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>

#include "harness/core/files.hpp"
#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"

namespace harness::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxOutputFileBytes = 64u << 20;
const char* const kNeedsOutput =
    "output_valid_json and outputs_distinct need 'expect.output', the file each instance writes "
    "in its ${OUT} folder (e.g. output: result.json)";

// Reads the instance's output file; sets `problem` when it is missing or not JSON.
std::optional<std::string> read_output(const ProcessResult& p, const std::string& name,
                                       std::string& problem) {
  fs::path path = fs::path(p.out_dir) / name;
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    problem = "cannot read " + path.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (size > kMaxOutputFileBytes) {
    problem = path.string() + " is " + format_size(static_cast<std::int64_t>(size)) +
              ", larger than the " + format_size(kMaxOutputFileBytes) + " the harness reads";
    return std::nullopt;
  }
  std::string text;
  try {
    text = read_file(path, kMaxOutputFileBytes);  // it may have grown since the stat
  } catch (const std::system_error& e) {
    problem = e.what();
    return std::nullopt;
  }
  if (text.size() > kMaxOutputFileBytes) {
    problem = path.string() + " is larger than the " + format_size(kMaxOutputFileBytes) +
              " the harness reads";
    return std::nullopt;
  }
  if (!nlohmann::json::accept(text)) {
    problem = path.string() + " is not valid JSON";
    return std::nullopt;
  }
  return text;
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
  if (!read_output(j.p(), output_name(j), problem)) j.fail("output_valid_json: " + problem);
}

void check_distinct(const bool& on, const Judgement& j) {
  if (!on) return;
  const std::string& name = output_name(j);
  struct Output {
    int index;
    fs::path path;
    std::string text;
  };
  std::vector<Output> outputs;
  for (const auto& p : j.run.instances) {
    if (!p.spawn_error.empty()) continue;  // reported by the instance's own checks
    std::string problem;
    auto text = read_output(p, name, problem);
    if (!text) {
      j.fail("instance " + std::to_string(p.index) + ": outputs_distinct: " + problem);
      continue;
    }
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::path(p.out_dir) / name, ec);
    outputs.push_back({p.index, ec ? fs::path(p.out_dir) / name : canonical, *text});
  }
  for (std::size_t a = 0; a < outputs.size(); ++a) {
    for (std::size_t b = a + 1; b < outputs.size(); ++b) {
      const std::string pair = "instances " + std::to_string(outputs[a].index) + " and " +
                               std::to_string(outputs[b].index);
      if (outputs[a].path == outputs[b].path)
        j.fail("outputs_distinct expected separate files, got " + pair + " both writing " +
               outputs[a].path.string());
      else if (outputs[a].text == outputs[b].text)
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
