#include "models/yolo_scale.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace harness::models {
namespace {

// yolov8.yaml: "n: [0.33, 0.25, 1024] # YOLOv8n summary: 225 layers, 3157200 parameters, ..."
constexpr std::array<YoloScale, 3> kScales{{
    {"n", 0.33, 0.25, 1024, 3'157'200},
    {"s", 0.33, 0.50, 1024, 11'166'560},
    {"m", 0.67, 0.75, 768, 25'902'640},
}};

}  // namespace

const YoloScale& yolo_scale(std::string_view name) {
  for (const auto& s : kScales)
    if (s.name == name) return s;
  throw std::invalid_argument("unknown YOLOv8 scale '" + std::string(name) + "': use n, s or m");
}

int scaled_channels(const YoloScale& scale, int channels) {
  // make_divisible(x, 8) = ceil(x / 8) * 8, as in ultralytics.utils.ops.
  const double c = std::min(channels, scale.max_channels) * scale.width;
  return static_cast<int>(std::ceil(c / 8.0)) * 8;
}

int scaled_repeats(const YoloScale& scale, int repeats) {
  // Python's round() is half-to-even, but no yolov8 product lands on .5, so either rounding
  // gives the same counts.
  return std::max(static_cast<int>(std::lround(repeats * scale.depth)), 1);
}

}  // namespace harness::models
