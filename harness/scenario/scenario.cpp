#include "harness/scenario/scenario.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "harness/core/files.hpp"
#include "harness/core/tail_bound.hpp"
#include "harness/core/units.hpp"
#include "harness/core/yaml_reader.hpp"
#include "harness/core/yaml_text.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> kTopKeys{"schema", "name",   "description", "labels", "worker",
                                        "run",    "matrix", "jobs",        "expect"};
const std::vector<std::string> kWorkerKeys{"command", "env", "cwd", "stdin", "timeout", "grace"};

// For "unknown key 'timeout' in 'run' (it belongs in 'worker')".
std::vector<std::pair<std::string, std::string>> homes_except(const std::string& section) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::vector<std::string>& keys, const std::string& home) {
    if (home == section) return;
    for (const auto& k : keys) out.emplace_back(k, home);
  };
  add(kWorkerKeys, "worker");
  add(run_field_names(), "run");
  if (section != "expect")
    for (const auto& k : {"exit_code", "timed_out", "status", "wall_time_max", "peak_rss_max"})
      out.emplace_back(k, "expect");
  return out;
}

bool is_plain_name(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  };
  return std::all_of(s.begin(), s.end(), ok) && s[0] != '-' && s[0] != '.';
}

// One text of the worker that may hold ${...}, with where it came from.
struct Templated {
  std::string text;
  std::string what;  // "worker.command[2]"
  YAML::Mark mark;
};

class Loader {
 public:
  Loader(const std::string& file, const LoadOptions& options)
      : options_(options), reader_(file, options.max_nodes, options.max_depth) {}

  Scenario load(const YAML::Node& root) {
    Scenario s;
    s.file = reader_.file();
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(s.file), ec);
    s.dir = (ec ? fs::path(s.file) : abs).parent_path().lexically_normal().string();
    YAML::Mark top;
    top.line = 0;
    top.column = 0;
    bool has_schema = false, has_name = false, has_worker = false;
    for (const auto& e : reader_.entries(root, top, "", kTopKeys, homes_except(""))) {
      const std::string k = e.key.Scalar();
      if (k == "schema") {
        has_schema = true;
        auto v = YamlReader::scalar_to_json(e.value);
        if (!(v.is_number_integer() && v.get<std::int64_t>() == 1))
          reader_.error(e, "unsupported schema version " + YamlReader::describe(e.value) +
                               "; this harness reads 'schema: 1'");
      } else if (k == "name") {
        has_name = true;
        if (auto v = reader_.string(e)) {
          if (is_plain_name(*v))
            s.name = *v;
          else
            reader_.error(e,
                          "'name' must be letters, digits, '_', '-' and '.' (it names a "
                          "CTest test), at most 100 characters, got '" +
                              *v + "'");
        }
      } else if (k == "description") {
        if (auto v = reader_.string(e)) s.description = *v;
      } else if (k == "labels") {
        read_labels(e, s);
      } else if (k == "worker") {
        has_worker = true;
        read_worker(e, s.worker);
      } else if (k == "run") {
        read_run(e, s.run);
      } else if (k == "jobs") {
        jobs_mark_ = mark_of(e);
        s.jobs = read_jobs(
            reader_, e,
            [this](const std::string& text, const std::string& what, const YAML::Mark& mark) {
              templated_.push_back({text, what, mark});
            });
      } else if (k == "matrix") {
        s.matrix = read_matrix(reader_, e, options_.max_matrix_points);
        s.matrix_json = reader_.to_json(e.value);
      } else if (k == "expect") {
        s.expect = parse_expect(reader_, e.value, mark_of(e));
        s.expect_json = reader_.to_json(e.value);
      }
    }
    if (root.IsMap()) {
      if (!has_schema) reader_.error(top, "missing 'schema: 1' (add it as the first line)");
      if (!has_name)
        reader_.error(top, "missing 'name' (add e.g. 'name: my_scenario'; it names the test)");
      if (!has_worker)
        reader_.error(top, "missing 'worker' (add 'worker: {command: [\"prog\", \"--flag\"]}')");
    }
    if (s.jobs) check_jobs(s);
    check_variables(s);
    if (!reader_.diagnostics().empty()) throw ScenarioError(reader_.diagnostics());
    return s;
  }

 private:
  void read_labels(const YamlEntry& e, Scenario& s) {
    auto labels = reader_.string_list(e, false);
    if (!labels) return;
    for (const auto& l : *labels) {
      if (is_plain_name(l))
        s.labels.push_back(l);
      else
        reader_.error(e, "label '" + l +
                             "' must be letters, digits, '_', '-' and '.' (CTest "
                             "labels select with -L)");
    }
  }

  void read_worker(const YamlEntry& we, WorkerSpec& w) {
    bool has_command = false;
    for (const auto& e :
         reader_.entries(we.value, mark_of(we), "worker", kWorkerKeys, homes_except("worker"))) {
      const std::string k = e.key.Scalar();
      if (k == "command") {
        has_command = true;
        read_command(e, w);
      } else if (k == "env") {
        read_env(e, w);
      } else if (k == "cwd") {
        if (auto v = reader_.string(e)) {
          w.cwd = *v;
          templated_.push_back({*v, e.path, mark_of(e)});
        }
      } else if (k == "stdin") {
        read_stdin(e, w);
      } else if (k == "timeout") {
        if (auto v = reader_.duration(e, 1ms, 24h)) w.timeout = *v;
      } else if (k == "grace") {
        if (auto v = reader_.duration(e, 0ms, 10min)) w.grace = *v;
      }
    }
    if (we.value.IsMap() && !has_command)
      reader_.error(we.key.Mark(),
                    "missing 'worker.command': the program and its arguments as a "
                    "list, e.g. command: [\"${WORKERS}/yolo_worker\", \"--help\"]");
  }

  void read_command(const YamlEntry& e, WorkerSpec& w) {
    if (!e.value.IsSequence()) {
      reader_.error(e,
                    "'worker.command' must be a list of arguments such as [\"prog\", "
                    "\"--flag\", \"value\"] (it is never split by a shell), got " +
                        YamlReader::describe(e.value));
      return;
    }
    if (e.value.size() == 0) {
      reader_.error(e, "'worker.command' is empty; give at least the program to run");
      return;
    }
    for (std::size_t i = 0; i < e.value.size(); ++i) {
      const YAML::Node item = e.value[i];
      std::string what = "worker.command[" + std::to_string(i) + "]";
      if (!item.IsScalar()) {
        reader_.error(item.Mark().line >= 0 ? item.Mark() : mark_of(e),
                      "'" + what + "' must be one argument (a string), got " +
                          YamlReader::describe(item) + "; quote it if it holds ', ' or ': '");
        continue;
      }
      if (i == 0 && item.Scalar().empty()) {
        reader_.error(item.Mark(), "'worker.command[0]' is empty; it must name the program");
        continue;
      }
      w.command.push_back(item.Scalar());
      templated_.push_back({item.Scalar(), what, item.Mark()});
    }
  }

  void read_env(const YamlEntry& e, WorkerSpec& w) {
    if (!e.value.IsMap()) {
      reader_.error(e, "'worker.env' must be a map such as {OMP_NUM_THREADS: \"1\"}, got " +
                           YamlReader::describe(e.value));
      return;
    }
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar() || key.Scalar().empty() || key.Scalar().find('=') != std::string::npos) {
        reader_.error(key.Mark(),
                      "an environment variable name must be a non-empty string "
                      "without '=', got " +
                          YamlReader::describe(key));
        continue;
      }
      YamlEntry ve{"worker.env." + key.Scalar(), key, it->second};
      auto v = reader_.scalar(ve);
      if (!v) continue;
      if (!w.env.emplace(key.Scalar(), *v).second) {
        reader_.error(key.Mark(), "duplicate key '" + key.Scalar() + "' in 'worker.env'");
        continue;
      }
      templated_.push_back({*v, ve.path, mark_of(ve)});
    }
  }

  void read_stdin(const YamlEntry& e, WorkerSpec& w) {
    if (e.value.IsScalar() && e.value.Tag() == "?" && e.value.Scalar() == "closed") {
      w.stdin_data.reset();
      return;
    }
    if (e.value.IsSequence()) {
      auto lines = reader_.string_list(e, false);
      if (!lines) return;
      std::string data;
      for (const auto& l : *lines) data += l + "\n";
      w.stdin_data = data;
    } else if (auto v = reader_.string(e)) {
      w.stdin_data = *v;
    } else {
      return;
    }
    templated_.push_back({*w.stdin_data, "worker.stdin", mark_of(e)});
  }

  void read_run(const YamlEntry& re, RunSpec& run) {
    for (const auto& e :
         reader_.entries(re.value, mark_of(re), "run", run_field_names(), homes_except("run")))
      find_run_field(e.key.Scalar())->read(reader_, e, run);
  }

  // What a job stream adds to the rules: its matrix values and the run fields it replaces.
  void check_jobs(const Scenario& s) {
    for (const auto& axis : s.matrix) {
      for (const auto& value : axis.values) {
        JobsSpec probe = *s.jobs;
        std::string why;
        if (!apply_jobs_param(probe, axis.key, value, why)) reader_.error(jobs_mark_, why);
      }
    }
    if (s.run.instances != 1)
      reader_.error(jobs_mark_,
                    "'run.instances' does not apply to a job stream; 'jobs.workers' sets how "
                    "many processes serve it");
    for (const auto& axis : s.matrix)
      if (axis.key == "instances")
        reader_.error(jobs_mark_,
                      "matrix 'instances' does not apply to a job stream; vary "
                      "'workers' instead");
    if (s.jobs->arrival.peak) check_peak_search(s);
  }

  // A peak search runs `count` jobs at each rate, and each run must be able to be VALID.
  void check_peak_search(const Scenario& s) {
    const PeakSearchSpec& peak = *s.jobs->arrival.peak;
    if (peak.bound_ms <= 0) return;  // no bound given: the reader said so
    if (s.jobs->count == 0) {
      reader_.error(jobs_mark_,
                    "a peak search (find_peak) runs 'jobs.count' jobs at each rate; give "
                    "count, not duration");
    } else if (const std::size_t needed = jobs_needed_for(peak.percentile);
               static_cast<std::size_t>(s.jobs->count) < needed) {
      reader_.error(jobs_mark_, fmt::format("a peak search on {} needs at least {} jobs at each "
                                            "rate for the p{:g} to be valid at 99 % confidence; "
                                            "'jobs.count' is {}",
                                            peak.key, needed, peak.percentile, s.jobs->count));
    }
    if (s.run.repeat != 1 || s.run.warmup != 0)
      reader_.error(jobs_mark_,
                    "'run.repeat' and 'run.warmup' do not apply to a peak search: each rate it "
                    "tries is one run");
  }

  void check_variables(const Scenario& s) {
    std::vector<std::string> known = builtin_variables();
    if (s.jobs) {
      known.push_back("INPUT");
      known.push_back("JOB");
    }
    for (const auto& axis : s.matrix) known.push_back(axis.key);
    for (const auto& name : options_.extra_variables) known.push_back(name);
    for (const auto& t : templated_) {
      try {
        for (const auto& ref : variable_refs(t.text)) {
          if (ref.has_default || std::find(known.begin(), known.end(), ref.name) != known.end() ||
              std::getenv(ref.name.c_str()) != nullptr)
            continue;
          std::string near = closest_match(ref.name, known);
          reader_.error(t.mark, "unknown variable ${" + ref.name + "} in '" + t.what + "'" +
                                    (near.empty() ? "" : " (did you mean ${" + near + "}?)") +
                                    "; known: " + join(known) + ", the environment, or write ${" +
                                    ref.name + ":-default}");
        }
      } catch (const VariableError& ex) {
        reader_.error(t.mark, "in '" + t.what + "': " + ex.what());
      }
    }
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string("${") + n + "}";
    return out;
  }

  LoadOptions options_;
  YamlReader reader_;
  std::vector<Templated> templated_;
  YAML::Mark jobs_mark_;
};

[[noreturn]] void fail_whole_file(const std::string& file, int line, int column,
                                  std::string message) {
  throw ScenarioError({Diagnostic{file, line, column, std::move(message)}});
}

}  // namespace

Scenario parse_scenario(std::string_view text, const std::string& file,
                        const LoadOptions& options) {
  if (text.size() > options.max_file_bytes)
    fail_whole_file(file, 0, 0,
                    "file is " + format_size(static_cast<std::int64_t>(text.size())) +
                        ", over the " +
                        format_size(static_cast<std::int64_t>(options.max_file_bytes)) +
                        " limit for a scenario; a scenario needs a few lines");
  // yaml-cpp accepts invalid UTF-8, control characters, some tabs as indentation and NULs in
  // strings; check_yaml_text refuses what the YAML spec and libyaml refuse first.
  if (auto problems = check_yaml_text(text, file, options.max_depth); !problems.empty())
    throw ScenarioError(std::move(problems));
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& ex) {
    fail_whole_file(file, ex.mark.line + 1, ex.mark.column + 1,
                    "nesting deeper than yaml-cpp's limit; a scenario needs only a few levels");
  } catch (const YAML::ParserException& ex) {
    fail_whole_file(file, ex.mark.line + 1, ex.mark.column + 1,
                    "invalid YAML: " + ex.msg + " (check indentation, quotes and brackets)");
  } catch (const YAML::Exception& ex) {
    fail_whole_file(file, ex.mark.line >= 0 ? ex.mark.line + 1 : 0,
                    ex.mark.column >= 0 ? ex.mark.column + 1 : 0, "invalid YAML: " + ex.msg);
  }
  if (docs.empty() || docs[0].IsNull())
    fail_whole_file(file, 0, 0,
                    "empty scenario; it needs at least 'schema: 1', 'name' and 'worker.command'");
  if (docs.size() > 1) {
    auto m = docs[1].Mark();
    fail_whole_file(file, m.line + 1, m.column + 1,
                    "a second YAML document; put one scenario per file");
  }
  return Loader(file, options).load(docs[0]);
}

Scenario load_scenario(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    fail_whole_file(
        path, 0, 0,
        "cannot open " + path + ": " + (ec ? ec.message() : std::string(std::strerror(ENOENT))));
  if (!fs::is_regular_file(status))
    fail_whole_file(path, 0, 0, "cannot read " + path + ": not a regular file");
  auto size = fs::file_size(path, ec);
  if (!ec && size > options.max_file_bytes)
    fail_whole_file(path, 0, 0,
                    "file is " + format_size(static_cast<std::int64_t>(size)) + ", over the " +
                        format_size(static_cast<std::int64_t>(options.max_file_bytes)) +
                        " limit for a scenario; a scenario needs a few lines");
  std::string text;
  try {
    // At most one byte past the cap: the file may grow between stat and read.
    text = read_file(path, options.max_file_bytes);
  } catch (const std::system_error& e) {
    fail_whole_file(path, 0, 0, e.what());
  }
  return parse_scenario(text, path, options);
}

}  // namespace harness
