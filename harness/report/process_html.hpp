#pragma once
// The CPU and process parts of report.html: an instance's CPU over time (drawn beside its
// memory chart) and the process tree of a worker that is several processes.

#include <ostream>
#include <string>

#include "harness/core/result.hpp"

namespace harness {

// Utilisation (% of one core) over time, each point over at least kCpuChartStepMs of the
// timeline (the kernel counts CPU in 10 ms ticks, so shorter steps would be all noise), with the
// thread count in the title. "" when the instance has no CPU timeline.
std::string cpu_chart(const ScenarioRun& run, const ProcessResult& p);

// Every instance of more than one process, drawn as a tree of its processes at its PSS peak
// (pid, name, argv[0], RSS, PSS, USS, CPU, threads); nothing when no instance was.
void write_process_trees(const ScenarioResult& s, std::ostream& out);

}  // namespace harness
