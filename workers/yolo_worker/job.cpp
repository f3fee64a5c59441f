#include "job.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "planted.hpp"
#include "stop_signal.hpp"
#include "version.hpp"
#include "worker_error.hpp"

namespace yolo {

namespace {

using json = nlohmann::ordered_json;

WorkerError output_error(const std::string& message) {
  return WorkerError("OutputError", message, kExitOutput);
}

std::string temp_path_for(const std::string& output) {
  return output + ".tmp." + std::to_string(::getpid());
}

double round_to(double value, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(value * f) / f;
}

void write_atomically(const std::string& output, const std::string& text) {
  const std::string tmp = temp_path_for(output);
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) {
    throw output_error("cannot create " + tmp + ": " + std::strerror(errno) +
                       " (is the --output folder writable?)");
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int saved_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    std::remove(tmp.c_str());
    throw output_error("cannot write " + tmp + ": " + std::strerror(written ? errno : saved_errno));
  }
  if (std::rename(tmp.c_str(), output.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    throw output_error("cannot rename " + tmp + " to " + output + ": " +
                       std::strerror(rename_errno));
  }
}

json detection_json(const Detection& d) {
  return {{"class_id", d.class_id},
          {"class", class_name(d.class_id)},
          {"confidence", round_to(d.confidence, 4)},
          {"box",
           {{"x", round_to(d.box.x, 1)},
            {"y", round_to(d.box.y, 1)},
            {"w", round_to(d.box.width, 1)},
            {"h", round_to(d.box.height, 1)}}}};
}

}  // namespace

void check_output_writable(const std::string& output) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (output.empty()) throw output_error("--output is empty: pass the result file path");
  if (fs::is_directory(output, ec)) {
    throw output_error("cannot write result to " + output +
                       ": it is a directory (pass a file path such as " + output + "/result.json)");
  }
  const std::string tmp = temp_path_for(output);
  std::FILE* probe = std::fopen(tmp.c_str(), "wb");
  if (probe == nullptr) {
    throw output_error("cannot create " + tmp + ": " + std::strerror(errno) +
                       " (does the --output folder exist and is it writable?)");
  }
  std::fclose(probe);
  std::remove(tmp.c_str());
}

JobOutcome run_job(const Job& job, FrameSource& source, Detector& detector, const Events& events) {
  int total = source.total();
  if (job.max_frames > 0 && (total < 0 || total > job.max_frames)) total = job.max_frames;

  json frames = json::array();
  JobOutcome outcome;
  std::optional<WorkerError> failure;
  const auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration planted{};
  cv::Mat frame;
  bool cancelled = false;
  while (stop_signal() == 0 && (job.max_frames <= 0 || outcome.frames_processed < job.max_frames)) {
    if (job.cancel_requested && job.cancel_requested()) {
      cancelled = true;
      break;
    }
    const auto frame_start = std::chrono::steady_clock::now();
    try {
      if (!source.next(frame)) break;
    } catch (const WorkerError& e) {
      failure = e;
      break;
    }
    const std::vector<Detection> detections = detector.detect(frame, job.decode);
    planted += spin_share_of(std::chrono::steady_clock::now() - frame_start, job.slow_pct);
    json entry = {{"index", outcome.frames_processed}};
    if (const std::string name = source.frame_name(); !name.empty()) entry["file"] = name;
    entry["width"] = frame.cols;
    entry["height"] = frame.rows;
    json list = json::array();
    for (const Detection& d : detections) list.push_back(detection_json(d));
    entry["detections"] = std::move(list);
    frames.push_back(std::move(entry));
    outcome.detections += long(detections.size());
    ++outcome.frames_processed;
    if (job.progress_every > 0 && outcome.frames_processed % job.progress_every == 0) {
      events.emit({{"event", "progress"}, {"done", outcome.frames_processed}, {"total", total}});
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.fps = elapsed > 0 ? round_to(outcome.frames_processed / elapsed, 3) : 0.0;
  outcome.status = failure ? "error" : (stop_signal() != 0 || cancelled ? "cancelled" : "success");

  json result = {{"schema", 1},
                 {"worker", "yolo_worker"},
                 {"version", kVersion},
                 {"model", job.model},
                 {"input", job.input},
                 {"input_kind", source.kind()},
                 {"status", outcome.status}};
  if (failure) result["error"] = {{"type", failure->type()}, {"message", failure->what()}};
  result["frames_processed"] = outcome.frames_processed;
  result["frames_total"] = total;
  result["size"] = job.input_size;
  result["conf"] = round_to(job.decode.conf_threshold, 4);
  result["iou"] = round_to(job.decode.iou_threshold, 4);
  result["elapsed_s"] = round_to(elapsed, 4);
  result["fps"] = outcome.fps;
  result["detections"] = outcome.detections;
  if (job.slow_pct > 0)
    result["planted_slow_s"] = round_to(std::chrono::duration<double>(planted).count(), 4);
  result["frames"] = std::move(frames);
  write_atomically(job.output, result.dump(1));

  if (failure) throw *failure;
  events.emit({{"event", "result"},
               {"status", outcome.status},
               {"frames_processed", outcome.frames_processed},
               {"fps", outcome.fps},
               {"detections", outcome.detections},
               {"output", job.output}});
  return outcome;
}

}  // namespace yolo
