#pragma once
// The compound-scaling constants of Ultralytics' yolov8.yaml and the parameter counts it
// publishes for them. Those counts are of the unfused PyTorch model: convolutions without bias,
// each followed by a BatchNorm2d whose weight and bias are trainable parameters.
#include <cstdint>
#include <string_view>

namespace harness::models {

struct YoloScale {
  std::string_view name;  // "n", "s", "m"
  double depth;           // repeats = max(round(n * depth), 1)
  double width;           // channels = make_divisible(min(c, max_channels) * width, 8)
  int max_channels;
  std::int64_t published_params;  // yolov8.yaml's "summary" line, unfused
};

// Throws std::invalid_argument naming the scales that exist.
const YoloScale& yolo_scale(std::string_view name);

int scaled_channels(const YoloScale& scale, int channels);
int scaled_repeats(const YoloScale& scale, int repeats);

}  // namespace harness::models
