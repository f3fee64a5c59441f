#include "harness/console_progress.hpp"

#include "harness/units.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace harness {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

ConsoleProgress::ConsoleProgress(std::FILE* out, Verbosity verbosity, int scenario_count)
    : out_(out),
      verbosity_(verbosity),
      tty_(isatty(fileno(out)) == 1),
      color_(tty_ && std::getenv("NO_COLOR") == nullptr),
      scenario_count_(scenario_count) {}

std::string ConsoleProgress::paint(const std::string& text, const char* code) const {
  if (!color_) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

void ConsoleProgress::clear_line() {
  if (tty_) std::fputs("\r\033[K", out_);
}

void ConsoleProgress::redraw() {
  if (!tty_ || verbosity_ == Verbosity::quiet) return;
  const auto now = Clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - scenario_start_).count();
  std::string line = "[" + std::to_string(scenario_index_) + "/" + std::to_string(scenario_count_) +
                     "] " + scenario_;
  if (!params_.empty()) line += " [" + params_ + "]";
  if (runs_ > 1) line += " run " + std::to_string(run_index_) + "/" + std::to_string(runs_);
  line += "  " + std::to_string(instances_ - exited_) + "/" + std::to_string(instances_) +
          " running  " + format_seconds(elapsed);
  double done = 0, total = 0;
  for (const auto& [instance, p] : progress_) {
    done += p.first;
    total += p.second;
  }
  if (total > 0) {
    const int width = 20;
    const int filled = static_cast<int>(width * (done / total) + 0.5);
    line += "  [" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
            std::to_string(static_cast<int>(100 * done / total)) + "%";
  }
  clear_line();
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

void ConsoleProgress::scenario_started(const Scenario& scenario, int runs) {
  ++scenario_index_;
  scenario_ = scenario.name;
  runs_ = runs;
  run_index_ = 0;
  scenario_start_ = Clock::now();
  if (!tty_ && verbosity_ != Verbosity::quiet) {
    std::fprintf(out_, "[%d/%d] %s: %d run%s\n", scenario_index_, scenario_count_,
                 scenario.name.c_str(), runs, runs == 1 ? "" : "s");
    std::fflush(out_);
  }
}

void ConsoleProgress::run_started(const Scenario&, const nlohmann::json& params, int repeat,
                                  bool warmup, int instances) {
  ++run_index_;
  params_ = describe_params(params);
  instances_ = instances;
  exited_ = 0;
  progress_.clear();
  if (!tty_ && verbosity_ != Verbosity::quiet && runs_ > 1) {
    std::fprintf(out_, "  %s%s%s: %d instance%s\n", warmup ? "warmup " : "",
                 params_.empty() ? "run" : params_.c_str(),
                 repeat > 0 ? (" repeat " + std::to_string(repeat + 1)).c_str() : "", instances,
                 instances == 1 ? "" : "s");
    std::fflush(out_);
  }
  redraw();
}

void ConsoleProgress::event(int instance, const Event& event) {
  if (event.type == "progress" && event.body.contains("done") && event.body["done"].is_number()) {
    const double done = event.body["done"].get<double>();
    double total = 0;
    if (event.body.contains("total") && event.body["total"].is_number()) {
      total = event.body["total"].get<double>();
    }
    if (total > 0) progress_[instance] = {done, total};
  }
  if (verbosity_ == Verbosity::verbose && event.type != "progress") {
    clear_line();
    std::fprintf(out_, "    instance %d: %s\n", instance,
                 event.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  // Redrawing on every frame of every worker would cost more than it tells; 10 Hz is plenty.
  if (tty_ && Clock::now() - last_draw_ > std::chrono::milliseconds(100)) redraw();
}

void ConsoleProgress::instance_exited(int instance, const ProcessResult& result) {
  ++exited_;
  if (verbosity_ == Verbosity::verbose) {
    clear_line();
    std::string how = result.spawn_error.empty() ? "" : "could not start: " + result.spawn_error;
    if (how.empty() && result.exit_code) how = "exit " + std::to_string(*result.exit_code);
    if (how.empty() && result.signal) how = "killed by " + signal_name(*result.signal);
    if (result.timed_out) how += " (timed out)";
    std::fprintf(out_, "    instance %d: pid %d, %s after %.2fs\n", instance, result.pid,
                 how.c_str(), result.wall_s);
  }
  redraw();
}

void ConsoleProgress::scenario_done(const ScenarioResult& result) {
  clear_line();
  if (verbosity_ == Verbosity::quiet && result.status == "pass") return;
  const char* code = result.status == "pass" ? "32" : result.status == "fail" ? "31" : "33";
  std::string status = result.status == "pass"   ? "PASS"
                       : result.status == "fail" ? "FAIL"
                                                 : "ERROR";
  std::fprintf(out_, "%s %s (%.1fs)\n", paint(status, code).c_str(), result.name.c_str(),
               result.duration_s);
  if (!result.error.empty()) std::fprintf(out_, "    %s\n", result.error.c_str());
  for (const auto& failure : result.failures) std::fprintf(out_, "    %s\n", failure.c_str());
  std::fflush(out_);
}

}  // namespace harness
