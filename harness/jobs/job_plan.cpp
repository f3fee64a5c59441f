#include "harness/jobs/job_plan.hpp"

#include <glob.h>

#include <algorithm>
#include <stdexcept>

namespace harness {
namespace {

bool has_glob(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> glob_files(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json expand_json(const nlohmann::json& j, const Variables& vars) {
  if (j.is_string()) return expand_variables(j.get<std::string>(), vars);
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) out[k] = expand_json(v, vars);
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(expand_json(v, vars));
    return out;
  }
  return j;
}

// This program: agents are the harness itself, run as `harness agent`.
std::string harness_executable() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("harness") : self.string();
}

}  // namespace

ProcessSpec process_spec_of(const WorkerSpec& w, const RunPoint& point, std::size_t tail_bytes) {
  ProcessSpec ps;
  ps.argv = w.command;
  ps.env = w.env;
  ps.cwd = w.cwd;
  ps.stdin_data = w.stdin_data;
  ps.timeout = w.timeout;
  ps.grace = w.grace;
  ps.sample_interval = point.run.sample_interval;
  ps.tail_bytes = tail_bytes;
  return ps;
}

JobPlan make_job_plan(const Scenario& s, const RunPoint& point, const Variables& base,
                      const std::filesystem::path& run_dir, std::size_t tail_bytes) {
  JobPlan plan;
  plan.spec = *s.jobs;
  for (const auto& [key, value] : point.params.items()) {
    std::string why;
    if (!apply_jobs_param(plan.spec, key, value, why)) throw std::runtime_error(why);
  }
  Variables vars = base;
  for (const auto& [key, value] : point.vars) vars[key] = value;
  vars["OUT"] = run_dir.string();
  vars["INSTANCE"] = "0";
  vars["JOB"] = "0";
  vars["INPUT"] = "";
  for (std::size_t i = 0; i < plan.spec.inputs.size(); ++i) {
    const std::string pattern = expand_variables(plan.spec.inputs[i], vars);
    if (!has_glob(pattern)) {
      plan.inputs.push_back(pattern);
      continue;
    }
    auto files = glob_files(pattern);
    if (files.empty())
      throw std::runtime_error("jobs.inputs[" + std::to_string(i) + "]: '" + pattern +
                               "' matches no file");
    plan.inputs.insert(plan.inputs.end(), files.begin(), files.end());
  }
  plan.ready_timeout = s.worker.timeout;
  plan.cancel_grace = s.worker.grace;

  auto job_vars = [vars](const JobRecord& job) {
    Variables v = vars;
    v["JOB"] = std::to_string(job.id);
    v["INSTANCE"] = std::to_string(job.id);
    v["INPUT"] = job.input;
    return v;
  };
  WorkerSpec spawn_worker = s.worker;
  if (!plan.spec.spawn_command.empty()) spawn_worker.command = plan.spec.spawn_command;
  plan.spawn_process = [spawn_worker, job_vars, point, tail_bytes](const JobRecord& job) {
    return process_spec_of(expand_worker(spawn_worker, job_vars(job)), point, tail_bytes);
  };
  const WorkerSpec pool_worker = s.worker;
  plan.pool_process = [pool_worker, vars, point, tail_bytes](int slot) {
    Variables v = vars;
    v["INSTANCE"] = std::to_string(slot);
    return process_spec_of(expand_worker(pool_worker, v), point, tail_bytes);
  };
  plan.queue_dir = (run_dir / "redis").string();
  const QueueSpec queue = plan.spec.queue;
  const auto job_timeout = plan.spec.timeout;
  const auto grace = s.worker.grace;
  const auto ready_timeout = plan.ready_timeout;
  const auto pool_process = plan.pool_process;
  plan.agent_process = [queue, job_timeout, grace, ready_timeout, pool_process, point, tail_bytes](
                           int slot, const std::string& url, const std::string& name) {
    ProcessSpec ps;
    ps.argv = {harness_executable(),
               "agent",
               "--redis",
               url,
               "--queue",
               name,
               "--name",
               "agent" + std::to_string(slot),
               "--slots",
               "1",
               "--lease",
               std::to_string(queue.lease.count()) + "ms",
               "--max-deliveries",
               std::to_string(queue.max_deliveries),
               "--timeout",
               std::to_string(job_timeout.count()) + "ms",
               "--grace",
               std::to_string(grace.count()) + "ms"};
    if (queue.agent_mode == "pool") {
      // The agent's persistent worker: the pool worker of this slot, its env and cwd the
      // agent's own (the worker inherits them).
      const ProcessSpec worker = pool_process(slot);
      for (const std::string& arg :
           std::vector<std::string>{"--mode", "pool", "--ready-timeout",
                                    std::to_string(ready_timeout.count()) + "ms", "--"})
        ps.argv.push_back(arg);
      ps.argv.insert(ps.argv.end(), worker.argv.begin(), worker.argv.end());
      ps.env = worker.env;
      ps.cwd = worker.cwd;
    }
    ps.grace = grace + std::chrono::seconds(5);  // a stopped agent first ends its running job
    ps.sample_interval = point.run.sample_interval;
    ps.tail_bytes = tail_bytes;
    return ps;
  };
  const nlohmann::json line_template = plan.spec.line_template;
  plan.pool_line = [line_template, job_vars](const JobRecord& job) {
    nlohmann::json line = expand_json(line_template, job_vars(job));
    line["id"] = job.id;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  return plan;
}

}  // namespace harness
