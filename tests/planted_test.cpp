// The planted costs that demonstrate the regression gate (docs/regression.md): fault_worker's
// `work` mode and yolo_worker's --slow-pct and --extra-mib do what they say, checked on real
// processes by functional bounds (memory that must be resident, CPU time that cannot be
// shorter than itself), never by how fast anything ran.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "process_test_util.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;

const std::string kModel = std::string(HARNESS_MODELS_DIR) + "/yolov8n.onnx";
const std::string kVideo = std::string(HARNESS_FIXTURES_DIR) + "/street_640x480_100f.avi";

const Event* find_event(const ProcessResult& r, const std::string& type) {
  for (const Event& e : r.events)
    if (e.type == type) return &e;
  return nullptr;
}

ProcessResult run_one(const ProcessSpec& spec) {
  Supervisor sup;
  return sup.run({spec}).at(0);
}

TEST(planted_test, fault_worker_work_mode_burns_the_cpu_time_it_is_asked_for) {
  const ProcessResult r = run_one(test::fault({"--mode", "work", "--ms", "150"}));
  ASSERT_TRUE(r.exit_code.has_value()) << r.spawn_error;
  EXPECT_EQ(*r.exit_code, 0) << r.err.tail;
  ASSERT_NE(find_event(r, "ready"), nullptr) << r.out.tail;
  const Event* result = find_event(r, "result");
  ASSERT_NE(result, nullptr) << r.out.tail;
  EXPECT_EQ(result->body.value("status", ""), "success");
  EXPECT_DOUBLE_EQ(result->body.value("work_ms", 0.0), 150.0);
  // 150 ms of one thread's CPU time cannot take less than 150 ms of wall time.
  EXPECT_GE(r.wall_s, 0.150);
}

TEST(planted_test, fault_worker_extra_mib_is_resident_before_ready) {
  // 300 ms of work after ready: the worker is still alive when the harness samples at ready.
  const ProcessResult plain = run_one(test::fault({"--mode", "work", "--ms", "300"}));
  const ProcessResult grown =
      run_one(test::fault({"--mode", "work", "--ms", "300", "--extra-mib", "64"}));
  ASSERT_GT(plain.memory.ready_rss_kib, 0);
  ASSERT_GT(grown.memory.ready_rss_kib, 0);
  const auto added_kib = grown.memory.ready_rss_kib - plain.memory.ready_rss_kib;
  EXPECT_GE(added_kib, 63 * 1024) << "64 MiB touched page by page must be resident";
  EXPECT_LE(added_kib, 72 * 1024);
}

TEST(planted_test, fault_worker_refuses_negative_work) {
  const ProcessResult r = run_one(test::fault({"--mode", "work", "--ms", "-1"}));
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 2);
  EXPECT_NE(r.err.tail.find("must not be negative"), std::string::npos) << r.err.tail;
}

ProcessSpec yolo(const fs::path& out, std::vector<std::string> extra) {
  ProcessSpec s;
  s.argv = {YOLO_WORKER,  "--model",   kModel, "--input",      kVideo, "--output",
            out.string(), "--threads", "1",    "--max-frames", "3"};
  s.argv.insert(s.argv.end(), extra.begin(), extra.end());
  s.env["OMP_NUM_THREADS"] = "1";
  s.timeout = std::chrono::seconds(120);
  return s;
}

nlohmann::json read_result(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

bool have_model() {
  return fs::exists(kModel) && fs::exists(kVideo);
}
constexpr const char* kNoModel =
    "needs the generated model and fixture video: build the yolo_models and fixtures targets";

TEST(planted_test, yolo_worker_slow_pct_spins_its_share_of_every_frame) {
  if (!have_model()) GTEST_SKIP() << kNoModel;
  const fs::path out = fs::path(::testing::TempDir()) / "planted_slow.json";
  const ProcessResult r = run_one(yolo(out, {"--slow-pct", "100"}));
  ASSERT_TRUE(r.exit_code.has_value()) << r.spawn_error;
  ASSERT_EQ(*r.exit_code, 0) << r.err.tail;
  const nlohmann::json result = read_result(out);
  EXPECT_EQ(result["frames_processed"], 3);
  const double spun = result["planted_slow_s"].get<double>();
  const double elapsed = result["elapsed_s"].get<double>();
  // The loop's time is the frames' own time plus the spins (plus building the result entries):
  // at 100 % the spins are about half of it; a spin can overrun its end by the time the
  // scheduler keeps it off the CPU, hence the slack above half.
  EXPECT_GT(spun, 0.0);
  EXPECT_LE(spun, elapsed / 2 + 0.05);
  EXPECT_GE(spun, elapsed / 2 * 0.7);
  // Without the knob the result file is as it always was.
  const fs::path plain_out = fs::path(::testing::TempDir()) / "planted_plain.json";
  ASSERT_EQ(run_one(yolo(plain_out, {})).exit_code.value_or(-1), 0);
  EXPECT_FALSE(read_result(plain_out).contains("planted_slow_s"));
}

// A --serve worker that stays idle on its open stdin after `ready` until the harness has taken
// its ready sample: a one-shot worker goes on to its first frames, so under load the sample could
// land after their buffers were allocated, in one run and not in the other.
ProcessResult run_idle_at_ready(std::vector<std::string> extra) {
  ProcessSpec s;
  s.argv = {YOLO_WORKER, "--serve", "--model", kModel, "--threads", "1"};
  s.argv.insert(s.argv.end(), extra.begin(), extra.end());
  s.env["OMP_NUM_THREADS"] = "1";
  s.timeout = std::chrono::seconds(120);
  s.stdin_open = true;
  struct CloseAtReady : ProcessObserver {
    Session* session = nullptr;
    void on_event(int handle, const Event& e) override {
      if (e.type == "ready") session->close_stdin(handle);  // EOF: the worker exits 0
    }
  } closer;
  Supervisor sup;
  Session session(sup);
  closer.session = &session;
  const int h = session.add(s, &closer);
  session.run();
  return session.take_result(h);
}

TEST(planted_test, yolo_worker_extra_mib_is_resident_at_ready) {
  if (!have_model()) GTEST_SKIP() << kNoModel;
  const ProcessResult plain = run_idle_at_ready({});
  const ProcessResult grown = run_idle_at_ready({"--extra-mib", "32"});
  ASSERT_EQ(plain.exit_code.value_or(-1), 0) << plain.err.tail;
  ASSERT_EQ(grown.exit_code.value_or(-1), 0) << grown.err.tail;
  const auto added_kib = grown.memory.ready_rss_kib - plain.memory.ready_rss_kib;
  // The model's own memory varies by a few MiB between runs; 32 MiB stands out of it.
  EXPECT_GE(added_kib, 28 * 1024) << "plain " << plain.memory.ready_rss_kib << " KiB, grown "
                                  << grown.memory.ready_rss_kib << " KiB";
  EXPECT_LE(added_kib, 40 * 1024) << "plain " << plain.memory.ready_rss_kib << " KiB, grown "
                                  << grown.memory.ready_rss_kib << " KiB";
}

TEST(planted_test, yolo_worker_refuses_a_negative_slowdown) {
  const fs::path out = fs::path(::testing::TempDir()) / "planted_bad.json";
  const ProcessResult r = run_one(yolo(out, {"--slow-pct", "-5"}));
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 2);
  EXPECT_NE(r.err.tail.find("--slow-pct"), std::string::npos) << r.err.tail;
}

}  // namespace
}  // namespace harness
