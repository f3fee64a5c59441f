#include "decode.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace yolo {

namespace {

constexpr std::array<std::string_view, 80> kCocoNames = {
    "person",        "bicycle",      "car",
    "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",
    "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",
    "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",
    "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",
    "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",
    "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket",
    "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",
    "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",
    "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",
    "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",
    "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",
    "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",
    "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush"};

constexpr float kPadValue = 114.0F;

struct Candidate {
  int class_id;
  float confidence;
  cv::Rect2d box;  // network-input pixels
};

// Keeps the candidates that survive NMS, per class unless agnostic.
std::vector<Candidate> suppress(const std::vector<Candidate>& candidates,
                                const DecodeOptions& options) {
  std::map<int, std::vector<int>> groups;  // class (or -1 when agnostic) -> candidate indices
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    groups[options.class_agnostic ? -1 : candidates[i].class_id].push_back(i);
  }
  std::vector<Candidate> kept;
  for (const auto& [group, members] : groups) {
    std::vector<cv::Rect2d> boxes;
    std::vector<float> scores;
    for (int i : members) {
      boxes.push_back(candidates[i].box);
      scores.push_back(candidates[i].confidence);
    }
    std::vector<int> survivors;
    cv::dnn::NMSBoxes(boxes, scores, options.conf_threshold, options.iou_threshold, survivors);
    for (int s : survivors) kept.push_back(candidates[members[s]]);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Candidate& a, const Candidate& b) {
    return a.confidence > b.confidence;
  });
  if (options.max_detections > 0 && static_cast<int>(kept.size()) > options.max_detections) {
    kept.resize(options.max_detections);
  }
  return kept;
}

cv::Rect2f to_source(const cv::Rect2d& box, const Letterbox& g) {
  const double x0 = std::clamp((box.x - g.pad_x) / g.scale, 0.0, double(g.source_width));
  const double y0 = std::clamp((box.y - g.pad_y) / g.scale, 0.0, double(g.source_height));
  const double x1 =
      std::clamp((box.x + box.width - g.pad_x) / g.scale, 0.0, double(g.source_width));
  const double y1 =
      std::clamp((box.y + box.height - g.pad_y) / g.scale, 0.0, double(g.source_height));
  return cv::Rect2f(float(x0), float(y0), float(x1 - x0), float(y1 - y0));
}

}  // namespace

Letterbox letterbox_geometry(int source_width, int source_height, int size) {
  Letterbox g;
  g.source_width = source_width;
  g.source_height = source_height;
  g.scale = std::min(float(size) / float(source_height), float(size) / float(source_width));
  const int resized_w = int(std::lround(float(source_width) * g.scale));
  const int resized_h = int(std::lround(float(source_height) * g.scale));
  // Ultralytics splits odd padding with the extra pixel at the bottom/right.
  g.pad_x = float(std::lround((size - resized_w) / 2.0 - 0.1));
  g.pad_y = float(std::lround((size - resized_h) / 2.0 - 0.1));
  return g;
}

Letterbox letterbox(const cv::Mat& image, int size, cv::Mat& canvas) {
  const Letterbox g = letterbox_geometry(image.cols, image.rows, size);
  const int resized_w = int(std::lround(float(image.cols) * g.scale));
  const int resized_h = int(std::lround(float(image.rows) * g.scale));
  cv::Mat resized;
  if (resized_w != image.cols || resized_h != image.rows) {
    cv::resize(image, resized, cv::Size(resized_w, resized_h), 0, 0, cv::INTER_LINEAR);
  } else {
    resized = image;
  }
  const int left = int(g.pad_x);
  const int top = int(g.pad_y);
  cv::copyMakeBorder(resized, canvas, top, size - resized_h - top, left, size - resized_w - left,
                     cv::BORDER_CONSTANT, cv::Scalar::all(kPadValue));
  return g;
}

std::optional<OutputShape> classify_output(const cv::Mat& output, std::string& why) {
  if (output.dims != 3 || output.size[0] != 1 || output.type() != CV_32F) {
    why = "expected a float tensor [1, 4+classes, N] (YOLOv8) or [1, N, 5+classes] (YOLOv5), got " +
          std::to_string(output.dims) + " dimensions";
    if (output.dims >= 1) {
      why += " [";
      for (int d = 0; d < output.dims; ++d) why += (d ? "," : "") + std::to_string(output.size[d]);
      why += "]";
    }
    return std::nullopt;
  }
  const int rows = output.size[1];
  const int cols = output.size[2];
  OutputShape shape;
  // COCO exports are recognised by their channel count; other class counts by the fact that an
  // export always has far more candidates than channels.
  const bool v8 = rows == 84 || (cols != 85 && rows < cols);
  if (v8 && rows >= 5) {
    shape.layout = Layout::kYoloV8;
    shape.candidates = cols;
    shape.num_classes = rows - 4;
    return shape;
  }
  if (!v8 && (cols == 85 || rows > cols) && cols >= 6) {
    shape.layout = Layout::kYoloV5;
    shape.candidates = rows;
    shape.num_classes = cols - 5;
    return shape;
  }
  why = "output [1," + std::to_string(rows) + "," + std::to_string(cols) +
        "] is neither YOLOv8 [1, 4+classes, N] nor YOLOv5 [1, N, 5+classes]";
  return std::nullopt;
}

std::vector<Detection> decode(const cv::Mat& output, const OutputShape& shape,
                              const Letterbox& geometry, const DecodeOptions& options) {
  std::vector<Candidate> candidates;
  const auto* data = output.ptr<float>();
  const int n = shape.candidates;
  const int nc = shape.num_classes;
  for (int i = 0; i < n; ++i) {
    float cx, cy, w, h, best = -1.0F;
    int best_class = 0;
    if (shape.layout == Layout::kYoloV8) {
      // Channel-major: element (channel c, candidate i) is at c * n + i.
      cx = data[0 * n + i];
      cy = data[1 * n + i];
      w = data[2 * n + i];
      h = data[3 * n + i];
      for (int c = 0; c < nc; ++c) {
        const float s = data[(4 + c) * n + i];
        if (s > best) best = s, best_class = c;
      }
    } else {
      const float* row = data + std::size_t(i) * std::size_t(nc + 5);
      const float objectness = row[4];
      if (objectness < options.conf_threshold) continue;  // cannot pass: class scores are <= 1
      cx = row[0];
      cy = row[1];
      w = row[2];
      h = row[3];
      for (int c = 0; c < nc; ++c) {
        if (row[5 + c] > best) best = row[5 + c], best_class = c;
      }
      best *= objectness;
    }
    if (!(best >= options.conf_threshold) || !(w > 0.0F) || !(h > 0.0F)) continue;
    candidates.push_back({best_class, best, cv::Rect2d(cx - w / 2.0, cy - h / 2.0, w, h)});
  }
  std::vector<Detection> detections;
  for (const Candidate& c : suppress(candidates, options)) {
    detections.push_back({c.class_id, c.confidence, to_source(c.box, geometry)});
  }
  return detections;
}

std::string class_name(int class_id) {
  if (class_id >= 0 && class_id < int(kCocoNames.size())) return std::string(kCocoNames[class_id]);
  return "class_" + std::to_string(class_id);
}

}  // namespace yolo
