// `harness agent --redis URL --name NAME --slots N -- WORKER...`: serves a queue's jobs on this
// host (agent/agent.hpp) until SIGTERM or SIGINT. Exit 0 after a stop, 2 for bad options or a
// Redis that cannot be reached.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "harness/agent/agent.hpp"
#include "harness/cli/command.hpp"
#include "harness/core/units.hpp"

namespace harness::cli {
namespace {

struct AgentArgs {
  std::string redis, queue = "default", name, mode = "spawn";
  int slots = 1, max_deliveries = 3;
  std::string timeout = "10m", grace = "2s", lease = "10s", poll = "5ms", ready_timeout = "2m";
  std::vector<std::string> worker;
};

std::string default_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

int run_agent_command(const AgentArgs& args) {
  if (args.mode != "spawn" && args.mode != "pool")
    throw std::invalid_argument("--mode " + args.mode +
                                ": spawn (a process per job) or pool (persistent workers)");
  AgentOptions o;
  std::string error;
  const auto endpoint = parse_redis_url(args.redis, error);
  if (!endpoint) throw std::invalid_argument("--redis: " + error);
  o.redis = *endpoint;
  o.queue = args.queue;
  o.name = args.name.empty() ? default_name() : args.name;
  o.slots = args.slots;
  o.worker = args.worker;
  o.pool = args.mode == "pool";
  o.ready_timeout = parse_duration(args.ready_timeout);
  o.timeout = parse_duration(args.timeout);
  o.grace = parse_duration(args.grace);
  o.lease = parse_duration(args.lease);
  o.poll = parse_duration(args.poll);
  o.max_deliveries = args.max_deliveries;
  // Exit 1 when a pool agent stopped because none of its workers could start.
  return run_agent(o, stderr).no_worker ? kExitFail : kExitPass;
}

}  // namespace

Command add_agent_command(CLI::App& parent) {
  auto args = std::make_shared<AgentArgs>();
  auto* app = parent.add_subcommand(
      "agent", "Serve a queue's jobs on this host (Redis Streams; stop with SIGTERM)");
  app->add_option("--redis", args->redis,
                  "redis://[user:password@]host[:port][/db] or unix:///path")
      ->required();
  app->add_option("--queue", args->queue, "The queue's name (keys harness:NAME:...)")
      ->capture_default_str();
  app->add_option("--name", args->name, "This agent's consumer name (default: host-pid)");
  app->add_option("--slots", args->slots, "Jobs run at once")->capture_default_str();
  app->add_option("--mode", args->mode,
                  "spawn: a process per job; pool: --slots persistent workers fed a line per job")
      ->capture_default_str();
  app->add_option("--ready-timeout", args->ready_timeout,
                  "pool: a worker's start until its `ready` event")
      ->capture_default_str();
  app->add_option("--timeout", args->timeout, "A job's time limit unless it says timeout_ms")
      ->capture_default_str();
  app->add_option("--grace", args->grace, "SIGTERM to SIGKILL when a job is stopped")
      ->capture_default_str();
  app->add_option("--lease", args->lease, "Idle time after which other agents take a job over")
      ->capture_default_str();
  app->add_option("--max-deliveries", args->max_deliveries,
                  "Deliveries after which a job is dead-lettered")
      ->capture_default_str();
  app->add_option("--poll", args->poll, "Longest wait on Redis in one read")->capture_default_str();
  app->add_option("worker", args->worker,
                  "The worker command, after --; spawn: ${INPUT} ${JOB} ${AGENT} are the "
                  "job's; pool: ${AGENT} and ${SLOT}");
  return {app, [args] { return run_agent_command(*args); }};
}

}  // namespace harness::cli
