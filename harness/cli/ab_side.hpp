#pragma once
// One side of `harness ab`: a build folder to run from. Given a folder that holds
// harness/harness, that folder; given anything else, a git ref of the repository, checked out
// in a temporary worktree and built there with the same build type as the other side. The
// temporary worktree is removed when the PreparedSide is destroyed, whether the run succeeded,
// failed or was interrupted.
//
// Commands run through the Supervisor (never a shell), with their output captured: a failure
// message carries the command, its exit status and the last lines it printed.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/ab.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {

struct CommandResult {
  std::vector<std::string> argv;
  std::optional<int> exit_code;  // empty: killed by a signal or not started
  bool cancelled = false;
  double seconds = 0;
  std::string failure;  // empty on exit 0; else what happened and the output's last lines
  std::string out_tail;
};

// Runs one command to its end. It is not a measurement: memory is sampled once a second only.
CommandResult run_command(Supervisor& supervisor, std::vector<std::string> argv,
                          const std::string& cwd = "");

struct BuildSettings {
  std::filesystem::path repo = ".";  // where git refs are looked up
  std::string build_type;            // CMAKE_BUILD_TYPE for a ref's build
  bool develop = false;              // HARNESS_DEVELOP for a ref's build
  int jobs = 2;
};

// CMAKE_BUILD_TYPE and HARNESS_DEVELOP of a build folder, from its CMakeCache.txt.
std::optional<BuildSettings> read_build_settings(const std::filesystem::path& build_dir);

class PreparedSide {
 public:
  PreparedSide() = default;
  PreparedSide(PreparedSide&& other) noexcept;
  PreparedSide& operator=(PreparedSide&& other) noexcept;
  PreparedSide(const PreparedSide&) = delete;
  PreparedSide& operator=(const PreparedSide&) = delete;
  ~PreparedSide();

  const std::filesystem::path& build_dir() const { return build_dir_; }
  const AbSideInfo& info() const { return info_; }

  // A build folder: checks it has what a side needs. Throws std::runtime_error saying what is
  // missing.
  static PreparedSide from_build(const std::string& given, const std::filesystem::path& dir);
  // A git ref: worktree + configure + build; progress lines go to stderr. Throws
  // std::runtime_error with the failing command's output.
  static PreparedSide from_ref(Supervisor& supervisor, const std::string& ref,
                               const BuildSettings& settings);

 private:
  void remove_worktree() noexcept;

  std::filesystem::path build_dir_;
  std::filesystem::path worktree_;  // empty: nothing to remove
  std::filesystem::path repo_;
  AbSideInfo info_;
};

// A side given on the command line: a build folder when it holds harness/harness, else a ref.
bool is_build_folder(const std::filesystem::path& dir);

}  // namespace harness
