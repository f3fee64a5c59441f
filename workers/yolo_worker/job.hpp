// One unit of work: run the detector over every frame of an input and write the result file.
// One-shot mode runs one job; --serve runs one per stdin line against the same Detector.
//
// Result file (JSON, written to `<output>.tmp.<pid>` then renamed over `output`, so a reader
// never sees half a file):
//   {"schema":1, "worker":"yolo_worker", "version":"1.0.0", "model":..., "input":...,
//    "input_kind":"video|image|directory", "status":"success|cancelled|error",
//    "error":{"type","message"} (only with status error), "frames_processed":N,
//    "frames_total":N|-1, "size":640, "conf":0.25, "iou":0.45, "elapsed_s":..., "fps":...,
//    "detections":TOTAL, "planted_slow_s":... (only with --slow-pct: the time spun),
//    "frames":[{"index":0, "file":"dog.jpg" (images only), "width":640, "height":480,
//               "detections":[{"class_id":16, "class":"dog", "confidence":0.87,
//                              "box":{"x":..,"y":..,"w":..,"h":..}}]}]}
// fps counts processed frames over the wall time of the frame loop (decode + inference + NMS),
// model loading excluded.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "decode.hpp"
#include "detector.hpp"
#include "events.hpp"
#include "frame_source.hpp"

namespace yolo {

struct Job {
  std::string model;  // reported in the result file only
  std::string input;
  std::string output;
  int max_frames = -1;  // -1: all
  int input_size = 640;
  int progress_every = 1;  // 0: no progress events
  DecodeOptions decode;
  double slow_pct = 0;  // planted.hpp: each frame made this % slower
  // Asked between frames (--serve: a {"cancel": id} line for this job arrived); true ends the
  // job after the current frame with status "cancelled", like a stop signal.
  std::function<bool()> cancel_requested;
};

struct JobOutcome {
  std::string status;  // "success" or "cancelled"
  int frames_processed = 0;
  double fps = 0.0;
  long detections = 0;
};

// Fails with OutputError (exit 5) unless a file can be created next to `output`.
void check_output_writable(const std::string& output);

// Runs the frame loop, writes the result and emits progress and the result event. Stops after
// the current frame once a stop signal arrived (status "cancelled"). An input that breaks
// midway writes a partial result with status "error", then rethrows the WorkerError.
JobOutcome run_job(const Job& job, FrameSource& source, Detector& detector, const Events& events);

}  // namespace yolo
