// Sessions against real processes: long-lived workers fed line by line (fault_worker --mode
// serve), restarts after a crash, stopping a stuck worker, timers, and the stop rules (a dying
// child of a stopped worker is not a leftover; a second cancel cuts the grace short).

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/supervise/supervisor.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

using namespace std::chrono_literals;
using test::fault;
using test::survivors;

ProcessSpec serve(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--mode", "serve"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessSpec s = fault(args);
  s.stdin_open = true;
  return s;
}

std::string job_line(int id) {
  return "{\"id\":" + std::to_string(id) + "}";
}

// Feeds `jobs` jobs one at a time: the next line goes out when the previous result came back.
class Feeder : public ProcessObserver {
 public:
  Feeder(Session& s, int jobs) : s_(s), jobs_(jobs) {}
  void on_event(int h, const Event& e) override {
    if (e.type == "ready") {
      send(h);
    } else if (e.type == "result") {
      results.push_back(e.body.at("job").get<int>());
      if (next_ <= jobs_) {
        send(h);
      } else {
        s_.close_stdin(h);
      }
    }
  }
  void send(int h) { ASSERT_TRUE(s_.write_line(h, job_line(next_++))); }
  std::vector<int> results;

 private:
  Session& s_;
  int jobs_;
  int next_ = 1;
};

TEST(session_test, a_long_lived_worker_answers_line_after_line) {
  Supervisor sup;
  Session session(sup);
  Feeder feeder(session, 50);
  const int h = session.add(serve(), &feeder);
  session.run();
  const ProcessResult& r = session.result(h);
  EXPECT_TRUE(r.spawn_error.empty()) << r.spawn_error;
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);  // EOF on stdin ends it
  std::vector<int> want;
  for (int i = 1; i <= 50; ++i) want.push_back(i);
  EXPECT_EQ(feeder.results, want);
  EXPECT_EQ(session.stdin_queued_bytes(h), 0u);
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(session_test, write_line_is_refused_without_an_open_stdin) {
  Supervisor sup;
  Session session(sup);
  ProcessSpec spec = fault({"--mode", "hang"});
  spec.timeout = 200ms;
  const int h = session.add(spec);
  EXPECT_FALSE(session.write_line(h, job_line(1)));  // not started yet
  session.call_at(Session::Clock::now() + 50ms,
                  [&] { EXPECT_FALSE(session.write_line(h, job_line(1))); });  // no pipe
  session.run();
  EXPECT_TRUE(session.result(h).timed_out);
}

// Restarts a worker that crashed and re-sends the job it had, like a pool.
class Restarter : public ProcessObserver {
 public:
  Restarter(Session& s, int jobs) : s_(s), jobs_(jobs) {}
  void on_event(int h, const Event& e) override {
    if (e.type == "ready") {
      send(h);
    } else if (e.type == "result") {
      done.push_back(e.body.at("job").get<int>());
      ++next_;
      if (next_ <= jobs_)
        send(h);
      else
        s_.close_stdin(h);
    }
  }
  void on_exit(int, const ProcessResult& r) override {
    exits.push_back(r);
    if (next_ <= jobs_) s_.add(serve(), this);  // restarted: the lost job goes again
  }
  void send(int h) { ASSERT_TRUE(s_.write_line(h, job_line(next_))); }
  std::vector<int> done;
  std::vector<ProcessResult> exits;

 private:
  Session& s_;
  int jobs_;
  int next_ = 1;
};

TEST(session_test, a_worker_that_crashes_on_a_job_is_restarted_and_the_job_retried) {
  Supervisor sup;
  Session session(sup);
  Restarter r(session, 5);
  session.add(serve({"--crash-on", "3"}), &r);
  session.run();
  ASSERT_EQ(r.exits.size(), 2u);
  ASSERT_TRUE(r.exits[0].signal.has_value());
  EXPECT_EQ(*r.exits[0].signal, SIGABRT);
  ASSERT_TRUE(r.exits[1].exit_code.has_value());
  EXPECT_EQ(*r.exits[1].exit_code, 0);
  EXPECT_EQ(r.done, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(session.size(), 2u);
  for (const auto& e : r.exits) EXPECT_TRUE(survivors(e.pid).empty());
}

TEST(session_test, a_stuck_worker_is_stopped_with_its_tree) {
  Supervisor sup;
  Session session(sup);
  ProcessSpec spec = serve({"--hang-on", "1"});
  spec.grace = 500ms;
  struct Timeout : ProcessObserver {
    Session& s;
    explicit Timeout(Session& x) : s(x) {}
    void on_event(int h, const Event& e) override {
      if (e.type != "ready") return;
      s.write_line(h, job_line(1));
      s.call_at(Session::Clock::now() + 200ms, [this, h] { s.stop(h); });  // the job timeout
    }
  } timeout(session);
  const int h = session.add(spec, &timeout);
  session.run();
  const ProcessResult& r = session.result(h);
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.timed_out);
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGTERM);
  EXPECT_EQ(r.kill_signal, "SIGTERM");
  EXPECT_TRUE(r.kill_latency_ms.has_value());
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(session_test, a_cancel_line_stops_the_running_job_and_the_worker_serves_on) {
  Supervisor sup;
  Session session(sup);
  struct Canceller : ProcessObserver {
    Session& s;
    std::vector<std::string> statuses;
    explicit Canceller(Session& x) : s(x) {}
    void on_event(int h, const Event& e) override {
      if (e.type == "ready") {
        s.write_line(h, R"({"id":1,"work_ms":60000})");
        s.call_at(Session::Clock::now() + 100ms, [this, h] { s.write_line(h, R"({"cancel":1})"); });
      } else if (e.type == "result") {
        statuses.push_back(e.body.at("status").get<std::string>());
        if (statuses.size() == 1)
          s.write_line(h, R"({"id":2})");
        else
          s.close_stdin(h);
      }
    }
  } c(session);
  const int h = session.add(serve(), &c);
  session.run();
  EXPECT_EQ(c.statuses, (std::vector<std::string>{"cancelled", "success"}));
  ASSERT_TRUE(session.result(h).exit_code.has_value());
  EXPECT_EQ(*session.result(h).exit_code, 0);
}

TEST(session_test, timers_fire_in_order_and_a_cancelled_one_never) {
  Supervisor sup;
  Session session(sup);
  std::vector<int> fired;
  const auto now = Session::Clock::now();
  session.call_at(now + 30ms, [&] { fired.push_back(2); });
  session.call_at(now + 10ms, [&] { fired.push_back(1); });
  const auto id = session.call_at(now + 20ms, [&] { fired.push_back(99); });
  session.call_at(now - 1s, [&] { fired.push_back(0); });  // past: at once
  session.cancel_timer(id);
  session.run();
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2}));
}

// A timed-out `sh -c "sleep 30; echo done"`: the group gets SIGTERM, sh is reaped, and its
// sleeping child dies of the same SIGTERM a moment later. That child is not a leftover.
TEST(session_test, a_child_dying_of_the_stop_signal_is_not_a_leftover) {
  Supervisor sup;
  for (int i = 0; i < 20; ++i) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "sleep 30; echo done"};
    spec.timeout = 100ms;
    spec.grace = 5s;
    const auto results = sup.run({spec});
    const ProcessResult& r = results.at(0);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.leftover_processes, 0) << "run " << i;
    EXPECT_EQ(r.kill_signal, "SIGTERM") << "run " << i;
    ASSERT_TRUE(r.kill_latency_ms.has_value());
    EXPECT_LT(*r.kill_latency_ms, 4000.0) << "run " << i;  // not the 5 s grace
    EXPECT_TRUE(survivors(r.pid).empty());
  }
}

TEST(session_test, a_second_cancel_cuts_the_grace_short) {
  Supervisor sup;
  ProcessSpec spec = fault({"--mode", "ignore-term", "--children", "2"});
  spec.grace = 60s;
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    sup.cancel();
    std::this_thread::sleep_for(300ms);
    sup.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto results = sup.run({spec});
  canceller.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ProcessResult& r = results.at(0);
  EXPECT_TRUE(r.cancelled);
  ASSERT_TRUE(r.signal.has_value());
  EXPECT_EQ(*r.signal, SIGKILL);
  EXPECT_EQ(r.kill_signal, "SIGKILL");
  EXPECT_LT(s, 20.0);  // far from the 60 s grace
  EXPECT_TRUE(survivors(r.pid).empty());
}

TEST(session_test, a_working_directory_that_is_a_file_says_so) {
  const auto file =
      std::filesystem::temp_directory_path() / ("session_test_file_" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  Supervisor sup;
  ProcessSpec spec;
  spec.argv = {"/bin/true"};
  spec.cwd = file.string();
  const auto r = sup.run({spec}).at(0);
  EXPECT_NE(r.spawn_error.find("Not a directory"), std::string::npos) << r.spawn_error;
  std::filesystem::remove(file);
}

TEST(session_test, a_session_destroyed_early_leaves_no_process) {
  Supervisor sup;
  int pid = -1;
  {
    Session session(sup);
    const int h = session.add(fault({"--mode", "ignore-term", "--children", "3"}));
    // Run the loop just long enough for the worker to start and fork.
    session.call_at(Session::Clock::now() + 300ms, [&] {
      pid = session.pid(h);
      throw std::runtime_error("unwind");
    });
    EXPECT_THROW(session.run(), std::runtime_error);
  }
  ASSERT_GT(pid, 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(survivors(pid).empty());
}

}  // namespace
}  // namespace harness
