#pragma once
// Whether a run's workers wanted more CPUs than the machine has, measured rather than guessed:
// every worker's threads report, through schedstat, the time they ran and the time they were
// runnable but waited on a run queue. Their sum over the run's span is the number of CPUs the
// workers wanted at once; the waiting share says how much of that the cores could not give.
//
// Oversubscribed: they wanted more than kOversubscribedFactor x the cores and waited more than
// kOversubscribedWait of their runnable time. The message gives the figures and the likely
// cause: several threads per worker with none of the usual thread-count variables set (OpenMP
// and BLAS libraries start a thread per core), or simply more busy workers than cores.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

inline constexpr double kOversubscribedFactor = 1.25;
inline constexpr double kOversubscribedWait = 0.25;

// The variables that cap the threads of OpenMP, OpenBLAS, MKL, BLIS and numexpr pools.
const std::vector<std::string>& thread_limit_variables();

// `env_set(name)` says whether the workers' environment sets a variable. Nullopt when fewer than
// one instance has schedstat figures (it lived under two PSS/USS reads).
std::optional<CpuDemand> cpu_demand(const std::vector<ProcessResult>& instances, int cores,
                                    const std::function<bool(const std::string&)>& env_set);

}  // namespace harness
