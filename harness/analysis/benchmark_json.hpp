#pragma once
// Reading Google Benchmark's JSON output (--benchmark_out_format=json) as samples for the
// regression gate: per benchmark run name, the real and CPU time of every repetition, in ns.
//
// With --benchmark_repetitions=N the file holds N iteration entries per benchmark (each one
// repetition's mean over its iterations) and aggregates (mean, median, stddev, cv); the
// repetitions are the samples, the aggregates are ignored. A file written with
// --benchmark_report_aggregates_only has no repetitions: then the mean is one sample and the
// statistics say "not enough data". Several files of one program (rounds of an A/B run) pool
// into one set of samples per name. Entries with error_occurred are skipped.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

struct BenchmarkSamples {
  std::vector<double> real_ns;
  std::vector<double> cpu_ns;
  bool from_aggregate = false;  // only a mean was available
};

// Adds the repetitions of `doc` to `into`; throws std::runtime_error naming `source` when
// `doc` is not a Google Benchmark file or an entry is malformed.
void read_benchmark_samples(const nlohmann::json& doc, std::string_view source,
                            std::map<std::string, BenchmarkSamples>& into);

bool is_benchmark_json(const nlohmann::json& doc);

}  // namespace harness
