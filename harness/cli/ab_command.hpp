#pragma once
// `harness ab`: the interleaved A/B regression check (docs/regression.md). Runs the chosen
// scenarios and benchmark programs of a base and a candidate build in rounds, base and
// candidate back to back in a seeded, balanced random order, then decides every metric with
// compare.hpp over the pooled rounds.
//
//   harness ab --base BUILD_OR_REF --new BUILD_OR_REF [--rounds N] [--seed S] [--out DIR]
//              [--bench PROGRAM|all]... [--repetitions N] [--thresholds FILE] [PATH...]
//
// Exit status: 0 no regression, 1 a regression, 2 cannot run (a side that does not build, a bad
// scenario, a benchmark that fails), 130 interrupted (temporary worktrees are still removed).

#include "harness/cli/command.hpp"

namespace harness {

// Adds the `ab` subcommand to `app`.
cli::Command add_ab_command(CLI::App& app);

}  // namespace harness
