// The row of the expectations on a job stream (`expect: jobs:`): counts, tail latency,
// throughput and the run's verdict, judged on the run's JobsResult.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "harness/core/rate.hpp"
#include "harness/judge/expectation_rows.hpp"
#include "harness/judge/jobs_expect.hpp"

namespace harness {
namespace {

const std::vector<std::string> kPercentiles{"p50", "p90", "p95", "p99", "p999", "max"};

double percentile_of(const std::string& name) {
  if (name == "max") return 100;
  if (name == "p999") return 99.9;
  return std::stod(name.substr(1));
}

// "latency_p99_max" -> ("latency", "p99"); false for another key.
bool split_percentile_key(const std::string& key, std::string& figure, std::string& pct) {
  for (const char* f : {"latency", "queue_wait", "service"}) {
    const std::string prefix = std::string(f) + "_";
    if (key.rfind(prefix, 0) != 0 || key.size() < prefix.size() + 5) continue;
    if (key.compare(key.size() - 4, 4, "_max") != 0) continue;
    pct = key.substr(prefix.size(), key.size() - prefix.size() - 4);
    if (std::find(kPercentiles.begin(), kPercentiles.end(), pct) == kPercentiles.end()) continue;
    figure = f;
    return true;
  }
  return false;
}

const JobPercentiles& figure_of(const JobsResult& r, const std::string& figure) {
  if (figure == "queue_wait") return r.queue_wait;
  if (figure == "service") return r.service;
  return r.latency;
}

double pick(const JobPercentiles& p, const std::string& pct) {
  if (pct == "p50") return p.p50;
  if (pct == "p90") return p.p90;
  if (pct == "p95") return p.p95;
  if (pct == "p99") return p.p99;
  if (pct == "p999") return p.p999;
  return p.max;
}

std::optional<JobsExpect> read_jobs_expect(ExpectParser& in, const YamlEntry& je) {
  YamlReader& r = in.reader;
  JobsExpect x;
  const std::size_t errors = r.diagnostics().size();
  for (const auto& e : r.entries(je.value, mark_of(je), "expect.jobs", jobs_expect_keys())) {
    const std::string k = e.key.Scalar();
    std::string figure, pct;
    if (k == "succeeded") {
      auto text = r.scalar(e);
      if (!text) continue;
      if (*text == "all") {
        x.succeeded_all = true;
      } else if (!text->empty() && text->back() == '%') {
        double v = -1;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size() - 1, v);
        if (ec != std::errc() || end != text->data() + text->size() - 1 || v < 0 || v > 100)
          r.error(e, "'expect.jobs.succeeded' must be all, a count or a share like 95%, got '" +
                         *text + "'");
        else
          x.succeeded_share = v / 100.0;
      } else {
        std::int64_t n = -1;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
        if (ec != std::errc() || end != text->data() + text->size() || n < 0)
          r.error(e, "'expect.jobs.succeeded' must be all, a count or a share like 95%, got '" +
                         *text + "'");
        else
          x.succeeded_count = n;
      }
    } else if (k == "failed_max" || k == "lost_max" || k == "duplicates_max" ||
               k == "retries_max" || k == "cancelled" || k == "dead_letters") {
      auto n = r.integer(e, 0, 100000000);
      if (!n) continue;
      (k == "failed_max"       ? x.failed_max
       : k == "lost_max"       ? x.lost_max
       : k == "duplicates_max" ? x.duplicates_max
       : k == "retries_max"    ? x.retries_max
       : k == "dead_letters"   ? x.dead_letters
                               : x.cancelled) = *n;
    } else if (split_percentile_key(k, figure, pct)) {
      using namespace std::chrono_literals;
      if (auto d = r.duration(e, 0ms, 24h)) x.percentile_max[k] = static_cast<double>(d->count());
    } else if (k == "reclaim_max") {
      using namespace std::chrono_literals;
      if (auto d = r.duration(e, 0ms, 24h)) x.reclaim_max_ms = static_cast<double>(d->count());
    } else if (k == "throughput_min") {
      auto text = r.scalar(e);
      if (!text) continue;
      if (auto v = parse_rate(*text))
        x.throughput_min = *v;
      else
        r.error(e, "'expect.jobs.throughput_min' must be a rate such as 4/s, got '" + *text + "'");
    } else if (k == "valid") {
      if (auto b = r.boolean(e)) x.valid = *b;
    } else if (k == "peak_min") {
      auto text = r.scalar(e);
      if (!text) continue;
      if (auto v = parse_rate(*text))
        x.peak_min = *v;
      else
        r.error(e, "'expect.jobs.peak_min' must be a rate such as 20/s, got '" + *text + "'");
    }
  }
  if (r.diagnostics().size() != errors) return std::nullopt;
  return x;
}

// "job 17 (crash: the worker killed by SIGABRT while serving it), job 40 (...)", at most 5.
std::string failing_jobs(const JobsResult& r, const std::string& status) {
  std::string out;
  std::size_t n = 0;
  for (const JobRecord& j : r.records) {
    const bool match = status.empty() ? j.status.empty() : j.status == status;
    if (!match) continue;
    if (++n > 5) continue;
    out += (out.empty() ? "" : ", ") + std::string("job ") + std::to_string(j.id);
    if (!j.failure.empty() || !j.error.empty())
      out += " (" + j.failure + (j.error.empty() ? "" : ": " + j.error) + ")";
  }
  if (n > 5) out += fmt::format(" and {} more", n - 5);
  return out;
}

void check_count(const char* name, std::int64_t limit, std::size_t got, const std::string& who,
                 const Judgement& j) {
  if (static_cast<std::int64_t>(got) > limit)
    j.fail(fmt::format("jobs: {} expected <= {}, got {}{}", name, limit, got,
                       who.empty() ? "" : ": " + who));
}

void check_jobs(const JobsExpect& x, const Judgement& j) {
  if (!j.run.jobs) {
    j.fail("jobs: expected a job stream, but the scenario has no 'jobs' section");
    return;
  }
  const JobsResult& r = *j.run.jobs;
  const std::string failed = failing_jobs(r, "failed");
  if (x.succeeded_all && r.succeeded != r.scheduled)
    j.fail(
        fmt::format("jobs: succeeded expected all {}, got {} ({} failed, {} cancelled, {} lost, "
                    "{} interrupted, {} not run){}",
                    r.scheduled, r.succeeded, r.failed, r.cancelled, r.lost, r.interrupted,
                    r.not_run, failed.empty() ? "" : ": " + failed));
  if (x.succeeded_count && static_cast<std::int64_t>(r.succeeded) < *x.succeeded_count)
    j.fail(fmt::format("jobs: succeeded expected >= {}, got {} of {}{}", *x.succeeded_count,
                       r.succeeded, r.scheduled, failed.empty() ? "" : ": " + failed));
  if (x.succeeded_share) {
    const double share =
        r.scheduled ? static_cast<double>(r.succeeded) / static_cast<double>(r.scheduled) : 0;
    if (share + 1e-12 < *x.succeeded_share)
      j.fail(fmt::format("jobs: succeeded expected >= {:g}%, got {:.1f}% ({} of {})",
                         100 * *x.succeeded_share, 100 * share, r.succeeded, r.scheduled));
  }
  if (x.failed_max) check_count("failed_max", *x.failed_max, r.failed, failed, j);
  if (x.lost_max) check_count("lost_max", *x.lost_max, r.lost, failing_jobs(r, ""), j);
  if (x.duplicates_max) check_count("duplicates_max", *x.duplicates_max, r.duplicates, "", j);
  if (x.retries_max) check_count("retries_max", *x.retries_max, r.retries, "", j);
  if (x.cancelled && static_cast<std::int64_t>(r.cancelled) != *x.cancelled)
    j.fail(fmt::format("jobs: cancelled expected {}, got {}", *x.cancelled, r.cancelled));
  if (x.dead_letters) {
    std::int64_t n = 0;
    for (const JobRecord& rec : r.records) n += rec.failure == "dead_letter";
    if (n != *x.dead_letters)
      j.fail(fmt::format("jobs: dead_letters expected {}, got {}{}", *x.dead_letters, n,
                         failed.empty() ? "" : ": " + failed));
  }
  if (x.reclaim_max_ms) {
    if (r.reclaim_ms.empty()) {
      j.fail(
          fmt::format("jobs: reclaim_max expected <= {:g} ms, but no job was taken over after "
                      "a kill_agent (was a job running on the killed agent?)",
                      *x.reclaim_max_ms));
    } else {
      const double worst = *std::max_element(r.reclaim_ms.begin(), r.reclaim_ms.end());
      if (worst > *x.reclaim_max_ms)
        j.fail(fmt::format("jobs: reclaim_max expected <= {:g} ms, got {:.1f} ms ({} job(s))",
                           *x.reclaim_max_ms, worst, r.reclaim_ms.size()));
    }
  }
  for (const auto& [key, limit] : x.percentile_max) {
    std::string figure, pct;
    split_percentile_key(key, figure, pct);
    const JobPercentiles& p = figure_of(r, figure);
    if (p.n == 0) {
      j.fail(fmt::format("jobs: {} expected <= {:g} ms, got no succeeded job", key, limit));
      continue;
    }
    const double got = pick(p, pct);
    if (got > limit)
      j.fail(fmt::format("jobs: {} expected <= {:g} ms, got {:.1f} ms (n = {})", key, limit, got,
                         p.n));
  }
  if (x.throughput_min && r.throughput_per_s < *x.throughput_min)
    j.fail(fmt::format("jobs: throughput_min expected >= {:g}/s, got {:.2f}/s", *x.throughput_min,
                       r.throughput_per_s));
  if (x.valid && *x.valid != r.valid) {
    std::string reasons;
    for (const auto& why : r.invalid_reasons) reasons += (reasons.empty() ? "" : "; ") + why;
    j.fail(fmt::format("jobs: valid expected {}, got {}{}", *x.valid ? "VALID" : "INVALID",
                       r.valid ? "VALID" : "INVALID", reasons.empty() ? "" : " (" + reasons + ")"));
  }
}

}  // namespace

const std::vector<std::string>& jobs_expect_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k{"succeeded",   "failed_max", "lost_max",     "duplicates_max",
                               "retries_max", "cancelled",  "dead_letters", "reclaim_max"};
    for (const char* f : {"latency", "queue_wait", "service"})
      for (const auto& p : kPercentiles) k.push_back(std::string(f) + "_" + p + "_max");
    k.push_back("throughput_min");
    k.push_back("valid");
    k.push_back("peak_min");
    return k;
  }();
  return keys;
}

double JobsExpect::tail_percentile() const {
  double top = 0;
  for (const auto& [key, limit] : percentile_max) {
    std::string figure, pct;
    if (split_percentile_key(key, figure, pct) && pct != "max")
      top = std::max(top, percentile_of(pct));
  }
  return top;
}

std::optional<std::string> check_peak_min(const JobsExpect& x, const PeakResult& peak) {
  if (!x.peak_min) return std::nullopt;
  if (!peak.peak_rate)
    return fmt::format("jobs: peak_min expected >= {:g}/s, got no rate that meets the bound",
                       *x.peak_min);
  if (*peak.peak_rate >= *x.peak_min) return std::nullopt;
  return fmt::format("jobs: peak_min expected >= {:g}/s, got {:g}/s", *x.peak_min, *peak.peak_rate);
}

namespace detail {

std::vector<ExpectRow> job_rows() {
  return {row("jobs", "map",
              "a job stream's run meets each key given: `succeeded` (all, N or P%), `failed_max`, "
              "`lost_max`, `duplicates_max`, `retries_max`, `cancelled` (exactly), "
              "`dead_letters` (queue: jobs failed as `dead_letter`, exactly), `reclaim_max` "
              "(queue: the slowest takeover of a job after `jobs.faults` killed its agent), "
              "`latency_pXX_max`, `queue_wait_pXX_max`, `service_pXX_max` (XX: 50 90 95 99 999, "
              "or `latency_max_max` for the slowest), `throughput_min` (succeeded jobs/s), "
              "`valid` (the VALID/INVALID verdict), `peak_min` (a find_peak search's peak rate, "
              "judged on the search; the other keys are judged on the run at the peak)",
              read_jobs_expect, check_jobs, {Scope::kRun, false})};
}

}  // namespace detail
}  // namespace harness
