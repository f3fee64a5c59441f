// The real yolo_worker binary, run as a child process on the generated fixtures and the
// generated n model: success, every error class with its exit code, event and stderr line,
// SIGTERM cancellation, and --serve. Timing bounds are generous; the machine may be loaded.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kWorker = YOLO_WORKER;
const std::string kModel = std::string(HARNESS_MODELS_DIR) + "/yolov8n.onnx";
const std::string kFixtures = HARNESS_FIXTURES_DIR;
std::string fixture(const std::string& name) {
  return kFixtures + "/" + name;
}

// A child with piped stdin/stdout/stderr, read by poll() from this thread only.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
      throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0), dup2(out[1], 1), dup2(err[1], 2);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]), close(out[1]), close(err[1]);
    stdin_ = in[1], stdout_ = out[0], stderr_ = err[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {stdin_, stdout_, stderr_}) {
      if (fd >= 0) close(fd);
    }
  }

  void write_stdin(const std::string& text) {
    ASSERT_EQ(write(stdin_, text.data(), text.size()), ssize_t(text.size()));
  }
  void close_stdin() {
    close(stdin_);
    stdin_ = -1;
  }
  void signal(int signum) { kill(pid_, signum); }

  // Reads until `done` holds for the collected events, the streams close, or the deadline.
  bool pump_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (stdout_ < 0 && stderr_ < 0) return done();
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
      if (poll(fds, 2, int(std::min<long>(left, 200))) < 0 && errno != EINTR) return false;
      drain(stdout_, fds[0], out_);
      drain(stderr_, fds[1], err_);
    }
    return true;
  }

  bool has_event(const std::string& name, int min_count = 1) const {
    int n = 0;
    for (const json& e : events()) n += e.value("event", "") == name;
    return n >= min_count;
  }

  // Waits for exit (reading all output); the exit code, 128 + signal if killed, -1 on timeout.
  int wait(std::chrono::seconds limit = std::chrono::seconds(600)) {
    pump_until([] { return false; }, limit);  // returns when both streams close
    if (stdout_ >= 0 || stderr_ >= 0) return -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    status_ = status;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::vector<json> events() const {
    std::vector<json> list;
    std::istringstream lines(out_);
    for (std::string line; std::getline(lines, line);) {
      const json e = json::parse(line, nullptr, false);
      if (e.is_object() && e.contains("event")) list.push_back(e);
    }
    return list;
  }
  std::optional<json> last(const std::string& name) const {
    std::optional<json> found;
    for (const json& e : events()) {
      if (e.value("event", "") == name) found = e;
    }
    return found;
  }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  static void drain(int& fd, const pollfd& p, std::string& into) {
    if (fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
    char buf[8192];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, std::size_t(n));
    } else if (n == 0 || errno != EINTR) {
      close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
  std::optional<int> status_;
  std::string out_, err_;
};

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

class YoloWorker : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kModel)) << kModel << " missing: build the yolo_models target";
    ASSERT_TRUE(fs::exists(fixture("street_640x480_100f.avi")))
        << "fixtures missing: build the fixtures target";
    dir_ = fs::temp_directory_path() /
           ("yolo_worker_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string out(const std::string& name = "result.json") const { return (dir_ / name).string(); }

  std::vector<std::string> one_shot(const std::string& input, const std::string& output,
                                    std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {kWorker,    "--model", kModel,      "--input", input,
                                  "--output", output,    "--threads", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Runs to completion and checks the failure contract: exit code, one error event of `type`,
  // a stderr line naming it, no result file.
  void expect_failure(const std::vector<std::string>& args, int exit_code, const std::string& type,
                      const std::string& output) {
    Child child(args);
    EXPECT_EQ(child.wait(), exit_code) << child.out() << child.err();
    const auto error = child.last("error");
    ASSERT_TRUE(error.has_value()) << child.out();
    EXPECT_EQ(error->value("type", ""), type);
    EXPECT_FALSE(error->value("message", "").empty());
    EXPECT_NE(child.err().find("yolo_worker: error: "), std::string::npos) << child.err();
    EXPECT_NE(child.err().find("[" + type + "]"), std::string::npos) << child.err();
    EXPECT_FALSE(child.has_event("result"));
    EXPECT_FALSE(fs::exists(output));
  }

  fs::path dir_;
};

TEST_F(YoloWorker, processes_the_first_frames_of_the_video_and_reports_them) {
  Child child(one_shot(fixture("street_640x480_100f.avi"), out(), {"--max-frames", "3"}));
  ASSERT_EQ(child.wait(), 0) << child.err();
  const auto events = child.events();
  ASSERT_GE(events.size(), 3U);
  EXPECT_EQ(events.front()["event"], "started");
  EXPECT_EQ(events.front()["worker"], "yolo_worker");
  EXPECT_GT(events.front()["pid"].get<int>(), 0);
  EXPECT_EQ(events[1]["event"], "ready");
  EXPECT_GT(events[1]["load_ms"].get<double>(), 0.0);
  EXPECT_TRUE(child.has_event("progress", 3));
  const auto result = child.last("result");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->value("status", ""), "success");
  EXPECT_EQ(result->value("frames_processed", 0), 3);
  EXPECT_EQ(result->value("output", ""), out());

  const json file = read_json(out());
  EXPECT_EQ(file["status"], "success");
  EXPECT_EQ(file["frames_processed"], 3);
  EXPECT_EQ(file["input_kind"], "video");
  EXPECT_EQ(file["model"], kModel);
  ASSERT_EQ(file["frames"].size(), 3U);
  long total = 0;
  for (const json& frame : file["frames"]) {
    EXPECT_EQ(frame["width"], 640);
    EXPECT_EQ(frame["height"], 480);
    for (const json& d : frame["detections"]) {
      EXPECT_GE(d["box"]["x"].get<double>(), 0.0);
      EXPECT_LE(d["box"]["x"].get<double>() + d["box"]["w"].get<double>(), 640.0 + 1e-3);
      EXPECT_GE(d["confidence"].get<double>(), 0.25);
      ++total;
    }
  }
  EXPECT_EQ(file["detections"], total);
  EXPECT_EQ(result->value("detections", -1L), total);
  EXPECT_FALSE(fs::exists(out() + ".tmp." + std::to_string(events.front()["pid"].get<int>())));
}

TEST_F(YoloWorker, processes_all_100_frames_of_the_video) {
  Child child(one_shot(fixture("street_640x480_100f.avi"), out(), {"--progress-every", "10"}));
  ASSERT_EQ(child.wait(), 0) << child.err();
  const auto result = child.last("result");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->value("frames_processed", 0), 100);
  EXPECT_GT(result->value("fps", 0.0), 0.0);
  EXPECT_TRUE(child.has_event("progress", 10));
  EXPECT_FALSE(child.has_event("progress", 11));
  const auto progress = child.last("progress");
  EXPECT_EQ(progress->value("done", 0), 100);
  EXPECT_EQ(progress->value("total", 0), 100);
  EXPECT_EQ(read_json(out())["frames"].size(), 100U);
}

TEST_F(YoloWorker, processes_a_single_image) {
  Child child(one_shot(fixture("dog.jpg"), out()));
  ASSERT_EQ(child.wait(), 0) << child.err();
  const json file = read_json(out());
  EXPECT_EQ(file["input_kind"], "image");
  EXPECT_EQ(file["frames_processed"], 1);
  EXPECT_EQ(file["frames"][0]["file"], "dog.jpg");
}

TEST_F(YoloWorker, processes_a_folder_of_images_in_name_order) {
  Child child(one_shot(fixture("images"), out()));
  ASSERT_EQ(child.wait(), 0) << child.err();
  const json file = read_json(out());
  EXPECT_EQ(file["input_kind"], "directory");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fixture("images"))) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  ASSERT_EQ(file["frames"].size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(file["frames"][i]["file"], names[i]);
}

TEST_F(YoloWorker, missing_input_is_an_input_error) {
  expect_failure(one_shot(fixture("no_such_video.avi"), out()), 3, "InputNotFound", out());
}

TEST_F(YoloWorker, text_file_named_avi_is_an_input_error) {
  expect_failure(one_shot(fixture("not_a_video.avi"), out()), 3, "InputCorrupt", out());
}

TEST_F(YoloWorker, empty_file_is_an_input_error) {
  expect_failure(one_shot(fixture("empty.avi"), out()), 3, "InputCorrupt", out());
}

TEST_F(YoloWorker, video_cut_inside_its_header_is_an_input_error) {
  expect_failure(one_shot(fixture("truncated_header.avi"), out()), 3, "InputCorrupt", out());
}

TEST_F(YoloWorker, corrupt_image_is_an_input_error) {
  expect_failure(one_shot(fixture("corrupt_image.jpg"), out()), 3, "InputCorrupt", out());
}

TEST_F(YoloWorker, folder_without_images_is_an_input_error) {
  expect_failure(one_shot(fixture("empty_dir"), out()), 3, "InputCorrupt", out());
}

TEST_F(YoloWorker, truncated_video_fails_midway_with_a_partial_error_result) {
  Child child(one_shot(fixture("truncated_640x480_100f.avi"), out(), {"--progress-every", "0"}));
  EXPECT_EQ(child.wait(), 3) << child.err();
  const auto error = child.last("error");
  ASSERT_TRUE(error.has_value()) << child.out();
  EXPECT_EQ(error->value("type", ""), "InputCorrupt");
  EXPECT_NE(child.err().find("truncated"), std::string::npos) << child.err();
  EXPECT_FALSE(child.has_event("result"));
  const json file = read_json(out());
  EXPECT_EQ(file["status"], "error");
  EXPECT_EQ(file["error"]["type"], "InputCorrupt");
  EXPECT_GT(file["frames_processed"].get<int>(), 0);
  EXPECT_LT(file["frames_processed"].get<int>(), 100);
}

TEST_F(YoloWorker, missing_model_is_a_model_error) {
  auto args = one_shot(fixture("dog.jpg"), out());
  args[2] = (dir_ / "absent.onnx").string();
  expect_failure(args, 4, "ModelNotFound", out());
}

TEST_F(YoloWorker, truncated_model_is_a_model_error) {
  auto args = one_shot(fixture("dog.jpg"), out());
  args[2] = fixture("corrupt_model.onnx");
  expect_failure(args, 4, "ModelCorrupt", out());
}

TEST_F(YoloWorker, unwritable_output_is_an_output_error) {
  const std::string output = (dir_ / "no_such_dir" / "result.json").string();
  expect_failure(one_shot(fixture("dog.jpg"), output), 5, "OutputError", output);
}

TEST_F(YoloWorker, output_that_is_a_directory_is_an_output_error) {
  expect_failure(one_shot(fixture("dog.jpg"), dir_.string()), 5, "OutputError", out());
}

TEST_F(YoloWorker, unknown_option_is_a_bad_argument) {
  expect_failure(one_shot(fixture("dog.jpg"), out(), {"--frobnicate"}), 2, "BadArguments", out());
}

TEST_F(YoloWorker, missing_input_option_is_a_bad_argument) {
  expect_failure({kWorker, "--model", kModel, "--output", out()}, 2, "BadArguments", out());
}

TEST_F(YoloWorker, non_numeric_threshold_is_a_bad_argument) {
  expect_failure(one_shot(fixture("dog.jpg"), out(), {"--conf", "high"}), 2, "BadArguments", out());
}

TEST_F(YoloWorker, size_not_a_multiple_of_32_is_a_bad_argument) {
  expect_failure(one_shot(fixture("dog.jpg"), out(), {"--size", "100"}), 2, "BadArguments", out());
}

TEST_F(YoloWorker, help_and_version_exit_zero) {
  Child help({kWorker, "--help"});
  EXPECT_EQ(help.wait(), 0);
  EXPECT_NE(help.out().find("--serve"), std::string::npos);
  Child version({kWorker, "--version"});
  EXPECT_EQ(version.wait(), 0);
  EXPECT_NE(version.out().find("yolo_worker 1.0.0"), std::string::npos);
}

TEST_F(YoloWorker, sigterm_mid_video_writes_a_cancelled_partial_result_and_exits_143) {
  Child child(one_shot(fixture("street_640x480_1000f.avi"), out()));
  ASSERT_TRUE(
      child.pump_until([&] { return child.has_event("progress", 2); }, std::chrono::seconds(300)))
      << child.out() << child.err();
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(std::chrono::seconds(120)), 143) << child.err();
  const auto result = child.last("result");
  ASSERT_TRUE(result.has_value()) << child.out();
  EXPECT_EQ(result->value("status", ""), "cancelled");
  const json file = read_json(out());
  EXPECT_EQ(file["status"], "cancelled");
  EXPECT_GE(file["frames_processed"].get<int>(), 2);
  EXPECT_LT(file["frames_processed"].get<int>(), 1000);
  EXPECT_EQ(file["frames"].size(), file["frames_processed"].get<std::size_t>());
}

TEST_F(YoloWorker, sigint_before_the_first_frame_exits_130_with_an_empty_cancelled_result) {
  Child child(one_shot(fixture("street_640x480_1000f.avi"), out()));
  ASSERT_TRUE(
      child.pump_until([&] { return child.has_event("started"); }, std::chrono::seconds(60)));
  child.signal(SIGINT);  // during model loading: the loop must not start
  EXPECT_EQ(child.wait(std::chrono::seconds(120)), 130) << child.err();
  EXPECT_EQ(child.last("result")->value("status", ""), "cancelled");
  EXPECT_EQ(read_json(out())["frames_processed"], 0);
}

TEST_F(YoloWorker, serve_cancels_the_running_job_and_a_queued_one_and_serves_on) {
  Child child({kWorker, "--model", kModel, "--serve", "--threads", "1"});
  ASSERT_TRUE(child.pump_until([&] { return child.has_event("ready"); }, std::chrono::seconds(120)))
      << child.err();
  const std::string video = fixture("street_640x480_1000f.avi");
  child.write_stdin(json({{"id", 1}, {"input", video}, {"output", out("c1.json")}}).dump() + "\n");
  child.write_stdin(json({{"id", 2}, {"input", video}, {"output", out("c2.json")}}).dump() + "\n");
  child.write_stdin("{\"cancel\":2}\n");  // job 2 is still queued behind job 1
  ASSERT_TRUE(
      child.pump_until([&] { return child.has_event("progress"); }, std::chrono::seconds(60)));
  child.write_stdin("{\"cancel\":1}\n");  // job 1 is running: stops after its current frame
  child.write_stdin(
      json({{"id", 3}, {"input", fixture("dog.jpg")}, {"output", out("c3.json")}}).dump() + "\n");
  child.close_stdin();
  EXPECT_EQ(child.wait(), 0) << child.err();
  std::map<std::string, json> results;
  for (const json& e : child.events())
    if (e["event"] == "result") results[e["job"].dump()] = e;
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results["1"]["status"], "cancelled");
  EXPECT_LT(results["1"]["frames_processed"].get<int>(), 1000);  // not the whole video
  EXPECT_EQ(read_json(out("c1.json"))["status"], "cancelled");
  EXPECT_EQ(results["2"]["status"], "cancelled");
  EXPECT_EQ(results["2"]["frames_processed"], 0);
  EXPECT_EQ(results["3"]["status"], "success");  // the worker serves on
}

TEST_F(YoloWorker, serve_answers_several_jobs_tagged_by_id_and_ends_at_eof) {
  Child child({kWorker, "--model", kModel, "--serve", "--threads", "2", "--progress-every", "0"});
  ASSERT_TRUE(child.pump_until([&] { return child.has_event("ready"); }, std::chrono::seconds(120)))
      << child.err();
  child.write_stdin(
      json({{"id", 1}, {"input", fixture("dog.jpg")}, {"output", out("a.json")}}).dump() + "\n");
  child.write_stdin(json({{"id", "two"},
                          {"input", fixture("street_640x480_100f.avi")},
                          {"output", out("b.json")},
                          {"max_frames", 2}})
                        .dump() +
                    "\n");
  child.write_stdin("this is not json\n");
  child.write_stdin(
      json({{"id", 4}, {"input", fixture("not_a_video.avi")}, {"output", out("d.json")}}).dump() +
      "\n");
  child.write_stdin(json({{"id", 5}, {"output", out("e.json")}}).dump() + "\n");
  child.write_stdin(
      json({{"id", 6}, {"input", fixture("images")}, {"output", out("f.json")}}).dump() + "\n");
  child.close_stdin();
  EXPECT_EQ(child.wait(), 0) << child.err();

  std::map<std::string, json> results, errors;
  int untagged_errors = 0;
  for (const json& e : child.events()) {
    if (e["event"] == "result") results[e["job"].dump()] = e;
    if (e["event"] == "error") {
      if (e.contains("job")) {
        errors[e["job"].dump()] = e;
      } else {
        ++untagged_errors;
      }
    }
  }
  EXPECT_EQ(results.size(), 3U);
  EXPECT_EQ(results["1"]["frames_processed"], 1);
  EXPECT_EQ(results["\"two\""]["frames_processed"], 2);
  EXPECT_EQ(results["6"]["frames_processed"], read_json(out("f.json"))["frames_processed"]);
  EXPECT_EQ(errors["4"]["type"], "InputCorrupt");
  EXPECT_EQ(errors["5"]["type"], "BadJob");
  EXPECT_EQ(untagged_errors, 1);  // the line that is not JSON has no id to tag
  EXPECT_EQ(read_json(out("a.json"))["status"], "success");
  EXPECT_EQ(read_json(out("b.json"))["frames_processed"], 2);
  EXPECT_EQ(std::count(child.out().begin(), child.out().end(), '\n'),
            std::ptrdiff_t(child.events().size()));  // nothing but events on stdout
  EXPECT_TRUE(child.has_event("ready"));
  EXPECT_FALSE(child.has_event("ready", 2));  // the model is loaded once
}

TEST_F(YoloWorker, serve_stops_on_sigterm_while_idle) {
  Child child({kWorker, "--model", kModel, "--serve"});
  ASSERT_TRUE(child.pump_until([&] { return child.has_event("ready"); }, std::chrono::seconds(120)))
      << child.err();
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait(std::chrono::seconds(30)), 143) << child.err();
}

}  // namespace
