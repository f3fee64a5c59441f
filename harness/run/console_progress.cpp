#include "harness/run/console_progress.hpp"

#include "harness/core/units.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace harness {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

ConsoleProgress::ConsoleProgress(std::FILE* out, Verbosity verbosity, int scenario_count, int jobs)
    : out_(out),
      verbosity_(verbosity),
      tty_(isatty(fileno(out)) == 1),
      color_(tty_ && std::getenv("NO_COLOR") == nullptr),
      scenario_count_(scenario_count),
      parallel_(jobs > 1) {}

std::string ConsoleProgress::paint(const std::string& text, const char* code) const {
  if (!color_) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

void ConsoleProgress::clear_line() {
  if (tty_) std::fputs("\r\033[K", out_);
}

ConsoleProgress::Active* ConsoleProgress::find(const std::string& name) {
  for (auto& a : active_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// "[2/6] name [params] run 1/3  2/2 running  3.1s  [####......] 40%"; several running
// scenarios share the line, each shortened to "name 1/3 2/2 40%".
std::string ConsoleProgress::describe(const Active& a, bool alone) const {
  double done = 0, total = 0;
  for (const auto& [instance, p] : a.progress) {
    done += p.first;
    total += p.second;
  }
  const std::string running =
      std::to_string(a.instances - a.exited) + "/" + std::to_string(a.instances) + " running";
  if (!alone) {
    std::string line = a.name;
    if (a.runs > 1) line += " run " + std::to_string(a.run_index) + "/" + std::to_string(a.runs);
    line += " " + running;
    if (total > 0) {
      line +=
          " " + std::to_string(static_cast<int>(100 * std::clamp(done / total, 0.0, 1.0))) + "%";
    }
    return line;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - a.start).count();
  std::string line =
      "[" + std::to_string(a.ordinal) + "/" + std::to_string(scenario_count_) + "] " + a.name;
  if (!a.params.empty()) line += " [" + a.params + "]";
  if (a.runs > 1) line += " run " + std::to_string(a.run_index) + "/" + std::to_string(a.runs);
  line += "  " + running + "  " + format_seconds(elapsed);
  if (total > 0) {
    const int width = 20;
    // A worker may report done > total or negative counts; the bar must not throw for it.
    const double share = std::clamp(done / total, 0.0, 1.0);
    const int filled = static_cast<int>(width * share + 0.5);
    line += "  [" + std::string(filled, '#') + std::string(width - filled, '.') + "] " +
            std::to_string(static_cast<int>(100 * share)) + "%";
  }
  return line;
}

void ConsoleProgress::redraw() {
  if (!tty_ || verbosity_ == Verbosity::quiet) return;
  last_draw_ = Clock::now();
  std::string line;
  if (active_.size() == 1) {
    line = describe(active_.front(), true);
  } else if (!active_.empty()) {
    line = "[" + std::to_string(started_) + "/" + std::to_string(scenario_count_) + "] " +
           std::to_string(active_.size()) + " scenarios:";
    for (const auto& a : active_) line += "  " + describe(a, false) + ";";
    line.pop_back();
  }
  // A line wider than the terminal wraps, and "\r" then redraws only its last part.
  winsize ws{};
  if (::ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && line.size() >= ws.ws_col) {
    line.resize(ws.ws_col - 1);
  }
  clear_line();
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

void ConsoleProgress::scenario_started(const Scenario& scenario, int runs) {
  std::lock_guard<std::mutex> lock(mutex_);
  Active a;
  a.name = scenario.name;
  a.ordinal = ++started_;
  a.runs = runs;
  a.start = Clock::now();
  active_.push_back(std::move(a));
  if (!tty_ && verbosity_ != Verbosity::quiet) {
    std::fprintf(out_, "[%d/%d] %s: %d run%s\n", started_, scenario_count_, scenario.name.c_str(),
                 runs, runs == 1 ? "" : "s");
    std::fflush(out_);
  }
}

void ConsoleProgress::run_started(const Scenario& scenario, const nlohmann::json& params,
                                  int repeat, bool warmup, int instances) {
  std::lock_guard<std::mutex> lock(mutex_);
  Active* a = find(scenario.name);
  if (!a) return;
  ++a->run_index;
  a->params = describe_params(params);
  a->instances = instances;
  a->exited = 0;
  a->progress.clear();
  if (!tty_ && verbosity_ != Verbosity::quiet && a->runs > 1) {
    const std::string who = parallel_ ? scenario.name + ": " : "";
    std::fprintf(out_, "  %s%s%s%s: %d instance%s\n", who.c_str(), warmup ? "warmup " : "",
                 a->params.empty() ? "run" : a->params.c_str(),
                 repeat > 0 ? (" repeat " + std::to_string(repeat + 1)).c_str() : "", instances,
                 instances == 1 ? "" : "s");
    std::fflush(out_);
  }
  redraw();
}

void ConsoleProgress::event(const Scenario& scenario, int instance, const Event& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  Active* a = find(scenario.name);
  if (!a) return;
  if (event.type == "progress" && event.body.contains("done") && event.body["done"].is_number()) {
    const double done = event.body["done"].get<double>();
    double total = 0;
    if (event.body.contains("total") && event.body["total"].is_number()) {
      total = event.body["total"].get<double>();
    }
    if (total > 0) a->progress[instance] = {done, total};
  }
  if (verbosity_ == Verbosity::verbose && event.type != "progress") {
    clear_line();
    const std::string who = parallel_ ? scenario.name + " " : "";
    std::fprintf(out_, "    %sinstance %d: %s\n", who.c_str(), instance,
                 event.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  // Redrawing on every frame of every worker would cost more than it tells; 10 Hz is plenty.
  if (tty_ && Clock::now() - last_draw_ > std::chrono::milliseconds(100)) redraw();
}

void ConsoleProgress::instance_exited(const Scenario& scenario, int instance,
                                      const ProcessResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  Active* a = find(scenario.name);
  if (!a) return;
  ++a->exited;
  if (verbosity_ == Verbosity::verbose) {
    clear_line();
    std::string how = result.spawn_error.empty() ? "" : "could not start: " + result.spawn_error;
    if (how.empty() && result.exit_code) how = "exit " + std::to_string(*result.exit_code);
    if (how.empty() && result.signal) how = "killed by " + signal_name(*result.signal);
    if (result.timed_out) how += " (timed out)";
    const std::string who = parallel_ ? scenario.name + " " : "";
    std::fprintf(out_, "    %sinstance %d: pid %d, %s after %.2fs\n", who.c_str(), instance,
                 result.pid, how.c_str(), result.wall_s);
  }
  redraw();
}

void ConsoleProgress::scenario_done(const ScenarioResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [&](const Active& a) { return a.name == result.name; }),
                active_.end());
  clear_line();
  if (verbosity_ != Verbosity::quiet || result.status != "pass") {
    const char* code = result.status == "pass" ? "32" : result.status == "fail" ? "31" : "33";
    std::string status = result.status == "pass"   ? "PASS"
                         : result.status == "fail" ? "FAIL"
                                                   : "ERROR";
    std::fprintf(out_, "%s %s (%.1fs)\n", paint(status, code).c_str(), result.name.c_str(),
                 result.duration_s);
    if (!result.error.empty()) std::fprintf(out_, "    %s\n", result.error.c_str());
    for (const auto& failure : result.failures) std::fprintf(out_, "    %s\n", failure.c_str());
  }
  redraw();  // the scenarios still running
  std::fflush(out_);
}

}  // namespace harness
