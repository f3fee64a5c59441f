// Command line of yolo_worker. `parse_options` returns the options, or an exit code when the
// command line was fully handled (--help, --version: 0) or is wrong (2, with the error event
// and the stderr line already emitted).
#pragma once

#include <string>
#include <variant>

#include "decode.hpp"

namespace yolo {

struct Options {
  std::string model;
  std::string input;
  std::string output;
  bool serve = false;
  int max_frames = -1;
  int size = 640;
  float conf = 0.25F;
  float iou = 0.45F;
  bool agnostic = false;
  int threads = 0;  // 0: OpenCV's default
  int progress_every = 1;
  bool warmup = true;
  double slow_pct = 0;   // planted slowdown: + this % of each frame's time
  double extra_mib = 0;  // planted memory: MiB allocated and touched before `ready`

  DecodeOptions decode() const {
    DecodeOptions d;
    d.conf_threshold = conf;
    d.iou_threshold = iou;
    d.class_agnostic = agnostic;
    return d;
  }
};

std::variant<Options, int> parse_options(int argc, char** argv);

}  // namespace yolo
