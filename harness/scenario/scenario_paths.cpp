// The scenario helpers that need no YAML: finding scenario files under paths, and a scenario's
// matrix points and worker with variables applied (scenario.hpp).
#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "harness/scenario/scenario.hpp"

namespace harness {

namespace fs = std::filesystem;

std::vector<RunPoint> expand_matrix(const Scenario& s) {
  return expand_matrix(s.run, s.matrix, s.dir);
}

WorkerSpec expand_worker(const WorkerSpec& worker, const Variables& vars) {
  WorkerSpec out = worker;
  for (auto& arg : out.command) arg = expand_variables(arg, vars);
  for (auto& [key, value] : out.env) value = expand_variables(value, vars);
  out.cwd = expand_variables(out.cwd, vars);
  if (out.stdin_data) out.stdin_data = expand_variables(*out.stdin_data, vars);
  return out;
}

std::vector<std::string> find_scenarios(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status))
      throw std::runtime_error("cannot open " + path + ": No such file or directory");
    if (!fs::is_directory(status)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      auto ext = it->path().extension();
      if (ext == ".yaml" || ext == ".yml") found.push_back(it->path().string());
    }
    if (ec) throw std::runtime_error("cannot list " + path + ": " + ec.message());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace harness
