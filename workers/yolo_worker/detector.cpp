#include "detector.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "worker_error.hpp"

namespace yolo {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

WorkerError model_error(const std::string& type, const std::string& message) {
  return WorkerError(type, message, kExitModel);
}

// OpenCV's messages span several lines (node dumps); the first one says what failed.
std::string first_line_of(const cv::Exception& e) {
  const std::string text = e.err.empty() ? std::string(e.what()) : e.err;
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == ':')) line.pop_back();
  return line.empty() ? "OpenCV error in " + e.func : line;
}

}  // namespace

Detector::Detector(const DetectorOptions& options) : options_(options) {
  const std::string& path = options.model_path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw model_error("ModelNotFound", "cannot open model " + path +
                                           ": No such file (build the models with `cmake "
                                           "--build build --target yolo_models` or pass --model)");
  }
  if (!std::ifstream(path, std::ios::binary)) {
    throw model_error("ModelNotFound", "cannot read model " + path + ": permission denied");
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    net_ = cv::dnn::readNet(path);
  } catch (const cv::Exception& e) {
    throw model_error("ModelCorrupt", "cannot load model " + path + ": " + first_line_of(e) +
                                          " (the file is truncated or not an ONNX model)");
  }
  if (net_.empty()) {
    throw model_error("ModelCorrupt", "cannot load model " + path +
                                          ": OpenCV returned an empty "
                                          "network (the file is not a supported model format)");
  }
  net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  output_names_ = net_.getUnconnectedOutLayersNames();
  read_ms_ = ms_since(start);
  if (options.warmup) {
    const auto warm_start = std::chrono::steady_clock::now();
    cv::Mat grey(options.input_size, options.input_size, CV_8UC3, cv::Scalar::all(114));
    forward(grey);
    warmup_ms_ = ms_since(warm_start);
  }
}

cv::Mat Detector::forward(const cv::Mat& canvas) {
  const cv::Mat blob = cv::dnn::blobFromImage(canvas, 1.0 / 255.0, cv::Size(), cv::Scalar(),
                                              /*swapRB=*/true, /*crop=*/false);
  std::vector<cv::Mat> outputs;
  try {
    net_.setInput(blob);
    net_.forward(outputs, output_names_);
  } catch (const cv::Exception& e) {
    throw model_error("ModelCorrupt", "forward pass of " + options_.model_path + " at " +
                                          std::to_string(options_.input_size) +
                                          " failed: " + first_line_of(e) +
                                          " (is --size what the model was exported for?)");
  }
  if (outputs.empty()) {
    throw model_error("ModelOutputShape", "model " + options_.model_path + " has no output");
  }
  if (!shape_) {
    std::string why;
    shape_ = classify_output(outputs.front(), why);
    if (!shape_) {
      throw model_error("ModelOutputShape", "model " + options_.model_path + ": " + why +
                                                " (export with Ultralytics `format=onnx`)");
    }
  }
  return outputs.front();
}

std::vector<Detection> Detector::detect(const cv::Mat& frame, const DecodeOptions& decode_options) {
  cv::Mat canvas;
  const Letterbox geometry = letterbox(frame, options_.input_size, canvas);
  const cv::Mat output = forward(canvas);
  return decode(output, *shape_, geometry, decode_options);
}

}  // namespace yolo
