// YOLO post-processing: letterbox geometry, output-tensor decoding and non-maximum suppression.
//
// Contract: `decode` accepts the raw output of an Ultralytics-style export, either YOLOv8
// `[1, 4 + nc, N]` (rows are cx, cy, w, h, then one score per class; no objectness) or YOLOv5
// `[1, N, 5 + nc]` (cx, cy, w, h, objectness, then class scores; confidence = obj * class).
// Box coordinates in the tensor are pixels of the letterboxed network input; the returned boxes
// are in pixels of the original image, clipped to it, sorted by confidence (highest first).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace yolo {

struct Detection {
  int class_id = 0;
  float confidence = 0.0F;
  cv::Rect2f box;  // original-image pixels: x, y of the top-left corner, width, height
};

// How an original image was placed inside the square network input: scaled by `scale`, then
// shifted by (pad_x, pad_y). Mapping back inverts exactly that.
struct Letterbox {
  float scale = 1.0F;
  float pad_x = 0.0F;
  float pad_y = 0.0F;
  int source_width = 0;
  int source_height = 0;
};

// Resizes `image` into a `size` x `size` canvas keeping its aspect ratio, centred, padded with
// grey 114 as Ultralytics does. Returns the geometry needed to map boxes back.
Letterbox letterbox(const cv::Mat& image, int size, cv::Mat& canvas);

// Geometry only (no pixels): what `letterbox` would compute for a source of this size.
Letterbox letterbox_geometry(int source_width, int source_height, int size);

enum class Layout { kYoloV8, kYoloV5 };

struct OutputShape {
  Layout layout = Layout::kYoloV8;
  int candidates = 0;   // N: anchors (v8: 8400 at 640) or predictions (v5: 25200 at 640)
  int num_classes = 0;  // nc
};

// Recognises the layout from the tensor's dimensions; std::nullopt with `why` filled when the
// tensor is neither layout (the caller reports a model error).
std::optional<OutputShape> classify_output(const cv::Mat& output, std::string& why);

struct DecodeOptions {
  float conf_threshold = 0.25F;
  float iou_threshold = 0.45F;
  bool class_agnostic = false;  // true: one NMS over all classes; false: NMS per class
  int max_detections = 300;
};

// Decodes, thresholds, suppresses and maps back. `output` must satisfy `classify_output`.
std::vector<Detection> decode(const cv::Mat& output, const OutputShape& shape,
                              const Letterbox& geometry, const DecodeOptions& options);

// The 80 COCO class names in model order; ids outside it are named "class_<id>".
std::string class_name(int class_id);

}  // namespace yolo
