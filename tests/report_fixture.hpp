#pragma once
// Hand-made RunReports for the report tests: the seed scenarios (success, error captured,
// memory, concurrency, timeout), a matrix series, a failing and an erroring scenario, plus a
// hostile one whose worker printed bytes meant to break every format. Numbers are chosen so the
// expected figures can be worked out by hand (see the comments).

#include <cstdint>
#include <string>
#include <utility>

#include "harness/core/result.hpp"

namespace harness::testing {

inline Event make_event(double t_ms, nlohmann::json body) {
  Event e;
  e.t_ms = t_ms;
  e.type = body.value("event", "");
  e.body = std::move(body);
  return e;
}

inline Event result_event(double t_ms, int frames, double fps, int detections) {
  return make_event(t_ms, {{"event", "result"},
                           {"status", "success"},
                           {"frames_processed", frames},
                           {"fps", fps},
                           {"detections", detections}});
}

// baseline 20480 KiB (20.0 MiB) -> ready 204800 (200.0 MiB) -> peak 235520 (230.0 MiB);
// PSS/USS read every 5th tick. Samples every 100 ms up to `wall_s`.
inline MemoryStats yolo_memory(double wall_s, double ready_ms) {
  MemoryStats m;
  m.baseline_rss_kib = 20480;
  m.ready_rss_kib = 204800;
  m.ready_pss_kib = 190000;
  m.ready_uss_kib = 170000;
  m.peak_rss_kib = 235520;
  m.peak_pss_kib = 200000;
  m.peak_uss_kib = 180000;
  m.hwm_kib = 235520;
  m.maxrss_kib = 235520;
  for (int i = 0; i * 100.0 <= wall_s * 1000; ++i) {
    MemorySample s;
    s.t_ms = i * 100.0;
    s.rss_kib = s.t_ms < ready_ms ? 20480 : (i % 4 == 0 ? 235520 : 215000);
    if (i % 5 == 0) {
      s.pss_kib = s.rss_kib - 30000 > 0 ? s.rss_kib - 30000 : 1000;
      s.uss_kib = s.rss_kib - 50000 > 0 ? s.rss_kib - 50000 : 800;
    }
    s.processes = 1;
    m.samples.push_back(s);
  }
  return m;
}

struct RowMemory {
  std::int64_t rss_kib, pss_kib, uss_kib;
};
inline ProcessRow process_row(int pid, int ppid, std::string name, std::string argv0, RowMemory m,
                              double cpu_ms, double cpu_pct, int threads) {
  ProcessRow r;
  r.pid = pid;
  r.ppid = ppid;
  r.name = std::move(name);
  r.argv0 = std::move(argv0);
  r.rss_kib = m.rss_kib;
  r.pss_kib = m.pss_kib;
  r.uss_kib = m.uss_kib;
  r.cpu_ms = cpu_ms;
  r.cpu_pct = cpu_pct;
  r.threads = threads;
  return r;
}

inline ProcessResult yolo_instance(int index, double wall_s, double fps) {
  ProcessResult p;
  p.index = index;
  p.pid = 4242 + index;
  p.argv = {"yolo_worker", "--input", "street.avi", "--output",
            "/tmp/out/" + std::to_string(index) + "/result.json"};
  p.out_dir = "/tmp/out/" + std::to_string(index);
  p.ready_ms = 212.4;
  p.wall_s = wall_s;
  p.exit_code = 0;
  p.events = {make_event(5, {{"event", "started"}, {"worker", "yolo_worker"}, {"pid", p.pid}}),
              make_event(212.4, {{"event", "ready"}, {"load_ms", 207.0}}),
              make_event(600, {{"event", "progress"}, {"done", 40}, {"total", 100}}),
              make_event(900, {{"event", "progress"}, {"done", 80}, {"total", 100}}),
              result_event(wall_s * 1000 - 5, 100, fps, 311)};
  p.out.bytes = 400;
  p.out.lines = 5;
  p.out.tail = "{\"event\":\"started\"}\n";
  p.memory = yolo_memory(wall_s, 212.4);
  return p;
}

inline ScenarioResult scenario(std::string name, std::string status) {
  ScenarioResult s;
  s.file = "scenarios/core/" + name + ".yaml";
  s.name = std::move(name);
  s.status = std::move(status);
  s.labels = {"core"};
  s.duration_s = 1.5;
  return s;
}

inline RunReport seed_report() {
  RunReport r;
  r.harness_version = "0.1.0";
  r.command = {"harness", "run", "scenarios/core"};
  r.host = {"testhost", "Linux 6.1.0", "Test CPU @ 2.0GHz", 2, 8000000};
  r.started_at = "2026-11-25T10:00:00Z";
  r.finished_at = "2026-11-25T10:00:42Z";
  r.duration_s = 42.5;
  r.harness_rss_before_kib = 12288;  // 12.0 MiB
  r.harness_rss_after_kib = 12800;   // 12.5 MiB
  r.harness_rss_peak_kib = 13312;    // 13.0 MiB

  {  // exit 0 in 1.234 s, 100 frames, 311 detections, 8.1 fps
    ScenarioResult s = scenario("success", "pass");
    s.description = "One YOLO worker returns a parseable result.";
    s.expect = {{"exit_code", 0}, {"status", "success"}, {"result", {{"frames_processed", 100}}}};
    ScenarioRun run;
    run.wall_s = 1.25;
    run.instances.push_back(yolo_instance(0, 1.234, 8.1));
    // 1.23 s of CPU in 1.234 s: one busy core, the busiest second all of it.
    CpuStats& cpu = run.instances.back().cpu;
    cpu.user_s = 1.1;
    cpu.system_s = 0.13;
    cpu.utilisation_pct = 99.7;
    cpu.peak_utilisation_pct = 100;
    cpu.threads_max = 3;
    cpu.processes_max = 2;
    // At its PSS peak, 0.9 s after spawn: the worker (2 threads) and a decoder it forked.
    cpu.at_peak = ProcessSnapshot{
        900,
        {process_row(4242, 1, "yolo_worker", "/opt/bin/yolo_worker", {204800, 160000, 150000}, 1100,
                     95, 2),
         process_row(4243, 4242, "decoder", "/opt/bin/decoder", {10240, 8192, 6144}, 130, -1, 1)}};
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {  // exit 3 with an error event
    ScenarioResult s = scenario("bad_input", "pass");
    s.expect = {{"exit_code", 3}};
    ScenarioRun run;
    run.wall_s = 0.05;
    ProcessResult p;
    p.pid = 5000;
    p.argv = {"yolo_worker", "--input", "/x.avi"};
    p.wall_s = 0.05;
    p.exit_code = 3;
    p.events = {make_event(
        40, {{"event", "error"}, {"type", "InputNotFound"}, {"message", "cannot open /x.avi"}})};
    p.err.bytes = 26;
    p.err.lines = 1;
    p.err.tail = "error: cannot open /x.avi\n";
    p.memory.peak_rss_kib = 15000;
    p.memory.samples = {{0, 14000, -1, -1, 1}, {10, 15000, 12000, 9000, 1}};
    run.instances.push_back(p);
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {  // memory added 180.0 MiB; PSS 195.3 MiB, USS 175.8 MiB
    ScenarioResult s = scenario("memory", "pass");
    s.expect = {{"peak_rss_max", "600MiB"}, {"memory_added_max", "400MiB"}};
    ScenarioRun run;
    run.wall_s = 1.3;
    run.instances.push_back(yolo_instance(0, 1.25, 8.0));
    // One process: 230.0 MiB RSS, 195.3 MiB PSS, 175.8 MiB USS at its peak, 2 s of CPU.
    run.instances.back().cpu.at_peak =
        ProcessSnapshot{1200,
                        {process_row(6000, 1, "yolo_worker", "yolo_worker",
                                     {235520, 200000, 180000}, 2000, 99, 1)}};
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {  // 3 x 100 frames in 12.5 s = 24.0 fps; walls 12.3/12.4/12.5 -> p95 12.5 s
    ScenarioResult s = scenario("concurrency", "pass");
    ScenarioRun run;
    run.params = {{"instances", 3}};
    run.wall_s = 12.5;
    run.instances = {yolo_instance(0, 12.3, 8.1), yolo_instance(1, 12.4, 8.0),
                     yolo_instance(2, 12.5, 7.9)};
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {  // SIGKILL after 2.003 s, 1.2 ms kill latency
    ScenarioResult s = scenario("timeout", "pass");
    s.expect = {{"timed_out", true}};
    ScenarioRun run;
    run.wall_s = 2.003;
    ProcessResult p;
    p.pid = 6000;
    p.argv = {"fault_worker", "--mode", "hang"};
    p.wall_s = 2.003;
    p.signal = 9;
    p.timed_out = true;
    p.kill_latency_ms = 1.2;
    p.kill_signal = "SIGKILL";
    p.memory.peak_rss_kib = 3000;
    run.instances.push_back(p);
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {  // throughput 100/1.3 = 76.9, 200/2.5 = 80.0, 300/3.8 = 78.9 fps
    ScenarioResult s = scenario("scaling", "pass");
    s.matrix = {{"instances", {1, 2, 3}}};
    const std::vector<std::vector<double>> walls = {{1.25}, {2.4, 2.45}, {3.6, 3.7, 3.75}};
    const double run_walls[] = {1.3, 2.5, 3.8};
    for (int n = 1; n <= 3; ++n) {
      ScenarioRun run;
      run.params = {{"instances", n}};
      run.wall_s = run_walls[n - 1];
      for (int i = 0; i < n; ++i) run.instances.push_back(yolo_instance(i, walls[n - 1][i], 8.0));
      s.runs.push_back(run);
    }
    r.scenarios.push_back(s);
  }
  {  // instance 1 fails; the second failure names both instances
    ScenarioResult s = scenario("distinct_outputs", "fail");
    ScenarioRun run;
    run.wall_s = 1.3;
    run.instances = {yolo_instance(0, 1.2, 8.0), yolo_instance(1, 0.3, 8.0)};
    ProcessResult& bad = run.instances[1];
    bad.exit_code = 4;
    bad.events.push_back(
        make_event(250, {{"event", "error"}, {"type", "ModelError"}, {"message", "bad model"}}));
    run.failures = {"instance 1: exit_code expected 0, got 4",
                    "outputs not distinct: instance 0 and instance 1 wrote /tmp/same.json"};
    s.failures = run.failures;
    s.runs.push_back(run);
    r.scenarios.push_back(s);
  }
  {
    ScenarioResult s = scenario("missing_worker", "error");
    s.error = "worker program 'nope' not found on PATH: install it or fix worker.command";
    s.duration_s = 0.001;
    r.scenarios.push_back(s);
  }
  return r;
}

// Bytes a hostile worker might print: invalid UTF-8, a UTF-16 surrogate, NUL and other
// control characters, an ANSI colour code, a CDATA terminator and markup.
inline const std::string kHostileText =
    std::string(
        "ok \xff\xfe bad \xed\xa0\x80 surrogate \xc0\xaf overlong\x01\x02\x1b[31m red ]]> "
        "<script>alert('x')</script> & \"q\" \xef\xbf\xbe end\r\n") +
    std::string("nul:\0:", 6) + "trunc\xe2\x82";

inline RunReport hostile_report() {
  RunReport r = seed_report();
  r.scenarios.resize(1);
  ScenarioResult& s = r.scenarios[0];
  s.name = "<b>hostile</b> ]]>";
  s.description = kHostileText;
  s.labels = {kHostileText};
  s.expect = {{"stderr_not_matches", "<script>|]]>"}};
  ScenarioRun& run = s.runs[0];
  run.failures = {"stderr matched: " + kHostileText};
  s.status = "fail";
  s.failures = run.failures;
  ProcessResult& p = run.instances[0];
  p.argv.push_back(kHostileText);
  p.out.tail = kHostileText;
  p.out.bytes = 1 << 20;
  p.out.truncated = true;
  p.err.tail = kHostileText;
  p.err.bytes = kHostileText.size();
  p.protocol_violations = {kHostileText};
  p.spawn_error.clear();
  // A JSON string holding invalid UTF-8 would make a default dump() throw.
  p.events.push_back(make_event(1000, {{"event", "error"}, {"message", kHostileText}}));
  return r;
}

}  // namespace harness::testing
