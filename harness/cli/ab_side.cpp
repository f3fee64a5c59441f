#include "harness/cli/ab_side.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace harness {
namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// The last `lines` lines of a captured stream, indented, for an error message.
std::string last_lines(const std::string& text, int lines) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i)
    pos = text.rfind('\n', pos - 1);
  std::string tail = text.substr(pos == std::string::npos ? 0 : pos + (pos > 0 ? 1 : 0));
  std::string out;
  std::size_t start = 0;
  while (start < tail.size()) {
    const std::size_t end = tail.find('\n', start);
    out += "    " + tail.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

void require(const fs::path& path, const std::string& given, const std::string& what) {
  if (!fs::exists(path))
    throw std::runtime_error(
        fmt::format("side {}: {} has no {} ({}); build it first "
                    "(cmake --build {}), or give a git ref instead",
                    given, path.parent_path().string(), what, path.string(), given));
}

std::string cache_value(const fs::path& cache, const std::string& key) {
  std::ifstream in(cache);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) return line.substr(eq + 1);
  }
  return "";
}

CommandResult must(Supervisor& supervisor, std::vector<std::string> argv, const std::string& why) {
  CommandResult r = run_command(supervisor, std::move(argv));
  if (r.cancelled) throw std::runtime_error("interrupted while " + why);
  if (!r.failure.empty()) throw std::runtime_error(why + ": " + r.failure);
  return r;
}

}  // namespace

CommandResult run_command(Supervisor& supervisor, std::vector<std::string> argv,
                          const std::string& cwd) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.cwd = cwd;
  spec.sample_interval = std::chrono::seconds(1);  // not a measurement: keep the sampler quiet
  spec.smaps_interval = std::chrono::milliseconds(0);
  spec.tail_bytes = 256 * 1024;
  const ProcessResult p = supervisor.run({spec}).at(0);
  CommandResult r;
  r.argv = std::move(argv);
  r.exit_code = p.exit_code;
  r.cancelled = p.cancelled || supervisor.cancelled();
  r.seconds = p.wall_s;
  r.out_tail = p.out.tail;
  if (!p.spawn_error.empty()) {
    r.failure = p.spawn_error;
  } else if (!p.exit_code || *p.exit_code != 0) {
    const std::string status = p.exit_code ? fmt::format("exit {}", *p.exit_code)
                                           : "killed by " + signal_name(p.signal.value_or(0));
    r.failure = fmt::format("`{}` failed ({}); its last output:\n{}{}", joined(r.argv), status,
                            last_lines(p.out.tail, 10), last_lines(p.err.tail, 20));
  }
  return r;
}

std::optional<BuildSettings> read_build_settings(const fs::path& build_dir) {
  const fs::path cache = build_dir / "CMakeCache.txt";
  if (!fs::exists(cache)) return std::nullopt;
  BuildSettings s;
  s.build_type = cache_value(cache, "CMAKE_BUILD_TYPE");
  s.develop = cache_value(cache, "HARNESS_DEVELOP") == "ON";
  return s;
}

bool is_build_folder(const fs::path& dir) {
  return fs::is_directory(dir) && fs::exists(dir / "harness" / "harness");
}

PreparedSide PreparedSide::from_build(const std::string& given, const fs::path& dir) {
  const fs::path abs = fs::absolute(dir).lexically_normal();
  require(abs / "harness" / "harness", given, "harness/harness");
  PreparedSide side;
  side.build_dir_ = abs;
  side.info_ = {given, abs.string(), ""};
  return side;
}

PreparedSide PreparedSide::from_ref(Supervisor& supervisor, const std::string& ref,
                                    const BuildSettings& settings) {
  const std::string repo = fs::absolute(settings.repo).string();
  const CommandResult commit = run_command(
      supervisor, {"git", "-C", repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}"});
  if (!commit.failure.empty())
    throw std::runtime_error(fmt::format(
        "side {}: not a build folder (no harness/harness in it) and not a git commit in {}; "
        "give a build folder or a ref such as v0.1.0, main~1 or a commit hash",
        ref, repo));
  const std::string hash = commit.out_tail.substr(0, commit.out_tail.find('\n'));
  std::string tmpl = (fs::temp_directory_path() / "harness-ab-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot create a temporary folder for " + ref + ": " +
                             std::strerror(errno));
  PreparedSide side;
  side.repo_ = repo;
  const fs::path tree = fs::path(tmpl) / "src";
  side.worktree_ = tree;  // from here on the destructor cleans up, also when a step throws
  side.build_dir_ = tree / "build";
  side.info_ = {ref, side.build_dir_.string(), hash.substr(0, 12)};
  std::fprintf(stderr, "harness ab: building %s (%s) in %s; this takes minutes\n", ref.c_str(),
               side.info_.ref.c_str(), tree.c_str());
  must(supervisor, {"git", "-C", repo, "worktree", "add", "--detach", tree.string(), hash},
       "checking out " + ref);
  must(supervisor,
       {"cmake", "-S", tree.string(), "-B", side.build_dir_.string(),
        "-DCMAKE_BUILD_TYPE=" + settings.build_type, "-DHARNESS_BUILD_TESTS=OFF",
        std::string("-DHARNESS_DEVELOP=") + (settings.develop ? "ON" : "OFF")},
       "configuring " + ref);
  const CommandResult build =
      must(supervisor,
           {"cmake", "--build", side.build_dir_.string(), "-j", std::to_string(settings.jobs)},
           "building " + ref);
  std::fprintf(stderr, "harness ab: built %s in %.0f s\n", ref.c_str(), build.seconds);
  require(side.build_dir_ / "harness" / "harness", ref, "harness/harness");
  return side;
}

PreparedSide::PreparedSide(PreparedSide&& other) noexcept {
  *this = std::move(other);
}

PreparedSide& PreparedSide::operator=(PreparedSide&& other) noexcept {
  if (this != &other) {
    remove_worktree();
    build_dir_ = std::move(other.build_dir_);
    worktree_ = std::exchange(other.worktree_, {});
    repo_ = std::move(other.repo_);
    info_ = std::move(other.info_);
  }
  return *this;
}

PreparedSide::~PreparedSide() {
  remove_worktree();
}

void PreparedSide::remove_worktree() noexcept {
  if (worktree_.empty()) return;
  try {
    // A supervisor of its own: the run's one may be cancelled, and then starts nothing.
    Supervisor cleanup;
    run_command(cleanup,
                {"git", "-C", repo_.string(), "worktree", "remove", "--force", worktree_.string()});
    std::error_code ec;
    fs::remove_all(worktree_.parent_path(), ec);
    run_command(cleanup, {"git", "-C", repo_.string(), "worktree", "prune"});
  } catch (...) {
    // Destructors do not throw; what is left is a folder under the temp folder.
  }
  worktree_.clear();
}

}  // namespace harness
