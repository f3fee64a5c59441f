// Queue mode: each job goes to a Redis stream when it arrives and is served by the run's agents
// (`harness agent`, one slot each, supervised here like pool workers); their records come back
// on the events stream (queue/queue_keys.hpp), read every kQueuePoll (job_stream_impl.hpp).
//
// A job's attempt is its stream entry. `picked` makes it dispatched (queue_wait is arrival to
// pickup: the broker and the wait for a free agent), its first `end` ends it (later ones are
// duplicates), a failure is retried with a new entry as in the other modes. A job no agent
// answers for any more (picked, then silent past its timeout, grace and two leases; or, once no
// record came at all for that long, every job still open) is lost.
#include <unistd.h>

#include <atomic>

#include <fmt/format.h>

#include "harness/core/json_validator.hpp"
#include "harness/jobs/job_stream_impl.hpp"

namespace harness::detail {

namespace {

std::atomic<int> g_queues{0};  // a fresh queue per stream (a peak search runs many)

Clock::duration silence_limit(const JobsSpec& spec, std::chrono::milliseconds grace) {
  return spec.timeout + grace + 2 * spec.queue.lease + std::chrono::seconds(10);
}

}  // namespace

void JobStream::queue_start() {
  RedisEndpoint endpoint;
  if (spec_.queue.redis == "auto") {
    PrivateRedisOptions o;
    o.dir = plan_.queue_dir;
    broker_ = std::make_unique<PrivateRedis>(o);
    endpoint = broker_->endpoint();
    redis_url_ = "unix://" + endpoint.unix_path;
  } else {
    std::string why;
    const auto parsed = parse_redis_url(spec_.queue.redis, why);
    if (!parsed) throw std::invalid_argument("jobs.queue.redis: " + why);
    endpoint = *parsed;
    redis_url_ = spec_.queue.redis;
  }
  redis_ = std::make_unique<RedisClient>(endpoint, std::chrono::milliseconds(2000),
                                         std::chrono::milliseconds(2000));
  queue_name_ = spec_.queue.name.empty()
                    ? fmt::format("run{}-{}", ::getpid(), g_queues.fetch_add(1))
                    : spec_.queue.name;
  keys_ = std::make_unique<QueueKeys>(queue_name_);
  try {
    redis_->command({"XGROUP", "CREATE", keys_->jobs, keys_->group, "0", "MKSTREAM"});
  } catch (const RedisError& e) {
    // A named queue's agents may have made the group already.
    if (std::string(e.what()).find("BUSYGROUP") == std::string::npos) throw;
  }
  if (!spec_.queue.name.empty()) {
    // A named queue may hold an earlier run's records: this run's start after the newest.
    const RedisReply last = redis_->command({"XREVRANGE", keys_->events, "+", "-", "COUNT", "1"});
    if (!last.elements.empty()) events_last_ = last.at(0).at(0).text();
  }
  queue_activity_ = Clock::now();
  poll_timer_ = session_.call_at(Clock::now() + kQueuePoll, [this] { poll_queue(); });
}

bool JobStream::enqueue(std::size_t j) {
  JobRecord& r = records_[j];
  Live& l = live_[j];
  nlohmann::json job{{"id", r.id}, {"input", r.input}, {"timeout_ms", spec_.timeout.count()}};
  try {
    if (spec_.queue.agent_mode == "pool") {
      job["line"] = plan_.pool_line(r);  // for the agent's persistent worker
    } else {
      const ProcessSpec ps = plan_.spawn_process(r);
      job["argv"] = ps.argv;
      if (!ps.env.empty()) job["env"] = ps.env;
      if (!ps.cwd.empty()) job["cwd"] = ps.cwd;
    }
  } catch (const std::exception& e) {
    fail(j, "spawn", bounded(e.what()));
    return true;
  }
  try {
    const RedisReply id =
        redis_->command({"XADD", keys_->jobs, "*", "id", std::to_string(r.id), "job",
                         job.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    l.entry = id.text();
  } catch (const RedisError&) {
    // Away (a restart): the job waits, as a host would retry its submit; the wait counts.
    pending_.push_front(j);
    return false;
  }
  entry_job_[l.entry] = j;
  l.queued = true;
  l.picked = false;
  l.activity = Clock::now();
  return true;
}

void JobStream::poll_queue() {
  poll_timer_ = 0;
  if (finishing_) return;
  try {
    if (!redis_->connected()) redis_->reconnect(std::chrono::milliseconds(0));
    const RedisReply r =
        redis_->command({"XREAD", "COUNT", "1000", "STREAMS", keys_->events, events_last_});
    if (!r.is_nil()) {
      for (const RedisReply& entry : r.at(0).at(1).elements) {
        events_last_ = entry.at(0).text();
        std::map<std::string, std::string> rec;
        const RedisReply& kv = entry.at(1);
        for (std::size_t i = 0; i + 1 < kv.elements.size(); i += 2)
          rec[kv.elements[i].str] = kv.elements[i + 1].str;
        queue_activity_ = Clock::now();
        queue_record(rec);
      }
    }
  } catch (const RedisError&) {
    // The broker is away (a restart): the records wait in its stream; read them once it is back.
  }
  check_lost();
  try_dispatch();
  maybe_finish();
  if (!finishing_ && !interrupted_)
    poll_timer_ = session_.call_at(Clock::now() + kQueuePoll, [this] { poll_queue(); });
}

void JobStream::queue_record(const std::map<std::string, std::string>& rec) {
  auto field = [&rec](const char* k) {
    const auto it = rec.find(k);
    return it == rec.end() ? std::string() : it->second;
  };
  const std::string type = field("type");
  const auto it = entry_job_.find(field("entry"));
  if (it == entry_job_.end()) {
    if (type == "end") ++stray_;
    return;
  }
  const std::size_t j = it->second;
  JobRecord& r = records_[j];
  Live& l = live_[j];
  if (l.entry != field("entry") || !r.status.empty() || !l.queued) {
    // An earlier attempt's entry, or a job already ended: a second terminal record.
    if (type == "end") ++duplicates_;
    return;
  }
  l.activity = Clock::now();
  r.agent = field("agent").substr(0, 64);
  if (r.agent.rfind("agent", 0) == 0) {  // the run's agents are named agent<slot>
    try {
      r.worker = std::stoi(r.agent.substr(5));
    } catch (const std::exception&) {
    }
  }
  try {
    r.deliveries = std::stoi(field("deliveries"));
  } catch (const std::exception&) {
  }
  if (type == "picked") {
    if (l.reclaim_from && field("reclaimed") == "1") {  // taken over after its agent's kill
      reclaim_ms_.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - *l.reclaim_from).count());
      l.reclaim_from.reset();
    }
    if (!l.picked) {
      l.picked = true;
      begin_attempt(j);  // dispatched at pickup; a takeover is not a new attempt
    }
    return;
  }
  if (type != "end") {
    if (r.first_event_ms < 0) r.first_event_ms = now_ms();
    if (type == "progress") ++r.progress;
    return;
  }
  if (!l.picked) {  // dead-lettered without running
    l.picked = true;
    begin_attempt(j);
  }
  l.queued = false;
  // Anyone who can write to the broker can write here: bounded and validated before parsing.
  const std::string& body_text = field("body");
  const nlohmann::json body = body_text.size() <= 65536 && is_valid_json(body_text, 16)
                                  ? nlohmann::json::parse(body_text, nullptr, false)
                                  : nlohmann::json();
  if (body.is_object() && body.contains("pid") && body["pid"].is_number_integer())
    r.pid = body["pid"].get<int>();
  const std::string status = field("status");
  if (status == "success" || status == "cancelled")
    finish(j, status);
  else
    fail(j, field("failure").empty() ? "error" : field("failure"), bounded(field("error")));
}

void JobStream::queue_cancel(std::size_t j) {
  try {
    // The key is the record (an agent subscribed later still sees it); the message is the
    // fast path, so the job's agent stops it without waiting for its next look at the keys.
    const std::string id = std::to_string(records_[j].id);
    redis_->pipeline({{"SET", keys_->cancel(id), "1"}, {"PUBLISH", keys_->cancel_channel, id}});
  } catch (const RedisError&) {
    // The cancel is lost with the broker; the job ends as it would have.
  }
}

void JobStream::check_lost() {
  const auto now = Clock::now();
  const auto limit = silence_limit(spec_, plan_.cancel_grace);
  const bool all_silent = now - queue_activity_ > limit;
  for (std::size_t j = 0; j < records_.size(); ++j) {
    Live& l = live_[j];
    if (!l.queued) continue;
    if (!(all_silent || (l.picked && now - l.activity > limit))) continue;
    l.queued = false;
    stop_timers(j);
    records_[j].error =
        fmt::format("no record from any agent for {} s",
                    std::chrono::duration_cast<std::chrono::seconds>(limit).count());
    ++ended_;  // ended without a status: counted as lost
  }
}

}  // namespace harness::detail
