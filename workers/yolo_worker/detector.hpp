// A loaded YOLO network: letterbox, forward, decode. Construction is the "model loading" phase
// the harness measures (ready event); it includes one warm-up forward on a grey frame unless
// disabled, because OpenCV allocates the layer buffers on the first forward, so the memory and
// the output shape of a model are only known after it.
//
// Contract: construction throws WorkerError with exit code 4 (ModelNotFound, ModelCorrupt,
// ModelOutputShape); `detect` throws ModelOutputShape if the warm-up was skipped and the first
// real forward reveals a shape `decode` cannot read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/dnn.hpp>

#include "decode.hpp"

namespace yolo {

struct DetectorOptions {
  std::string model_path;
  int input_size = 640;
  bool warmup = true;
};

class Detector {
 public:
  explicit Detector(const DetectorOptions& options);

  std::vector<Detection> detect(const cv::Mat& frame, const DecodeOptions& decode_options);

  double read_ms() const { return read_ms_; }
  double warmup_ms() const { return warmup_ms_; }
  const std::optional<OutputShape>& output_shape() const { return shape_; }

 private:
  cv::Mat forward(const cv::Mat& canvas);

  DetectorOptions options_;
  cv::dnn::Net net_;
  std::vector<std::string> output_names_;
  std::optional<OutputShape> shape_;
  double read_ms_ = 0.0;
  double warmup_ms_ = 0.0;
};

}  // namespace yolo
