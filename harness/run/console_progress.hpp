#pragma once
// Progress of a `harness run` on the terminal. On a TTY one status line is redrawn in place
// (scenario, run, instances running, elapsed, a bar for workers that send progress events);
// otherwise, as in CI logs, plain lines, one per scenario and run. Colour only on a TTY and
// never when NO_COLOR is set (https://no-color.org).

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "harness/run/scenario_runner.hpp"

namespace harness {

enum class Verbosity { quiet, normal, verbose };

class ConsoleProgress : public RunProgress {
 public:
  // jobs > 1: scenarios run side by side; the status line shows each running one and plain
  // lines name the scenario they belong to. Thread-safe: every callback takes a lock.
  ConsoleProgress(std::FILE* out, Verbosity verbosity, int scenario_count, int jobs = 1);

  void scenario_started(const Scenario& scenario, int runs) override;
  void run_started(const Scenario& scenario, const nlohmann::json& params, int repeat, bool warmup,
                   int instances) override;
  void event(const Scenario& scenario, int instance, const Event& event) override;
  void instance_exited(const Scenario& scenario, int instance,
                       const ProcessResult& result) override;
  void scenario_done(const ScenarioResult& result) override;

  bool tty() const { return tty_; }
  bool color() const { return color_; }

 private:
  struct Active {  // one running scenario
    std::string name;
    int ordinal = 0;  // 1-based, in start order
    int run_index = 0;
    int runs = 0;
    int instances = 0;
    int exited = 0;
    std::string params;
    std::chrono::steady_clock::time_point start;
    std::map<int, std::pair<double, double>> progress;  // instance -> (done, total)
  };

  Active* find(const std::string& name);
  std::string describe(const Active& a, bool alone) const;
  void redraw();
  void clear_line();
  std::string paint(const std::string& text, const char* code) const;

  std::mutex mutex_;
  std::FILE* out_;
  Verbosity verbosity_;
  bool tty_;
  bool color_;
  int scenario_count_;
  bool parallel_;
  int started_ = 0;
  std::vector<Active> active_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace harness
