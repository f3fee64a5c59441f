#include "harness/cli/default_paths.hpp"

#include <system_error>

namespace harness {

namespace fs = std::filesystem;

const PathLayout& compiled_layout() {
  static const PathLayout layout{
      HARNESS_BUILD_BIN_DIR,
      {HARNESS_BUILD_WORKERS_DIR, HARNESS_BUILD_MODELS_DIR, HARNESS_BUILD_FIXTURES_DIR},
      {HARNESS_INSTALLED_WORKERS_DIR, HARNESS_INSTALLED_MODELS_DIR,
       HARNESS_INSTALLED_FIXTURES_DIR}};
  return layout;
}

DefaultPaths default_paths(const fs::path& executable, const PathLayout& layout) {
  const fs::path bin_dir = executable.parent_path();
  std::error_code ec;  // a build tree that is gone: then this cannot be the harness built there
  if (fs::equivalent(bin_dir, layout.build_bin_dir, ec)) return layout.build;
  const auto beside = [&](const std::string& relative) {
    return (bin_dir / relative).lexically_normal().string();
  };
  return {beside(layout.installed.workers), beside(layout.installed.models),
          beside(layout.installed.fixtures)};
}

const DefaultPaths& default_paths() {
  static const DefaultPaths paths = [] {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    // Without /proc the harness cannot measure anything anyway; the build tree is as good a guess
    // as any and keeps the error messages about missing workers naming real folders.
    return ec ? compiled_layout().build : default_paths(self, compiled_layout());
  }();
  return paths;
}

}  // namespace harness
