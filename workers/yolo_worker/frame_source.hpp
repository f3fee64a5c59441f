// Frames to run the detector on, from a video file, a single image or a folder of images.
//
// Contract: `open` fails with a WorkerError of exit code 3 (InputNotFound, InputUnreadable,
// InputCorrupt) when the path cannot deliver a single frame, before any model work is spent.
// A video that ends before the frame count its container declares throws InputCorrupt from
// `next` (a truncated file must not pass for a short one).
#pragma once

#include <memory>
#include <string>

#include <opencv2/core.hpp>

namespace yolo {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  static std::unique_ptr<FrameSource> open(const std::string& path);

  // Next frame (BGR, 8-bit) or false at the end.
  virtual bool next(cv::Mat& frame) = 0;
  // Frames the source holds, -1 when the container does not say.
  virtual int total() const = 0;
  virtual const char* kind() const = 0;  // "video", "image" or "directory"
  // Name of the file the last frame came from ("" for videos).
  virtual std::string frame_name() const { return {}; }
};

}  // namespace yolo
