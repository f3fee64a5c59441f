#include "harness/cli/ab_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "harness/analysis/ab.hpp"
#include "harness/analysis/compare.hpp"
#include "harness/analysis/report_fields.hpp"
#include "harness/cli/ab_side.hpp"
#include "harness/core/host_info.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;

constexpr int kExitPass = 0;
constexpr int kExitRegression = 1;
constexpr int kExitInterrupted = 130;
constexpr const char* kMarker = ".harness-ab";  // marks a folder this command may clear

struct AbArgs {
  std::string base, candidate;
  int rounds = 9;
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string out = "reports/ab";
  std::vector<std::string> benches;
  std::string bench_filter;
  std::vector<std::string> bench_args;
  int repetitions = 9;
  std::string thresholds;
  std::vector<std::string> vars, base_vars, new_vars;
  std::string build_type;
  std::string repo = ".";
  int build_jobs = 2;
  bool json = false;
  std::vector<std::string> paths;
};

struct Interrupted {};

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return in ? one : -1;
}

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

class AbRun {
 public:
  explicit AbRun(const AbArgs& args) : a_(args), out_(fs::absolute(args.out)) {}

  int run() {
    const auto start = std::chrono::steady_clock::now();
    install_cancel_signals(supervisor_);
    try {
      prepare_sides();
      prepare_out();
      record_.load_before = load_average();  // after any build: the load the rounds start in
      const auto plan =
          interleaved_plan(a_.rounds, static_cast<int>(record_.units.size()), record_.seed);
      double seconds[2] = {0, 0};
      for (std::size_t i = 0; i < plan.size(); ++i) {
        const AbPair& p = plan[i];
        for (AbSide s : p.order) {
          record_.steps.push_back(run_step(s, p.round, p.unit));
          seconds[s == AbSide::base ? 0 : 1] += record_.steps.back().seconds;
        }
        if (i + 1 == plan.size() || plan[i + 1].round != p.round) {
          std::fprintf(stderr, "harness ab: round %d/%d: base %.1f s, new %.1f s\n", p.round + 1,
                       a_.rounds, seconds[0], seconds[1]);
          seconds[0] = seconds[1] = 0;
        }
      }
    } catch (const Interrupted&) {
      remove_cancel_signals();
      std::fprintf(stderr, "harness ab: interrupted; the rounds so far are in %s\n", out_.c_str());
      return kExitInterrupted;
    }
    remove_cancel_signals();
    record_.load_after = load_average();
    record_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report();
  }

 private:
  void prepare_sides() {
    // A ref is built like the other side when that one is a build folder, else like this
    // harness's own build.
    BuildSettings settings;
    settings.repo = a_.repo;
    settings.jobs = a_.build_jobs;
    std::optional<BuildSettings> like;
    for (const std::string* s : {&a_.base, &a_.candidate})
      if (!like && is_build_folder(*s)) like = read_build_settings(*s);
    if (!like)
      like = read_build_settings(fs::canonical("/proc/self/exe").parent_path().parent_path());
    settings.build_type = like ? like->build_type : "RelWithDebInfo";
    settings.develop = like && like->develop;
    if (!a_.build_type.empty()) settings.build_type = a_.build_type;
    auto prepare = [&](const std::string& given) {
      return is_build_folder(given) ? PreparedSide::from_build(given, given)
                                    : PreparedSide::from_ref(supervisor_, given, settings);
    };
    base_ = prepare(a_.base);
    candidate_ = prepare(a_.candidate);
    record_.base = base_.info();
    record_.candidate = candidate_.info();
    record_.rounds = a_.rounds;
    record_.seed = a_.seed_given ? a_.seed : std::random_device{}();
    record_.paths = a_.paths;
    // Each scenario file is a unit of its own, then each benchmark program (see ab.hpp).
    scenario_files_ = find_scenarios(a_.paths);
    for (std::size_t i = 0; i < scenario_files_.size(); ++i)
      record_.units.push_back(unit_dir_name(static_cast<int>(i), scenario_files_[i]));
    record_.repetitions = a_.repetitions;
    record_.benchmarks = bench_programs();
    record_.units.insert(record_.units.end(), record_.benchmarks.begin(), record_.benchmarks.end());
    const HostInfo host = read_host_info();
    record_.host = fmt::format("{} ({} CPUs)", host.hostname, host.cpus);
  }

  std::vector<std::string> bench_programs() const {
    std::vector<std::string> names;
    for (const std::string& b : a_.benches) {
      if (b != "all") {
        names.push_back(b);
        continue;
      }
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(base_.build_dir() / "bench", ec)) {
        const std::string n = e.path().filename().string();
        if (e.is_regular_file() && n.size() > 6 && n.ends_with("_bench") &&
            ::access(e.path().c_str(), X_OK) == 0)
          names.push_back(n);
      }
      std::sort(names.begin(), names.end());
    }
    for (const std::string& n : names)
      for (const PreparedSide* s : {&base_, &candidate_})
        if (!fs::exists(s->build_dir() / "bench" / n))
          throw std::runtime_error(
              fmt::format("benchmark program {} is not in {}/bench", n, s->build_dir().string()));
    return names;
  }

  void prepare_out() {
    if (fs::exists(out_) && !fs::is_empty(out_) && !fs::exists(out_ / kMarker))
      throw std::runtime_error(out_.string() +
                               " is not empty and not an earlier `harness ab` output; give "
                               "another --out");
    fs::remove_all(out_ / "base");
    fs::remove_all(out_ / "new");
    fs::create_directories(out_);
    std::ofstream(out_ / kMarker) << "written by harness ab; base/ and new/ are cleared by it\n";
  }

  const PreparedSide& side(AbSide s) const { return s == AbSide::base ? base_ : candidate_; }

  CommandResult checked(std::vector<std::string> argv) {
    CommandResult r = run_command(supervisor_, std::move(argv));
    if (r.cancelled) throw Interrupted{};
    return r;
  }

  AbStep run_step(AbSide s, int round, int unit) {
    AbStep step;
    step.round = round + 1;
    step.side = s;
    step.unit = record_.units.at(static_cast<std::size_t>(unit));
    const fs::path dir = round_dir(out_, s, round);
    fs::create_directories(dir);
    const auto files = scenario_files_.size();
    if (static_cast<std::size_t>(unit) < files)
      run_scenario(s, scenario_files_[static_cast<std::size_t>(unit)], dir / step.unit, step);
    else
      run_benchmark(s, record_.benchmarks.at(static_cast<std::size_t>(unit) - files), dir, step);
    return step;
  }

  void run_scenario(AbSide s, const std::string& file, const fs::path& dir, AbStep& step) {
    fs::create_directories(dir);
    const fs::path build = side(s).build_dir();
    std::vector<std::string> argv = {(build / "harness" / "harness").string(), "run", file};
    argv.insert(argv.end(), {"--report-dir", dir.string(), "--quiet"});
    std::vector<std::string> vars = {"WORKERS=" + (build / "bin").string(),
                                     "MODELS=" + (build / "models").string(),
                                     "FIXTURES=" + (build / "fixtures").string()};
    vars.insert(vars.end(), a_.vars.begin(), a_.vars.end());
    const auto& own = s == AbSide::base ? a_.base_vars : a_.new_vars;
    vars.insert(vars.end(), own.begin(), own.end());
    for (const auto& v : vars) argv.insert(argv.end(), {"--var", v});
    const CommandResult r = checked(argv);
    step.seconds += r.seconds;
    // Exit 1 (or 2 with a report) means some scenario did not pass: its figures still count,
    // and the summary says so. No report at all means the run itself could not happen.
    const fs::path report = dir / "report.json";
    if (!fs::exists(report))
      throw std::runtime_error(fmt::format("round {} {} {}: no report was written: {}", step.round,
                                           side_name(s), file, r.failure));
    const nlohmann::json j = read_json_file(report);
    const auto& summary = j.value("summary", nlohmann::json::object());
    step.failed_scenarios = summary.value("failed", 0) + summary.value("errors", 0);
    if (!r.failure.empty() && step.failed_scenarios == 0) step.problems.push_back(r.failure);
  }

  void run_benchmark(AbSide s, const std::string& prog, const fs::path& dir, AbStep& step) {
    fs::create_directories(dir / "bench");
    std::vector<std::string> argv = {
        (side(s).build_dir() / "bench" / prog).string(),
        "--benchmark_out=" + (dir / "bench" / (prog + ".json")).string(),
        "--benchmark_out_format=json", fmt::format("--benchmark_repetitions={}", a_.repetitions),
        "--benchmark_enable_random_interleaving=true"};
    if (!a_.bench_filter.empty()) argv.push_back("--benchmark_filter=" + a_.bench_filter);
    argv.insert(argv.end(), a_.bench_args.begin(), a_.bench_args.end());
    const CommandResult r = checked(argv);
    step.seconds += r.seconds;
    if (!r.failure.empty())
      throw std::runtime_error(
          fmt::format("round {} {}: benchmark {}: {}", step.round, side_name(s), prog, r.failure));
  }

  int report() {
    Thresholds t;
    if (!a_.thresholds.empty()) t = load_thresholds(a_.thresholds);
    const Comparison c = compare_files(out_ / "base", out_ / "new", t);
    const std::string md = format_ab_markdown(record_, c);
    const nlohmann::json j = ab_to_json(record_, c);
    write_file(out_ / "ab.md", md);
    write_file(out_ / "ab.json", j.dump(2) + "\n");
    if (a_.json)
      std::cout << j.dump(2) << "\n";
    else
      std::cout << md;
    std::fprintf(stderr, "harness ab: %s in %.0f s; %s and %s\n",
                 c.regressed ? "REGRESSION" : "no regression", record_.seconds,
                 (out_ / "ab.md").c_str(), (out_ / "ab.json").c_str());
    return c.regressed ? kExitRegression : kExitPass;
  }

  const AbArgs& a_;
  fs::path out_;
  Supervisor supervisor_;
  std::vector<std::string> scenario_files_;
  PreparedSide base_, candidate_;  // after the supervisor: destroyed (worktrees removed) first
  AbRecord record_;
};

}  // namespace

cli::Command add_ab_command(CLI::App& app) {
  auto args = std::make_shared<AbArgs>();
  auto* ab = app.add_subcommand(
      "ab", "Interleaved A/B regression check of two builds or git refs (docs/regression.md)");
  ab->add_option("--base", args->base, "Base: a build folder or a git ref")->required();
  ab->add_option("--new", args->candidate, "Candidate: a build folder or a git ref")->required();
  ab->add_option("paths", args->paths, "Scenario files or folders, run by each side's harness");
  ab->add_option("--rounds", args->rounds, "Rounds of base + candidate")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  auto* seed = ab->add_option("--seed", args->seed,
                              "Seed of the order within rounds "
                              "(default: random, printed)");
  ab->add_option("--out", args->out, "Output folder (rounds, ab.md, ab.json)")
      ->capture_default_str();
  ab->add_option("--bench", args->benches,
                 "Benchmark program in each side's bench/ (repeatable; `all`: every *_bench)")
      ->allow_extra_args(false);
  ab->add_option("--bench-filter", args->bench_filter, "--benchmark_filter for the programs");
  ab->add_option("--bench-arg", args->bench_args,
                 "Extra argument for the programs, e.g. --bench-arg=--benchmark_min_time=0.1")
      ->allow_extra_args(false);
  ab->add_option("--repetitions", args->repetitions, "--benchmark_repetitions per run")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  ab->add_option("--thresholds", args->thresholds, "YAML/JSON thresholds file");
  ab->add_option("--var", args->vars, "NAME=VALUE for both sides' scenarios (repeatable)")
      ->allow_extra_args(false);
  ab->add_option("--base-var", args->base_vars, "NAME=VALUE for the base side only")
      ->allow_extra_args(false);
  ab->add_option("--new-var", args->new_vars, "NAME=VALUE for the candidate side only")
      ->allow_extra_args(false);
  ab->add_option("--build-type", args->build_type,
                 "CMAKE_BUILD_TYPE for a ref (default: the other side's, or this harness's)");
  ab->add_option("--repo", args->repo, "Repository of git refs")->capture_default_str();
  ab->add_option("--build-jobs", args->build_jobs, "Parallel jobs when building a ref")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  ab->add_flag("--json", args->json, "Print JSON instead of Markdown");
  ab->callback([args, seed] {
    if (args->paths.empty() && args->benches.empty())
      throw CLI::ValidationError("harness ab", "give scenario paths, --bench PROGRAM, or both");
    args->seed_given = seed->count() > 0;
  });
  return {ab, [args] { return AbRun(*args).run(); }};
}

}  // namespace harness
