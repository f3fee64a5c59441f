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

// How the synthetic weights are made. Each output channel of a conv gets uniform random weights,
// then the batch norm that Ultralytics' Conv has is folded in with statistics derived, not
// measured: the builder carries each channel's mean and second moment through the graph (an
// input image is about 0.45 +- 0.27 per channel) and scales every channel to unit variance before
// SiLU, as a trained BN would. That keeps activations the same size at every depth and scale, so
// the head's logits have the spread asked for here. Tuned on darknet's dog/eagle/giraffe and
// OpenCV's messi5 photographs for a handful of detections per frame at conf 0.25; see README.
struct WeightInit {
  double bn_beta = 0.05;  // BN shifts, uniform on [-beta, beta]
  // The SiLU output's second moment is taken as this times that of SiLU(N(0, 1)). Per-channel
  // variances differ, and SiLU is convex in them, so 1.0 under-estimates and the activations
  // grow with depth; 1.5 settles every scale at a std of about 0.2 on photographs.
  double silu_m2_factor = 1.5;
  double box_std = 5.0;      // DFL bin logits (measured spread about 1.7)
  double class_std = 3.5;    // class logits (measured spread about 1.0)
  double class_bias = -3.8;  // their mean: a few dozen of 8400 anchors pass conf 0.25
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
