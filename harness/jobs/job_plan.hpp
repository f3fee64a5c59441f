#pragma once
// A scenario's `jobs:` at one matrix point, made into the JobPlan the stream runs: inputs
// expanded and globbed, and the per-job process, pool worker and pool line built from the
// scenario's worker with ${OUT} (the run's folder), ${JOB}, ${INPUT} and ${INSTANCE} (the job
// number in spawn mode, the worker slot in pool mode) set.

#include <cstddef>
#include <filesystem>

#include "harness/jobs/job_stream.hpp"
#include "harness/scenario/scenario.hpp"

namespace harness {

// The process of an expanded worker at a run point: argv, env, cwd, stdin, timeout and grace from
// the worker, the sampling period from the run, the tail size from the harness.
ProcessSpec process_spec_of(const WorkerSpec& worker, const RunPoint& point,
                            std::size_t tail_bytes);

// Throws std::runtime_error (or VariableError) when an input pattern matches nothing or a
// variable cannot be expanded: the scenario cannot run.
JobPlan make_job_plan(const Scenario& scenario, const RunPoint& point, const Variables& vars,
                      const std::filesystem::path& run_dir, std::size_t tail_bytes);

}  // namespace harness
