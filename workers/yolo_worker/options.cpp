#include "options.hpp"

#include <CLI/CLI.hpp>

#include "events.hpp"
#include "version.hpp"
#include "worker_error.hpp"

namespace yolo {

std::variant<Options, int> parse_options(int argc, char** argv) {
  Options o;
  CLI::App app{
      "YOLO object detection over a video, an image or a folder of images (OpenCV DNN).\n"
      "Writes per-frame detections to --output and protocol events (JSON lines) to stdout.\n"
      "Exit codes: 0 success, 2 bad arguments, 3 input error, 4 model error, 5 output error,\n"
      "130/143 stopped by SIGINT/SIGTERM (partial result with status \"cancelled\").",
      "yolo_worker"};
  app.set_version_flag("--version", std::string("yolo_worker ") + kVersion);
  app.add_option("--model", o.model, "ONNX model (YOLOv8 [1,84,N] or YOLOv5 [1,N,85] output)")
      ->required();
  auto* input = app.add_option("--input", o.input, "video file, image file or folder of images");
  auto* output = app.add_option("--output", o.output, "result JSON file (written atomically)");
  auto* serve = app.add_flag("--serve", o.serve,
                             "persistent mode: load the model once, then read one JSON job per "
                             "stdin line: {\"id\":1,\"input\":\"...\",\"output\":\"...\","
                             "\"max_frames\":N}; EOF ends");
  input->excludes(serve);
  output->excludes(serve);
  app.add_option("--max-frames", o.max_frames, "stop after N frames")->check(CLI::PositiveNumber);
  app.add_option("--size", o.size, "network input size, a multiple of 32")
      ->check(CLI::Range(32, 4096));
  app.add_option("--conf", o.conf, "confidence threshold")->check(CLI::Range(0.0, 1.0));
  app.add_option("--iou", o.iou, "NMS IoU threshold")->check(CLI::Range(0.0, 1.0));
  app.add_flag("--agnostic", o.agnostic, "class-agnostic NMS (default: per class)");
  app.add_option("--threads", o.threads, "OpenCV threads (cv::setNumThreads)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--progress-every", o.progress_every, "progress event every N frames, 0: none")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--slow-pct", o.slow_pct,
                 "plant a slowdown: busy-wait P % of each frame's own time after it (for "
                 "checking the regression gate)")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--extra-mib", o.extra_mib,
                 "plant a memory growth: allocate and touch N MiB before the ready event (for "
                 "checking the regression gate)")
      ->check(CLI::Range(0.0, 65536.0));
  bool no_warmup = false;
  app.add_flag("--no-warmup", no_warmup,
               "skip the warm-up forward before the ready event (ready then excludes the "
               "buffers the first frame allocates)");
  try {
    app.parse(argc, argv);
    if (o.size % 32 != 0) throw CLI::ValidationError("--size", "must be a multiple of 32");
    if (!o.serve && (o.input.empty() || o.output.empty())) {
      throw CLI::RequiredError("--input and --output (or --serve)");
    }
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitSuccess;
  } catch (const CLI::CallForVersion& e) {
    std::puts(e.what());
    return kExitSuccess;
  } catch (const CLI::ParseError& e) {
    Events().error(WorkerError("BadArguments",
                               std::string(e.what()) + " (run yolo_worker --help for usage)",
                               kExitBadArguments));
    return kExitBadArguments;
  }
  o.warmup = !no_warmup;
  return o;
}

}  // namespace yolo
