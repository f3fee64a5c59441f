#pragma once
// Progress of a `harness run` on the terminal. On a TTY one status line is redrawn in place
// (scenario, run, instances running, elapsed, a bar for workers that send progress events);
// otherwise, as in CI logs, plain lines, one per scenario and run. Colour only on a TTY and
// never when NO_COLOR is set (https://no-color.org).

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "harness/scenario_runner.hpp"

namespace harness {

enum class Verbosity { quiet, normal, verbose };

class ConsoleProgress : public RunProgress {
 public:
  ConsoleProgress(std::FILE* out, Verbosity verbosity, int scenario_count);

  void scenario_started(const Scenario& scenario, int runs) override;
  void run_started(const Scenario& scenario, const nlohmann::json& params, int repeat, bool warmup,
                   int instances) override;
  void event(int instance, const Event& event) override;
  void instance_exited(int instance, const ProcessResult& result) override;
  void scenario_done(const ScenarioResult& result) override;

  bool tty() const { return tty_; }
  bool color() const { return color_; }

 private:
  void redraw();
  void clear_line();
  std::string paint(const std::string& text, const char* code) const;

  std::FILE* out_;
  Verbosity verbosity_;
  bool tty_;
  bool color_;
  int scenario_count_;
  int scenario_index_ = 0;
  int run_index_ = 0;
  int runs_ = 0;
  int instances_ = 0;
  int exited_ = 0;
  std::string scenario_;
  std::string params_;
  std::chrono::steady_clock::time_point scenario_start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::map<int, std::pair<double, double>> progress_;  // instance -> (done, total)
};

}  // namespace harness
