#include "harness/jobs/peak_search.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "harness/core/units.hpp"

namespace harness {
namespace {

// 3 significant digits: 12.3456 -> 12.3, 1234.5 -> 1230.
double round3(double rate) {
  if (rate <= 0) return rate;
  const double scale = std::pow(10.0, 2 - std::floor(std::log10(rate)));
  return std::round(rate * scale) / scale;
}

std::string rate_text(double rate) {
  return fmt::format("{:g}/s", rate);
}

std::string ms_text(double ms) {
  return format_seconds(ms / 1000.0);
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

}  // namespace

double latency_percentile(const JobsResult& run, double percentile) {
  const JobPercentiles& l = run.latency;
  if (percentile >= 99.9) return l.p999;
  if (percentile >= 99) return l.p99;
  if (percentile >= 95) return l.p95;
  if (percentile >= 90) return l.p90;
  return l.p50;
}

PeakSearch::PeakSearch(const PeakSearchSpec& spec) : spec_(spec) {
  result_.key = spec.key;
  result_.percentile = spec.percentile;
  result_.bound_ms = spec.bound_ms;
  result_.from = spec.from;
  result_.to = spec.to;
  result_.precision = spec.precision;
  conclude();
}

std::optional<double> PeakSearch::next_rate() const {
  if (stopped_ || static_cast<int>(result_.points.size()) >= spec_.max_points) return std::nullopt;
  if (result_.points.empty()) return spec_.from;
  if (!result_.peak_rate) return std::nullopt;  // `from` did not meet the bound
  const double lo = *result_.peak_rate;
  if (!result_.failed_rate) {
    if (lo >= spec_.to) return std::nullopt;
    return std::min(round3(lo * 2), spec_.to);
  }
  const double hi = *result_.failed_rate;
  if (hi / lo <= 1 + spec_.precision + 1e-9) return std::nullopt;
  const double mid = round3(std::sqrt(lo * hi));
  if (mid <= lo || mid >= hi) return std::nullopt;  // the rounding left nothing between them
  return mid;
}

void PeakSearch::record(double rate, const JobsResult& run, std::size_t run_index) {
  PeakPoint p;
  p.rate = rate;
  p.run = run_index;
  p.value_ms = latency_percentile(run, spec_.percentile);
  p.throughput_per_s = run.throughput_per_s;
  const std::string figure = fmt::format("p{:g} {}", spec_.percentile, ms_text(p.value_ms));
  const std::size_t done = run.succeeded + run.cancelled;
  if (done < run.scheduled) {
    p.verdict = "failed";
    p.why = fmt::format(
        "{} of {} jobs did not succeed ({} failed, {} lost, {} not run, {} "
        "interrupted)",
        run.scheduled - done, run.scheduled, run.failed, run.lost, run.not_run, run.interrupted);
  } else if (!run.valid) {
    p.verdict = "invalid";
    p.why = "the run is INVALID: " + join(run.invalid_reasons);
  } else if (p.value_ms <= spec_.bound_ms) {
    p.verdict = "meets";
    p.why = figure + " <= " + ms_text(spec_.bound_ms);
  } else {
    p.verdict = "exceeds";
    p.why = figure + " > " + ms_text(spec_.bound_ms);
  }
  if (p.verdict == "meets") {
    result_.peak_rate = std::max(result_.peak_rate.value_or(0), rate);
  } else if (p.verdict == "invalid") {
    stopped_ = true;
    stop_reason_ = "the search stopped at " + rate_text(rate) + ": " + p.why;
  } else {
    result_.failed_rate = std::min(result_.failed_rate.value_or(rate), rate);
    if (!result_.peak_rate) stopped_ = true;
  }
  result_.points.push_back(std::move(p));
  conclude();
}

void PeakSearch::interrupt() {
  if (stopped_) return;
  stopped_ = true;
  stop_reason_ =
      "the search was interrupted after " + std::to_string(result_.points.size()) + " rates";
  conclude();
}

void PeakSearch::conclude() {
  result_.failures.clear();
  const std::string bound = fmt::format("p{:g} <= {}", spec_.percentile, ms_text(spec_.bound_ms));
  auto point_at = [&](double rate) -> const PeakPoint& {
    for (const auto& p : result_.points)
      if (p.rate == rate) return p;
    return result_.points.front();
  };
  std::string out;
  if (result_.points.empty()) {
    out = "no rate was run";
  } else if (!result_.peak_rate) {
    const PeakPoint& first = result_.points.front();
    out = "no rate from " + rate_text(spec_.from) + " meets " + bound + ": at " +
          rate_text(first.rate) + " " + first.why;
    result_.failures.push_back("find_peak: " + out);
  } else {
    const PeakPoint& peak = point_at(*result_.peak_rate);
    out = "peak " + rate_text(peak.rate) + " (" + peak.why + ", " +
          fmt::format("{:.3g}", peak.throughput_per_s) + " jobs/s done)";
    if (result_.failed_rate) {
      const PeakPoint& over = point_at(*result_.failed_rate);
      out += "; " + rate_text(over.rate) + " " + over.verdict + " (" + over.why + ")";
    } else if (peak.rate >= spec_.to) {
      out += "; that is 'to', the highest rate tried: the design may sustain more";
    }
  }
  if (!stop_reason_.empty() && (result_.peak_rate || result_.points.empty()))
    out += "; " + stop_reason_;
  else if (!result_.points.empty() && !next_rate() &&
           static_cast<int>(result_.points.size()) >= spec_.max_points && result_.peak_rate &&
           result_.failed_rate &&
           *result_.failed_rate / *result_.peak_rate > 1 + spec_.precision + 1e-9)
    out += fmt::format("; {} points run, the bracket is still wider than {:g} %",
                       result_.points.size(), 100 * spec_.precision);
  result_.outcome = out;
}

}  // namespace harness
