#pragma once
// Builds a YOLOv8 detector as an Ultralytics ONNX export lays it out (opset 12, input `images`
// [1,3,S,S], output `output0` [1,4+classes,anchors] with boxes as xywh pixels and sigmoid class
// scores), filled with synthetic weights, because these machines cannot download real ones.
//
// Contract: the same options give the same ModelProto, byte for byte, on any little-endian host.
// Batch norm is folded: every Conv block is Conv (with bias) + Sigmoid + Mul. Every trainable
// tensor is an initializer whose name ends in ".weight" or ".bias"; other initializers
// (shapes, anchors, strides) are not parameters.
#include <cstdint>
#include <filesystem>

#include <onnx/onnx_pb.h>

#include "models/yolo_scale.hpp"

namespace harness::models {

// How the synthetic weights are drawn: uniform, zero-mean, std = gain / sqrt(fan_in). The
// defaults were tuned on photographs (darknet's dog/eagle/giraffe, OpenCV's messi5) so that
// activations keep their size through the network and, at conf 0.25, a frame gets a handful
// of detections rather than none or thousands. See models/README.md.
struct WeightInit {
  double conv_gain = 1.7;      // Conv blocks; about what keeps E[x^2] through SiLU
  double residual_gain = 0.5;  // the second conv of a shortcut bottleneck, so sums stay bounded
  double bias_range = 0.05;    // folded-BN biases, uniform on [-r, r]
  double box_gain = 1.0;       // final 1x1 conv of the box branch: DFL bin logits
  double class_gain = 1.0;     // final 1x1 conv of the class branch
  double class_bias = -5.0;    // its bias: sigmoid(-5) = 0.007, so few scores pass 0.25
};

struct YoloOptions {
  const YoloScale* scale = &yolo_scale("n");
  std::uint64_t seed = 1;
  int size = 640;  // a multiple of 32
  int classes = 80;
  WeightInit init{};
};

struct ParamCount {
  std::int64_t fused = 0;  // elements of the ".weight" and ".bias" initializers as written
  // Output channels of the Conv blocks whose batch norm was folded into a bias: unfolding adds
  // a BN weight and a BN bias and drops the conv bias, one net parameter per channel.
  std::int64_t folded_bn_channels = 0;
  // What Ultralytics' model summary counts (and yolov8.yaml publishes).
  std::int64_t unfused() const { return fused + folded_bn_channels; }
};

struct YoloModel {
  onnx::ModelProto proto;
  ParamCount params;
  std::int64_t anchors = 0;  // columns of output0: (S/8)^2 + (S/16)^2 + (S/32)^2
};

// Throws std::invalid_argument for a size that is not a positive multiple of 32.
YoloModel build_yolov8(const YoloOptions& options);

// Writes the serialized model; throws std::runtime_error naming the path and the cause.
void write_model(const onnx::ModelProto& model, const std::filesystem::path& path);

}  // namespace harness::models
