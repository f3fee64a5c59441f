#include "harness/agent/agent.hpp"

#include <signal.h>

#include <atomic>
#include <deque>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/core/json_validator.hpp"
#include "harness/jobs/spawn_verdict.hpp"
#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/scenario/variables.hpp"
#include "harness/supervise/supervisor.hpp"
#include "harness/supervise/watchdog.hpp"

namespace harness {
namespace {

using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;
using Command = std::vector<std::string>;

std::atomic<int> g_stop_signals{0};
extern "C" void on_stop_signal(int) {
  g_stop_signals.fetch_add(1);
}

// Renews a lease only while this consumer still owns the entry: the check and the claim in one
// step, so an agent presumed dead cannot take back a job another agent already runs.
constexpr const char* kRenewScript = R"(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p == 0 then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1)";

constexpr std::size_t kMaxBodyBytes = 16 * 1024;  // a published event's JSON body
// Cancels come by pub/sub at once; the keys are looked at this often for those published while
// the subscriber was away (pub/sub keeps nothing for a disconnected client).
constexpr auto kCancelCheck = ms(250);
constexpr int kStartFailuresPerWorker = 3;               // pool: a slot given up after this many
constexpr auto kDrainGiveUp = std::chrono::seconds(30);  // Redis gone while stopping

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string fixed(double v) {
  return fmt::format("{:.3f}", v);
}

class Agent final : public ProcessObserver {
 public:
  Agent(Supervisor& supervisor, const AgentOptions& o, std::FILE* log)
      : o_(o),
        keys_(o.queue),
        session_(supervisor),
        log_(log),
        redis_(o.redis, o.connect_timeout, ms(2000) + o.poll),
        cancels_(o.redis, o.connect_timeout, ms(2000)) {
    cancels_.subscribe(keys_.cancel_channel);
  }

  AgentSummary run() {
    if (o_.pool && o_.worker.empty())
      throw std::invalid_argument("--mode pool needs the worker command (after --)");
    try {
      redis_.command({"XGROUP", "CREATE", keys_.jobs, keys_.group, "0", "MKSTREAM"});
    } catch (const RedisError& e) {
      if (e.kind() == RedisError::Kind::io ||
          std::string(e.what()).find("BUSYGROUP") == std::string::npos)
        throw;
    }
    say(fmt::format("serving {} on {} with {} slot(s), lease {} ms", keys_.jobs, o_.redis.display(),
                    o_.slots, o_.lease.count()));
    if (o_.pool) {
      workers_.resize(static_cast<std::size_t>(o_.slots));
      for (int s = 0; s < o_.slots; ++s) start_worker(s);
    } else {
      announce();
    }
    schedule(ms(0));
    session_.run();
    say(fmt::format(
        "stopped: {} job(s) ended here ({} taken over), {} dead-lettered, {} handed back",
        summary_.jobs, summary_.reclaimed, summary_.dead_lettered, summary_.handed_back));
    return summary_;
  }

  void on_event(int handle, const Event& ev) override {
    if (o_.pool && pool_ready_event(handle, ev)) return;
    const auto it = jobs_.find(handle);
    if (it == jobs_.end()) return;
    Job& job = it->second;
    // A pool worker's events name their job; those of another (an earlier one's late answer)
    // are not this job's.
    if (o_.pool && (!ev.body.contains("job") || id_text(ev.body["job"]) != job.id)) return;
    note_spawned_event(ev, job.answer);
    if (ev.type == "progress" && job.progress_sent >= o_.max_events_per_job) {
      ++job.progress_dropped;
      return;
    }
    if (ev.type == "progress") ++job.progress_sent;
    std::string body = ev.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (body.size() > kMaxBodyBytes)
      body = nlohmann::json{{"event", ev.type}, {"truncated_bytes", body.size()}}.dump();
    queue({event_command(job, ev.type, {{"body", body}})}, false);
    if (o_.pool && (ev.type == "result" || ev.type == "error")) pool_answer(handle, ev);
  }

  void on_exit(int handle, const ProcessResult& res) override {
    if (o_.pool) {
      pool_exit(handle, res);
      return;
    }
    const auto it = jobs_.find(handle);
    if (it == jobs_.end()) return;
    Job job = std::move(it->second);
    jobs_.erase(it);
    if (job.lease_lost) {
      say(fmt::format("job {}: stopped, another agent owns it now", job.id));
    } else if (job.handing_back) {
      hand_back(job);
    } else {
      const SpawnVerdict v = judge_spawned(res, job.answer, job.cancelling, job.timeout);
      nlohmann::json body{{"status", v.status},
                          {"wall_ms", res.wall_s * 1e3},
                          {"pid", res.pid},
                          {"peak_rss_kib", res.memory.peak_rss_kib},
                          {"peak_pss_kib", res.memory.peak_pss_kib},
                          {"progress_events", job.progress_sent + job.progress_dropped},
                          {"progress_dropped", job.progress_dropped}};
      if (!v.failure.empty()) body["failure"] = v.failure;
      if (!v.error.empty()) body["error"] = v.error;
      if (res.exit_code) body["exit_code"] = *res.exit_code;
      if (res.signal) body["signal"] = signal_name(*res.signal);
      if (res.cpu.user_s >= 0) body["cpu_s"] = res.cpu.user_s + res.cpu.system_s;
      end(job, v.status, v.failure, v.error, body);
      if (v.status == "cancelled") ++summary_.cancelled;
      say(fmt::format("job {}: {}{} in {:.0f} ms (delivery {})", job.id, v.status,
                      v.failure.empty() ? "" : " (" + v.failure + ": " + v.error + ")",
                      res.wall_s * 1e3, job.deliveries));
    }
    try_flush();
    tick_soon();
  }

 private:
  struct Job {
    std::string entry, id, text;  // stream entry id, job id, the job's JSON
    int deliveries = 1;
    bool reclaimed = false, cancelling = false, handing_back = false, lease_lost = false;
    ms timeout{0};
    Clock::time_point picked;
    std::string answer;  // note_spawned_event
    std::size_t progress_sent = 0;
    std::uint64_t progress_dropped = 0;
    bool timed_out = false;                             // pool: no answer within its timeout
    std::uint64_t timeout_timer = 0, cancel_timer = 0;  // pool
  };

  // A pool slot: its worker process, started again when it dies.
  struct Worker {
    int handle = -1;
    bool ready = false, retiring = false, dead = false;
    int start_failures = 0;
    std::uint64_t ready_timer = 0, stop_timer = 0;
  };

  // For a coordinator that runs agents as its workers: serving from here on.
  void announce() {
    if (announced_) return;
    announced_ = true;
    std::printf("{\"event\":\"ready\",\"agent\":%s}\n", nlohmann::json(o_.name).dump().c_str());
    std::fflush(stdout);
  }

  static std::string id_text(const nlohmann::json& id) {
    return id.is_string() ? id.get<std::string>() : id.dump();
  }
  // The id as the worker is given it: a number when the job's id is one.
  static nlohmann::json id_json(const std::string& id) {
    const bool digits =
        !id.empty() && id.size() < 18 &&
        std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
    return digits ? nlohmann::json(std::stoll(id)) : nlohmann::json(id);
  }

  // --- pool mode ---

  void start_worker(int s) {
    Worker& w = workers_[static_cast<std::size_t>(s)];
    ProcessSpec ps;
    try {
      const Variables vars{
          {"INPUT", ""}, {"JOB", ""}, {"AGENT", o_.name}, {"SLOT", std::to_string(s)}};
      for (const auto& arg : o_.worker) ps.argv.push_back(expand_variables(arg, vars));
    } catch (const std::exception& e) {
      w.dead = true;
      say(fmt::format("worker {}: cannot start: {}", s, e.what()));
      check_workers();
      return;
    }
    ps.stdin_open = true;
    ps.timeout = ms(0);  // it lives for the agent; jobs have their own timeout
    ps.grace = o_.grace;
    w.ready = false;
    w.retiring = false;
    w.handle = session_.add(ps, this);
    handle_worker_[w.handle] = s;
    const int h = w.handle;
    w.ready_timer = session_.call_at(Clock::now() + o_.ready_timeout, [this, s, h] {
      Worker& x = workers_[static_cast<std::size_t>(s)];
      x.ready_timer = 0;
      if (x.handle != h || x.ready) return;
      say(fmt::format("worker {}: no `ready` within {} ms; stopping it", s,
                      o_.ready_timeout.count()));
      retire(h);
    });
  }

  void retire(int handle) {
    const auto it = handle_worker_.find(handle);
    if (it == handle_worker_.end()) return;
    Worker& w = workers_[static_cast<std::size_t>(it->second)];
    if (w.retiring) return;
    w.retiring = true;
    session_.stop(handle);
  }

  // Ready once every worker is ready or dead; an agent none of whose workers start stops.
  void check_workers() {
    if (announced_ || !o_.pool) return;
    bool all_dead = true;
    for (const Worker& w : workers_) {
      if (!w.dead && !w.ready) return;
      all_dead = all_dead && w.dead;
    }
    if (all_dead) {
      say("stopping: no worker could start");
      summary_.no_worker = true;
      draining_ = true;
      drain_since_ = Clock::now();
      return;
    }
    announce();
  }

  bool pool_ready_event(int handle, const Event& ev) {
    if (ev.type != "ready") return false;
    const auto it = handle_worker_.find(handle);
    if (it == handle_worker_.end()) return false;
    Worker& w = workers_[static_cast<std::size_t>(it->second)];
    if (w.ready || w.handle != handle) return false;
    w.ready = true;
    w.start_failures = 0;
    if (w.ready_timer) session_.cancel_timer(std::exchange(w.ready_timer, 0));
    say(fmt::format("worker {}: ready (pid {})", it->second, session_.pid(handle)));
    check_workers();
    tick_soon();
    return true;
  }

  int idle_workers() const {
    int n = 0;
    for (const Worker& w : workers_)
      if (w.handle >= 0 && w.ready && !w.retiring && !jobs_.count(w.handle)) ++n;
    return n;
  }

  int idle_worker() const {
    for (const Worker& w : workers_)
      if (w.handle >= 0 && w.ready && !w.retiring && !jobs_.count(w.handle)) return w.handle;
    return -1;
  }

  // Gives a picked job to an idle worker as its line.
  void send_to_worker(Job job, const nlohmann::json& spec) {
    std::string line;
    std::string error;
    if (spec.contains("line")) {
      if (!spec["line"].is_string())
        error = "the job's line is not a string";
      else
        line = spec["line"].get<std::string>();
    } else {
      nlohmann::json l{{"id", id_json(job.id)}};
      if (spec.contains("input")) l["input"] = spec["input"];
      line = l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    // One line is one job: a newline inside would hand the worker a second, forged one.
    if (error.empty() && line.find_first_of("\r\n") != std::string::npos)
      error = "the job's line holds a newline";
    const int handle = idle_worker();
    if (error.empty() && handle < 0) error = "no pool worker is free";
    if (!error.empty()) {
      end(job, "failed", "spawn", error,
          {{"status", "failed"}, {"failure", "spawn"}, {"error", error}});
      say(fmt::format("job {}: failed (spawn: {})", job.id, error));
      return;
    }
    say(fmt::format("job {}: {} (delivery {}) to worker {}", job.id,
                    job.reclaimed ? "taken over" : "picked", job.deliveries,
                    handle_worker_.at(handle)));
    const std::string entry = job.entry;
    job.timeout_timer = session_.call_at(Clock::now() + job.timeout, [this, handle, entry] {
      const auto it = jobs_.find(handle);
      if (it == jobs_.end() || it->second.entry != entry) return;
      it->second.timeout_timer = 0;
      it->second.timed_out = true;
      say(fmt::format("job {}: no answer within {} ms; stopping its worker", it->second.id,
                      it->second.timeout.count()));
      retire(handle);
    });
    jobs_.emplace(handle, std::move(job));
    // A worker that closed its stdin cannot take it; its exit fails the job as a crash.
    session_.write_line(handle, line);
  }

  void stop_timers(Job& job) {
    if (job.timeout_timer) session_.cancel_timer(std::exchange(job.timeout_timer, 0));
    if (job.cancel_timer) session_.cancel_timer(std::exchange(job.cancel_timer, 0));
  }

  nlohmann::json pool_body(const Job& job, const std::string& status, int handle) const {
    return {{"status", status},
            {"wall_ms", ms_since(job.picked)},
            {"pid", session_.pid(handle)},
            {"worker", handle_worker_.count(handle) ? handle_worker_.at(handle) : -1},
            {"progress_events", job.progress_sent + job.progress_dropped},
            {"progress_dropped", job.progress_dropped}};
  }

  // The worker's terminal event for its job.
  void pool_answer(int handle, const Event& ev) {
    const auto it = jobs_.find(handle);
    if (it == jobs_.end()) return;
    Job job = std::move(it->second);
    jobs_.erase(it);
    stop_timers(job);
    if (job.lease_lost) {
      say(fmt::format("job {}: answered, but another agent owns it now", job.id));
    } else {
      std::string status = "success", failure, error;
      if (ev.type == "error") {
        status = "failed";
        failure = "error";
        const std::string type = ev.body.value("type", std::string());
        const std::string message = ev.body.contains("message") && ev.body["message"].is_string()
                                        ? ev.body["message"].get<std::string>()
                                        : "";
        error = (type.empty()      ? message
                 : message.empty() ? type
                                   : type + ": " + message)
                    .substr(0, 1000);
      } else {
        const std::string said = ev.body.value("status", std::string("success"));
        if (said == "cancelled") {
          status = "cancelled";
        } else if (said != "success") {
          status = "failed";
          failure = "error";
          error = ("result status " + said).substr(0, 1000);
        }
      }
      nlohmann::json body = pool_body(job, status, handle);
      if (!failure.empty()) body["failure"] = failure;
      if (!error.empty()) body["error"] = error;
      end(job, status, failure, error, body);
      if (status == "cancelled") ++summary_.cancelled;
      say(fmt::format("job {}: {}{} in {:.0f} ms (delivery {})", job.id, status,
                      failure.empty() ? "" : " (" + failure + ": " + error + ")",
                      ms_since(job.picked), job.deliveries));
    }
    try_flush();
    tick_soon();
  }

  std::string describe_exit(const ProcessResult& res) const {
    if (res.signal) return "was killed by " + signal_name(*res.signal);
    if (res.exit_code) return "exited with code " + std::to_string(*res.exit_code);
    return "could not start" + (res.spawn_error.empty() ? "" : ": " + res.spawn_error);
  }

  void pool_exit(int handle, const ProcessResult& res) {
    const auto wit = handle_worker_.find(handle);
    if (wit == handle_worker_.end()) return;
    const int s = wit->second;
    Worker& w = workers_[static_cast<std::size_t>(s)];
    if (w.ready_timer) session_.cancel_timer(std::exchange(w.ready_timer, 0));
    if (w.stop_timer) session_.cancel_timer(std::exchange(w.stop_timer, 0));
    const bool started = w.ready;
    if (const auto it = jobs_.find(handle); it != jobs_.end()) {
      Job job = std::move(it->second);
      stop_timers(job);
      const nlohmann::json body = pool_body(job, "failed", handle);
      jobs_.erase(it);
      if (job.lease_lost) {
        say(fmt::format("job {}: stopped, another agent owns it now", job.id));
      } else if (job.handing_back) {
        hand_back(job);
      } else if (job.cancelling) {
        nlohmann::json b = body;
        b["status"] = "cancelled";
        end(job, "cancelled", "", "", b);
        ++summary_.cancelled;
        say(fmt::format("job {}: cancelled (its worker stopped)", job.id));
      } else {
        const std::string failure = job.timed_out ? "timeout" : "crash";
        const std::string error = job.timed_out
                                      ? fmt::format("no answer within {} ms", job.timeout.count())
                                      : "the worker " + describe_exit(res) + " while serving it";
        nlohmann::json b = body;
        b["failure"] = failure;
        b["error"] = error;
        end(job, "failed", failure, error, b);
        say(fmt::format("job {}: failed ({}: {})", job.id, failure, error));
      }
    }
    handle_worker_.erase(wit);
    w.handle = -1;
    w.ready = false;
    w.retiring = false;
    // Not while stopping: a stop signal to the agent's tree reaches the workers too, maybe
    // before the agent's loop saw it.
    if (!draining_ && g_stop_signals.load() == 0) {
      if (!started && ++w.start_failures >= kStartFailuresPerWorker) {
        w.dead = true;
        say(fmt::format("worker {}: {} before `ready` {} times; not started again", s,
                        describe_exit(res), w.start_failures));
        check_workers();
      } else {
        ++summary_.worker_restarts;
        say(fmt::format("worker {}: {}; starting it again", s, describe_exit(res)));
        start_worker(s);
      }
    }
    try_flush();
    tick_soon();
  }

  // Stopping with nothing left to run: the workers get EOF, and a stop after the grace.
  void close_workers() {
    if (workers_closed_) return;
    workers_closed_ = true;
    for (Worker& w : workers_) {
      if (w.ready_timer) session_.cancel_timer(std::exchange(w.ready_timer, 0));
      if (w.handle < 0) continue;
      session_.close_stdin(w.handle);
      const int h = w.handle;
      w.stop_timer = session_.call_at(Clock::now() + o_.grace + ms(1000), [this, &w, h] {
        w.stop_timer = 0;
        if (session_.running(h)) session_.stop(h);
      });
    }
  }

  // A cancel of a running job: spawn: its tree is stopped; pool: its worker is asked, and
  // stopped after the grace if the job still runs.
  void cancel(int handle, Job& job, const char* how) {
    job.cancelling = true;
    say(fmt::format("job {}: cancelled{}; stopping it", job.id, how));
    if (!o_.pool) {
      session_.stop(handle);
      return;
    }
    session_.write_line(handle, nlohmann::json{{"cancel", id_json(job.id)}}.dump());
    const std::string entry = job.entry;
    job.cancel_timer = session_.call_at(Clock::now() + o_.grace, [this, handle, entry] {
      const auto it = jobs_.find(handle);
      if (it == jobs_.end() || it->second.entry != entry) return;
      it->second.cancel_timer = 0;
      retire(handle);
    });
  }

  void say(const std::string& line) {
    if (log_ == nullptr) return;
    std::fprintf(log_, "agent %s: %s\n", o_.name.c_str(), line.c_str());
    std::fflush(log_);
  }

  void schedule(ms delay) {
    tick_timer_ = session_.call_at(Clock::now() + delay, [this] {
      tick_timer_ = 0;
      in_tick_ = true;
      tick();
      in_tick_ = false;
    });
  }

  // A slot came free: look for the next job now instead of at the next poll (a worker's
  // process ending must not cost the queue a poll interval per job).
  void tick_soon() {
    if (in_tick_ || tick_timer_ == 0 || draining_) return;
    session_.cancel_timer(tick_timer_);
    schedule(ms(0));
  }

  // --- the loop ---

  void tick() {
    const int signals = g_stop_signals.load();
    if (signals >= 1 && !draining_) {
      draining_ = true;
      drain_since_ = Clock::now();
      say(fmt::format("stopping: no new jobs, {} running to finish", jobs_.size()));
    }
    if (signals >= 2 && !handing_back_) {
      handing_back_ = true;
      say(fmt::format("stopping now: {} running job(s) stopped and handed back", jobs_.size()));
      for (auto& [handle, job] : jobs_) {
        job.handing_back = true;
        session_.stop(handle);
      }
    }
    bool more = false;
    if (ensure_connected()) {
      try {
        flush();
        renew_leases();
        read_cancel_messages();
        check_cancels();
        if (!draining_) more = take_jobs();
        flush();  // the `picked` of jobs just taken: not a poll interval later
      } catch (const RedisError& e) {
        if (e.kind() == RedisError::Kind::io)
          say(std::string("lost Redis: ") + e.what());
        else
          say(std::string("Redis refused a command: ") + e.what());
      }
    }
    if (draining_ && jobs_.empty()) {
      close_workers();
      if (outbox_.empty()) return;  // nothing runs, nothing to write: the session ends
      if (Clock::now() - drain_since_ > kDrainGiveUp) {
        say(fmt::format("gave up: Redis unreachable, {} record(s) not written", outbox_.size()));
        return;
      }
    }
    // With slots free, the next read follows at once (an empty read already waited `poll` in
    // XREADGROUP BLOCK, and a job added meanwhile wakes it). Otherwise the next look in `poll`.
    schedule(more ? ms(0) : o_.poll);
  }

  bool ensure_connected() {
    if (redis_.connected()) return true;
    if (Clock::now() < next_reconnect_) return false;
    try {
      redis_.reconnect(ms(0));
      say("reconnected to " + o_.redis.display());
      return true;
    } catch (const RedisError&) {
      next_reconnect_ = Clock::now() + ms(100);
      return false;
    }
  }

  // --- reading jobs ---

  // Takes jobs for the free slots: first those whose agent stopped renewing their lease, then
  // new ones (a read that waits up to `poll` for them). True when slots are still free, so
  // the next read may follow at once.
  bool take_jobs() {
    int free_slots =
        o_.pool ? (announced_ ? idle_workers() : 0) : o_.slots - static_cast<int>(jobs_.size());
    if (free_slots <= 0) return false;
    if (Clock::now() >= next_autoclaim_) {
      next_autoclaim_ = Clock::now() + std::min<ms>(o_.lease / 2, ms(1000));
      const RedisReply r = redis_.command({"XAUTOCLAIM", keys_.jobs, keys_.group, o_.name,
                                           std::to_string(o_.lease.count()), "0-0", "COUNT",
                                           std::to_string(free_slots)});
      for (const RedisReply& entry : r.at(1).elements) {
        if (entry.type != RedisReply::Type::array || entry.elements.size() < 2) continue;
        start(entry, true);
        --free_slots;
      }
    }
    if (free_slots <= 0) return false;
    const RedisReply r = redis_.command(
        {"XREADGROUP", "GROUP", keys_.group, o_.name, "COUNT", std::to_string(free_slots), "BLOCK",
         std::to_string(o_.poll.count()), "STREAMS", keys_.jobs, ">"});
    if (!r.is_nil())
      for (const RedisReply& stream : r.elements)
        for (const RedisReply& entry : stream.at(1).elements) start(entry, false);
    return o_.pool ? idle_workers() > 0 : o_.slots > static_cast<int>(jobs_.size());
  }

  int delivery_count(const std::string& entry) {
    const RedisReply r = redis_.command({"XPENDING", keys_.jobs, keys_.group, entry, entry, "1"});
    if (r.elements.empty()) return 1;
    return static_cast<int>(r.at(0).at(3).as_int());
  }

  void start(const RedisReply& entry, bool reclaimed) {
    Job job;
    job.entry = entry.at(0).text();
    job.reclaimed = reclaimed;
    job.picked = Clock::now();
    std::map<std::string, std::string> fields;
    const RedisReply& kv = entry.at(1);
    for (std::size_t i = 0; i + 1 < kv.elements.size(); i += 2)
      if (kv.elements[i].type == RedisReply::Type::string &&
          kv.elements[i + 1].type == RedisReply::Type::string)
        fields[kv.elements[i].str] = kv.elements[i + 1].str;
    int prior = 0;
    if (auto it = fields.find("deliveries"); it != fields.end()) {
      try {
        prior = std::max(0, std::stoi(it->second));
      } catch (const std::exception&) {
        prior = 0;
      }
    }
    job.deliveries = prior + (reclaimed ? delivery_count(job.entry) : 1);
    job.text = fields.count("job") ? fields["job"] : "";
    job.id = fields.count("id") ? fields["id"].substr(0, 64) : job.entry;

    nlohmann::json spec;
    std::string malformed;
    if (job.text.empty())
      malformed = "no `job` field";
    else if (job.text.size() > kMaxJobBytes)
      malformed = fmt::format("its job is {} bytes (at most {})", job.text.size(), kMaxJobBytes);
    else if (!is_valid_json(job.text, 64))
      malformed = "its job is not JSON (or nested over 64 levels)";
    else if (spec = nlohmann::json::parse(job.text); !spec.is_object())
      malformed = "its job is not a JSON object";
    if (!malformed.empty()) {
      dead_letter(job, "malformed entry: " + malformed);
      return;
    }
    if (spec.contains("id"))
      job.id = spec["id"].is_string() ? spec["id"].get<std::string>() : spec["id"].dump();
    if (job.deliveries > o_.max_deliveries) {
      dead_letter(job, fmt::format("delivered {} times (max_deliveries {}): the agents that "
                                   "took it stopped renewing its lease",
                                   job.deliveries, o_.max_deliveries));
      return;
    }
    if (reclaimed) ++summary_.reclaimed;
    queue({event_command(job, "picked", {{"reclaimed", reclaimed ? "1" : "0"}})}, false);

    if (o_.pool) {
      job.timeout = o_.timeout;
      if (spec.contains("timeout_ms") && spec["timeout_ms"].is_number_integer() &&
          spec["timeout_ms"].get<std::int64_t>() > 0)
        job.timeout = ms(spec["timeout_ms"].get<std::int64_t>());
      send_to_worker(std::move(job), spec);
      return;
    }
    ProcessSpec ps;
    std::string spawn_error;
    try {
      ps = process_of(spec);
    } catch (const std::exception& e) {
      spawn_error = e.what();
    }
    job.timeout = ps.timeout;
    if (!spawn_error.empty()) {
      end(job, "failed", "spawn", spawn_error,
          {{"status", "failed"}, {"failure", "spawn"}, {"error", spawn_error}});
      say(fmt::format("job {}: failed (spawn: {})", job.id, spawn_error));
      return;
    }
    say(fmt::format("job {}: {} (delivery {})", job.id, reclaimed ? "taken over" : "picked",
                    job.deliveries));
    const int handle = session_.add(ps, this);
    jobs_.emplace(handle, std::move(job));
  }

  ProcessSpec process_of(const nlohmann::json& spec) const {
    ProcessSpec ps;
    const Variables vars{
        {"INPUT", spec.contains("input") && spec["input"].is_string()
                      ? spec["input"].get<std::string>()
                      : ""},
        {"JOB", spec.contains("id")
                    ? (spec["id"].is_string() ? spec["id"].get<std::string>() : spec["id"].dump())
                    : ""},
        {"AGENT", o_.name}};
    if (spec.contains("argv")) {
      const auto& a = spec["argv"];
      if (!a.is_array() || a.empty())
        throw std::invalid_argument("the job's argv is not a non-empty array of strings");
      for (const auto& arg : a) {
        if (!arg.is_string())
          throw std::invalid_argument("the job's argv is not a non-empty array of strings");
        ps.argv.push_back(arg.get<std::string>());
      }
    } else {
      if (o_.worker.empty())
        throw std::invalid_argument("the job has no argv and the agent no --worker command");
      for (const auto& arg : o_.worker) ps.argv.push_back(expand_variables(arg, vars));
    }
    ps.timeout = o_.timeout;
    if (spec.contains("timeout_ms") && spec["timeout_ms"].is_number_integer() &&
        spec["timeout_ms"].get<std::int64_t>() > 0)
      ps.timeout = ms(spec["timeout_ms"].get<std::int64_t>());
    if (spec.contains("env")) {
      if (!spec["env"].is_object())
        throw std::invalid_argument("the job's env is not an object of strings");
      for (const auto& [k, v] : spec["env"].items()) {
        if (!v.is_string() || k.empty() || k.find('=') != std::string::npos)
          throw std::invalid_argument("the job's env is not an object of strings");
        ps.env[k] = v.get<std::string>();
      }
    }
    if (spec.contains("cwd")) {
      if (!spec["cwd"].is_string()) throw std::invalid_argument("the job's cwd is not a string");
      ps.cwd = spec["cwd"].get<std::string>();
    }
    ps.grace = o_.grace;
    return ps;
  }

  // --- leases and cancels ---

  void renew_leases() {
    if (jobs_.empty() || Clock::now() < next_renew_) return;
    next_renew_ = Clock::now() + o_.lease / 3;
    std::vector<Command> commands;
    std::vector<int> handles;
    for (const auto& [handle, job] : jobs_) {
      if (job.lease_lost) continue;
      commands.push_back({"EVAL", kRenewScript, "1", keys_.jobs, keys_.group, o_.name, job.entry});
      handles.push_back(handle);
    }
    const std::vector<RedisReply> replies = redis_.pipeline(commands);
    for (std::size_t i = 0; i < replies.size() && i < handles.size(); ++i) {
      if (replies[i].type != RedisReply::Type::integer || replies[i].integer != 0) continue;
      Job& job = jobs_.at(handles[i]);
      job.lease_lost = true;
      say(fmt::format("job {}: lease lost (another agent took it over); stopping it", job.id));
      session_.stop(handles[i]);
    }
  }

  // The job ids published on the cancel channel: a running one is stopped now.
  void read_cancel_messages() {
    if (!cancels_.connected()) {
      if (Clock::now() < next_subscribe_) return;
      try {
        cancels_.reconnect(ms(0));
      } catch (const RedisError&) {
        next_subscribe_ = Clock::now() + ms(100);
        return;
      }
      next_cancel_check_ = Clock::now();  // what was published meanwhile: the keys say
    }
    std::vector<std::string> ids;
    try {
      ids = cancels_.messages();
    } catch (const RedisError&) {
      return;  // reconnected at the next tick
    }
    for (const std::string& id : ids)
      for (auto& [handle, job] : jobs_) {
        if (job.id != id || job.cancelling || job.handing_back || job.lease_lost) continue;
        cancel(handle, job, " (published)");
      }
  }

  void check_cancels() {
    if (jobs_.empty() || Clock::now() < next_cancel_check_) return;
    next_cancel_check_ = Clock::now() + kCancelCheck;
    Command mget{"MGET"};
    std::vector<int> handles;
    for (const auto& [handle, job] : jobs_) {
      if (job.cancelling || job.handing_back || job.lease_lost) continue;
      mget.push_back(keys_.cancel(job.id));
      handles.push_back(handle);
    }
    if (handles.empty()) return;
    const RedisReply r = redis_.command(mget);
    for (std::size_t i = 0; i < handles.size() && i < r.elements.size(); ++i) {
      if (r.elements[i].is_nil()) continue;
      cancel(handles[i], jobs_.at(handles[i]), "");
    }
  }

  // --- writing ---

  Command event_command(const Job& job, const std::string& type,
                        std::vector<std::pair<std::string, std::string>> extra) const {
    Command c{"XADD",
              keys_.events,
              "*",
              "job",
              job.id,
              "agent",
              o_.name,
              "type",
              type,
              "entry",
              job.entry,
              "deliveries",
              std::to_string(job.deliveries),
              "t_ms",
              fixed(ms_since(job.picked))};
    for (auto& [k, v] : extra) {
      c.push_back(std::move(k));
      c.push_back(std::move(v));
    }
    return c;
  }

  // The terminal record and the acknowledgement in one transaction.
  void end(const Job& job, const std::string& status, const std::string& failure,
           const std::string& error, const nlohmann::json& body) {
    queue({{"MULTI"},
           event_command(
               job, "end",
               {{"status", status},
                {"failure", failure},
                {"error", error},
                {"body", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}}),
           {"XACK", keys_.jobs, keys_.group, job.entry},
           {"DEL", keys_.cancel(job.id)},
           {"EXEC"}},
          true);
    ++summary_.jobs;
  }

  void dead_letter(const Job& job, const std::string& reason) {
    say(fmt::format("job {}: dead-lettered ({})", job.id, reason));
    queue({{"MULTI"},
           {"XADD", keys_.dead, "*", "entry", job.entry, "id", job.id, "job", job.text,
            "deliveries", std::to_string(job.deliveries), "reason", reason, "agent", o_.name},
           event_command(job, "end",
                         {{"status", "failed"}, {"failure", "dead_letter"}, {"error", reason}}),
           {"XACK", keys_.jobs, keys_.group, job.entry},
           {"EXEC"}},
          true);
    ++summary_.dead_lettered;
  }

  // Re-adds the job with the deliveries it had before this one (a hand-back is not held
  // against it) and acknowledges this delivery, in one transaction.
  void hand_back(const Job& job) {
    queue({{"MULTI"},
           {"XADD", keys_.jobs, "*", "id", job.id, "job", job.text, "deliveries",
            std::to_string(job.deliveries - 1), "handed_back_by", o_.name},
           event_command(job, "handed_back", {}),
           {"XACK", keys_.jobs, keys_.group, job.entry},
           {"EXEC"}},
          true);
    ++summary_.handed_back;
    say(fmt::format("job {}: handed back", job.id));
  }

  void queue(std::vector<Command> group, bool terminal) {
    if (!terminal && outbox_.size() >= kMaxQueuedEvents) {
      ++dropped_events_;
      return;
    }
    outbox_.push_back(std::move(group));
  }

  // Sends what waits, in order, in one round trip. On a lost connection everything stays
  // queued and goes again after the reconnect: a record may then be written twice (the
  // coordinator keeps the first terminal one), never lost.
  void flush() {
    if (outbox_.empty()) return;
    std::vector<Command> all;
    for (const auto& group : outbox_) all.insert(all.end(), group.begin(), group.end());
    const std::vector<RedisReply> replies = redis_.pipeline(all);
    for (const RedisReply& r : replies)
      if (r.type == RedisReply::Type::error) say("Redis refused a record: " + r.str);
    outbox_.clear();
  }

  void try_flush() {
    if (!redis_.connected()) return;
    try {
      flush();
    } catch (const RedisError& e) {
      say(std::string("lost Redis: ") + e.what());
    }
  }

  const AgentOptions& o_;
  QueueKeys keys_;
  Session session_;
  std::FILE* log_;
  RedisClient redis_;
  RedisClient cancels_;               // subscribed to the cancel channel
  std::map<int, Job> jobs_;           // by process handle (pool: the worker's)
  std::vector<Worker> workers_;       // pool
  std::map<int, int> handle_worker_;  // pool: a worker's handle -> its slot
  bool announced_ = false, workers_closed_ = false;
  std::deque<std::vector<Command>> outbox_;
  std::uint64_t dropped_events_ = 0;
  AgentSummary summary_;
  bool draining_ = false, handing_back_ = false, in_tick_ = false;
  std::uint64_t tick_timer_ = 0;
  Clock::time_point drain_since_, next_reconnect_, next_autoclaim_, next_renew_, next_cancel_check_,
      next_subscribe_;
};

}  // namespace

AgentSummary run_agent(const AgentOptions& options, std::FILE* log) {
  if (options.name.empty()) throw std::invalid_argument("an agent needs a --name");
  if (options.slots < 1) throw std::invalid_argument("--slots must be at least 1");
  if (options.lease < ms(100)) throw std::invalid_argument("--lease must be at least 100ms");
  if (options.max_deliveries < 1) throw std::invalid_argument("--max-deliveries must be >= 1");
  const Watchdog watchdog;  // the workers go with the agent, even when it is SIGKILLed
  Supervisor supervisor;
  Agent agent(supervisor, options, log);
  g_stop_signals.store(0);
  struct sigaction sa {
  }, old_term{}, old_int{};
  sa.sa_handler = on_stop_signal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, &old_term);
  ::sigaction(SIGINT, &sa, &old_int);
  AgentSummary summary;
  try {
    summary = agent.run();
  } catch (...) {
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGINT, &old_int, nullptr);
    throw;
  }
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  return summary;
}

}  // namespace harness
