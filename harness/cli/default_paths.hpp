#pragma once
// Where ${WORKERS}, ${MODELS} and ${FIXTURES} point when neither HARNESS_WORKERS/_MODELS/_FIXTURES
// nor --var says otherwise. A harness run from the build tree it was built in uses that tree
// (build/bin, build/models, build/fixtures), so `build/harness/harness run scenarios/core` works
// right after the build. Any other harness, an installed one, looks beside its own executable:
// <bindir>/../libexec/inference_harness/workers and <bindir>/../share/inference_harness/{models,
// fixtures} for the default install layout, so a tree installed with `cmake --install --prefix
// ANY` or from the Debian package finds its own workers wherever it lands.

#include <filesystem>
#include <string>

namespace harness {

struct DefaultPaths {
  std::string workers, models, fixtures;
};

// The two layouts a harness can be in; the compiled-in one comes from CMake.
struct PathLayout {
  std::filesystem::path build_bin_dir;  // where the build puts the harness executable
  DefaultPaths build;                   // the build tree's folders (absolute)
  DefaultPaths installed;               // relative to the installed executable's folder
};

// The layout this harness was built with (harness/CMakeLists.txt).
const PathLayout& compiled_layout();

// The defaults for the harness executable at `executable` (an absolute, symlink-free path).
DefaultPaths default_paths(const std::filesystem::path& executable, const PathLayout& layout);

// The defaults of the running program (/proc/self/exe with compiled_layout()), computed once.
const DefaultPaths& default_paths();

}  // namespace harness
