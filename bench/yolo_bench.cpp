// YOLO worker benchmarks (Google Benchmark; run with --benchmark_out=yolo.json
// --benchmark_out_format=json). Slow by nature: iterations are fixed and small.
//
//   BM_ModelLoad/<scale>       readNet + one warm-up forward in a forked child (a fresh heap,
//                              so "RSS added" is not hidden by memory freed by an earlier load);
//                              counters load_ms, rss_added_mib.
//   BM_FrameLatency/<scale>/<threads>  letterbox + forward + decode-free output of one 640x480
//                              fixture frame at 640; counters ms_per_frame, fps.
//   BM_SpawnPerJob / BM_ServeJob  a 1-frame job (dog.jpg) through the real yolo_worker: a new
//                              process per job (model load included) vs. a --serve worker that
//                              loaded the model once.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

namespace {

const char* const kScales[] = {"n", "s", "m"};

std::string model_path(int scale) {
  return std::string(HARNESS_MODELS_DIR) + "/yolov8" + kScales[scale] + ".onnx";
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

cv::Mat letterboxed_fixture_frame() {
  cv::VideoCapture capture(std::string(HARNESS_FIXTURES_DIR) + "/street_640x480_100f.avi");
  cv::Mat frame;
  if (!capture.read(frame)) frame = cv::Mat(480, 640, CV_8UC3, cv::Scalar::all(90));
  cv::Mat canvas;
  cv::copyMakeBorder(frame, canvas, 80, 80, 0, 0, cv::BORDER_CONSTANT, cv::Scalar::all(114));
  return canvas;
}

void forward(cv::dnn::Net& net, const cv::Mat& canvas) {
  net.setInput(cv::dnn::blobFromImage(canvas, 1.0 / 255.0, cv::Size(), cv::Scalar(), true, false));
  cv::Mat out = net.forward();
  benchmark::DoNotOptimize(out.data);
}

void BM_ModelLoad(benchmark::State& state) {
  const std::string path = model_path(int(state.range(0)));
  double load_ms = 0, added_mib = 0;
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) return state.SkipWithError("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      double result[2] = {-1, -1};
      try {
        const long before = rss_kib();
        const auto start = std::chrono::steady_clock::now();
        cv::dnn::Net net = cv::dnn::readNet(path);
        forward(net, cv::Mat(640, 640, CV_8UC3, cv::Scalar::all(114)));
        result[0] = ms_since(start);
        result[1] = double(rss_kib() - before) / 1024.0;
      } catch (...) {
      }
      if (write(fds[1], result, sizeof result) != sizeof result) _exit(1);
      _exit(0);
    }
    close(fds[1]);
    double result[2] = {-1, -1};
    const bool got = read(fds[0], result, sizeof result) == sizeof result;
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    if (!got || result[0] < 0) return state.SkipWithError(("cannot load " + path).c_str());
    load_ms += result[0];
    added_mib += result[1];
  }
  state.counters["load_ms"] = load_ms / double(state.iterations());
  state.counters["rss_added_mib"] = added_mib / double(state.iterations());
  state.SetLabel(std::string("yolov8") + kScales[state.range(0)]);
}
BENCHMARK(BM_ModelLoad)
    ->DenseRange(0, 2)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_FrameLatency(benchmark::State& state) {
  const std::string path = model_path(int(state.range(0)));
  cv::setNumThreads(int(state.range(1)));
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNet(path);
  } catch (const cv::Exception&) {
    return state.SkipWithError(("cannot load " + path).c_str());
  }
  const cv::Mat canvas = letterboxed_fixture_frame();
  forward(net, canvas);  // warm-up: OpenCV allocates buffers on the first forward
  for (auto _ : state) forward(net, canvas);
  state.counters["fps"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(std::string("yolov8") + kScales[state.range(0)] +
                 " threads=" + std::to_string(state.range(1)));
}
BENCHMARK(BM_FrameLatency)
    ->ArgsProduct({{0, 1, 2}, {1, 2}})
    ->Iterations(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A child with its stdin and stdout piped; stdout is read line by line.
class Worker {
 public:
  explicit Worker(std::vector<std::string> args) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0), dup2(out[1], 1);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]), close(out[1]);
    in_ = in[1], out_ = out[0];
  }
  ~Worker() {
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void send(const std::string& line) {
    if (write(in_, line.data(), line.size()) != ssize_t(line.size())) {
      throw std::runtime_error("write to worker");
    }
  }
  // Reads lines until one contains `needle`; false at EOF.
  bool wait_for(const std::string& needle) {
    while (true) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        const std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.find(needle) != std::string::npos) return true;
        continue;
      }
      char chunk[4096];
      const ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer_.append(chunk, std::size_t(n));
    }
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buffer_;
};

const std::string kImage = std::string(HARNESS_FIXTURES_DIR) + "/dog.jpg";
const std::string kResult = "/tmp/yolo_bench_result_" + std::to_string(getpid()) + ".json";

void BM_SpawnPerJob(benchmark::State& state) {
  for (auto _ : state) {
    Worker worker({YOLO_WORKER, "--model", model_path(0), "--input", kImage, "--output", kResult,
                   "--threads", "2"});
    const bool ok = worker.wait_for("\"result\"");
    if (worker.wait_exit() != 0 || !ok) return state.SkipWithError("worker job failed");
  }
  std::remove(kResult.c_str());
}
BENCHMARK(BM_SpawnPerJob)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ServeJob(benchmark::State& state) {
  Worker worker({YOLO_WORKER, "--model", model_path(0), "--serve", "--threads", "2"});
  if (!worker.wait_for("\"ready\"")) return state.SkipWithError("serve worker did not start");
  int id = 0;
  for (auto _ : state) {
    worker.send("{\"id\":" + std::to_string(++id) + ",\"input\":\"" + kImage + "\",\"output\":\"" +
                kResult + "\"}\n");
    if (!worker.wait_for("\"result\"")) return state.SkipWithError("serve job failed");
  }
  std::remove(kResult.c_str());
}
BENCHMARK(BM_ServeJob)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
