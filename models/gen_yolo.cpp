// gen_yolo: writes a YOLOv8-topology ONNX model with deterministic synthetic weights and prints
// its parameter count next to the one Ultralytics publishes for the same scale.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "models/yolo_graph.hpp"

int main(int argc, char** argv) {
  using namespace harness::models;
  CLI::App app{"Write a YOLOv8-topology ONNX model (opset 12) with synthetic weights"};
  std::string scale = "n";
  std::string output;
  YoloOptions options;
  app.add_option("--scale", scale, "model scale")->check(CLI::IsMember({"n", "s", "m"}));
  app.add_option("--seed", options.seed, "weight seed; the same seed writes the same bytes");
  app.add_option("--output", output, "where to write the .onnx file")->required();
  app.add_option("--size", options.size, "input side in pixels, a multiple of 32")
      ->capture_default_str();
  // Weight knobs (see WeightInit): the defaults are tuned; the options are for retuning.
  auto& init = options.init;
  app.add_option("--class-bias", init.class_bias, "mean class logit: lower, fewer detections")
      ->capture_default_str();
  app.add_option("--class-std", init.class_std, "spread of the class logits")
      ->capture_default_str();
  app.add_option("--box-std", init.box_std, "spread of the DFL bin logits")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const auto start = std::chrono::steady_clock::now();
    options.scale = &yolo_scale(scale);
    const auto model = build_yolov8(options);
    write_model(model.proto, output);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

    const auto& p = model.params;
    const double off = 100.0 * static_cast<double>(p.unfused() - options.scale->published_params) /
                       static_cast<double>(options.scale->published_params);
    fmt::print(
        "yolov8{}: {} parameters as written (batch norm folded); {} unfused as Ultralytics counts"
        " them, published {} ({:+.2f} %); {} anchors; wrote {} in {:.2f} s\n",
        scale, p.fused, p.unfused(), options.scale->published_params, off, model.anchors, output,
        took.count());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gen_yolo: %s\n", e.what());
    return 1;
  }
  return 0;
}
