// yolo_worker: thin main; the work lives in detector, frame_source, job and serve.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "detector.hpp"
#include "events.hpp"
#include "job.hpp"
#include "options.hpp"
#include "planted.hpp"
#include "serve.hpp"
#include "stop_signal.hpp"
#include "version.hpp"
#include "worker_error.hpp"

namespace {

int run(const yolo::Options& o, yolo::Events& events) {
  using namespace yolo;
  // One-shot: check the cheap things (input, output) before spending seconds on the model.
  std::unique_ptr<FrameSource> source;
  if (!o.serve) {
    source = FrameSource::open(o.input);
    check_output_writable(o.output);
  }
  const auto start = std::chrono::steady_clock::now();
  Detector detector({o.model, o.size, o.warmup});
  const Ballast ballast(o.extra_mib);  // held to the end, like the model
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  events.emit({{"event", "ready"},
               {"load_ms", std::round(load_ms * 10) / 10},
               {"read_ms", std::round(detector.read_ms() * 10) / 10},
               {"warmup_ms", std::round(detector.warmup_ms() * 10) / 10}});
  if (o.serve) return serve(o, detector, events);

  Job job;
  job.model = o.model;
  job.input = o.input;
  job.output = o.output;
  job.max_frames = o.max_frames;
  job.input_size = o.size;
  job.progress_every = o.progress_every;
  job.decode = o.decode();
  job.slow_pct = o.slow_pct;
  run_job(job, *source, detector, events);
  return stop_signal() != 0 ? 128 + stop_signal() : kExitSuccess;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = yolo::parse_options(argc, argv);
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  const yolo::Options& options = std::get<yolo::Options>(parsed);

  yolo::install_stop_handlers();
  // OpenCV's own warnings would break the "one line on stderr per error" contract.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);  // AV_LOG_QUIET, unless set
  if (options.threads > 0) cv::setNumThreads(options.threads);

  yolo::Events events;
  events.emit({{"event", "started"},
               {"worker", "yolo_worker"},
               {"version", yolo::kVersion},
               {"pid", ::getpid()}});
  try {
    return run(options, events);
  } catch (const yolo::WorkerError& e) {
    events.error(e);
    return e.exit_code();
  } catch (const std::exception& e) {
    events.error(yolo::WorkerError("InternalError", e.what(), yolo::kExitInternal));
    return yolo::kExitInternal;
  }
}
