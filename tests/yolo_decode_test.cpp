// Decode + NMS + letterbox of the YOLO worker, fed hand-built output tensors whose boxes and
// scores are known, so the expected detections are worked out by hand, not read from a model.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "decode.hpp"

namespace {

using yolo::Detection;

constexpr int kClasses = 80;

struct Box {
  float cx, cy, w, h;
};

// A YOLOv8 tensor [1, 4+80, n], all scores zero until set.
class V8Tensor {
 public:
  explicit V8Tensor(int n) : n_(n) {
    const int dims[] = {1, 4 + kClasses, n};
    mat_ = cv::Mat(3, dims, CV_32F, cv::Scalar(0));
  }
  void set(int i, Box b, int cls, float score) {
    at(0, i) = b.cx, at(1, i) = b.cy, at(2, i) = b.w, at(3, i) = b.h;
    at(4 + cls, i) = score;
  }
  const cv::Mat& mat() const { return mat_; }

 private:
  float& at(int channel, int i) { return mat_.ptr<float>()[channel * n_ + i]; }
  int n_;
  cv::Mat mat_;
};

// A YOLOv5 tensor [1, n, 5+80].
class V5Tensor {
 public:
  explicit V5Tensor(int n) {
    const int dims[] = {1, n, 5 + kClasses};
    mat_ = cv::Mat(3, dims, CV_32F, cv::Scalar(0));
  }
  void set(int i, Box b, float objectness, int cls, float score) {
    float* row = mat_.ptr<float>() + i * (5 + kClasses);
    row[0] = b.cx, row[1] = b.cy, row[2] = b.w, row[3] = b.h, row[4] = objectness;
    row[5 + cls] = score;
  }
  const cv::Mat& mat() const { return mat_; }

 private:
  cv::Mat mat_;
};

std::vector<Detection> run(const cv::Mat& tensor, const yolo::Letterbox& g,
                           yolo::DecodeOptions options = {}) {
  std::string why;
  const auto shape = yolo::classify_output(tensor, why);
  EXPECT_TRUE(shape.has_value()) << why;
  if (!shape) return {};
  return yolo::decode(tensor, *shape, g, options);
}

// Identity mapping: a 640x640 source needs no scaling and no padding.
const yolo::Letterbox kSquare = yolo::letterbox_geometry(640, 640, 640);

TEST(yolo_decode_test, letterbox_geometry_of_640x480_pads_80_rows_top_and_bottom) {
  const auto g = yolo::letterbox_geometry(640, 480, 640);
  EXPECT_FLOAT_EQ(g.scale, 1.0F);
  EXPECT_FLOAT_EQ(g.pad_x, 0.0F);
  EXPECT_FLOAT_EQ(g.pad_y, 80.0F);
}

TEST(yolo_decode_test, letterbox_halves_1280x720_and_pads_with_grey_114) {
  cv::Mat image(720, 1280, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::Mat canvas;
  const auto g = yolo::letterbox(image, 640, canvas);
  EXPECT_FLOAT_EQ(g.scale, 0.5F);
  EXPECT_FLOAT_EQ(g.pad_y, 140.0F);  // (640 - 360) / 2
  ASSERT_EQ(canvas.size(), cv::Size(640, 640));
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 0), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(canvas.at<cv::Vec3b>(139, 320), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(canvas.at<cv::Vec3b>(140, 320), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(499, 639), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(500, 0), cv::Vec3b(114, 114, 114));
}

TEST(yolo_decode_test, v8_box_is_converted_from_centre_to_corner) {
  V8Tensor t(8);
  t.set(3, {320, 200, 100, 60}, 16, 0.9F);
  const auto d = run(t.mat(), kSquare);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].class_id, 16);
  EXPECT_EQ(yolo::class_name(d[0].class_id), "dog");
  EXPECT_FLOAT_EQ(d[0].confidence, 0.9F);
  EXPECT_FLOAT_EQ(d[0].box.x, 270.0F);
  EXPECT_FLOAT_EQ(d[0].box.y, 170.0F);
  EXPECT_FLOAT_EQ(d[0].box.width, 100.0F);
  EXPECT_FLOAT_EQ(d[0].box.height, 60.0F);
}

TEST(yolo_decode_test, v8_box_maps_back_through_letterbox_to_original_pixels) {
  // Source 1280x720 -> scale 0.5, pad_y 140. A box at network (100..300, 240..340) is
  // source (200..600, 200..400).
  const auto g = yolo::letterbox_geometry(1280, 720, 640);
  V8Tensor t(4);
  t.set(0, {200, 290, 200, 100}, 2, 0.8F);
  const auto d = run(t.mat(), g);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_NEAR(d[0].box.x, 200.0F, 1e-3);
  EXPECT_NEAR(d[0].box.y, 200.0F, 1e-3);
  EXPECT_NEAR(d[0].box.width, 400.0F, 1e-3);
  EXPECT_NEAR(d[0].box.height, 200.0F, 1e-3);
}

TEST(yolo_decode_test, boxes_reaching_into_the_padding_are_clipped_to_the_image) {
  const auto g = yolo::letterbox_geometry(640, 480, 640);  // pad_y 80
  V8Tensor t(2);
  t.set(0, {20, 100, 60, 80}, 0, 0.7F);  // network y 60..140 -> source -20..60 -> 0..60
  const auto d = run(t.mat(), g);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_FLOAT_EQ(d[0].box.x, 0.0F);  // x -10 clipped
  EXPECT_FLOAT_EQ(d[0].box.width, 50.0F);
  EXPECT_FLOAT_EQ(d[0].box.y, 0.0F);
  EXPECT_FLOAT_EQ(d[0].box.height, 60.0F);
}

TEST(yolo_decode_test, scores_below_the_confidence_threshold_are_dropped) {
  V8Tensor t(3);
  t.set(0, {100, 100, 50, 50}, 0, 0.24F);
  t.set(1, {400, 400, 50, 50}, 1, 0.26F);
  const auto d = run(t.mat(), kSquare);  // default conf 0.25
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].class_id, 1);

  yolo::DecodeOptions strict;
  strict.conf_threshold = 0.5F;
  EXPECT_TRUE(run(t.mat(), kSquare, strict).empty());
}

TEST(yolo_decode_test, nms_keeps_the_best_of_overlapping_boxes_of_one_class) {
  V8Tensor t(5);
  t.set(0, {300, 300, 100, 100}, 5, 0.6F);
  t.set(1, {305, 302, 100, 100}, 5, 0.9F);  // IoU with box 0 ~0.88
  t.set(2, {500, 500, 80, 80}, 5, 0.5F);    // far away: survives
  const auto d = run(t.mat(), kSquare);
  ASSERT_EQ(d.size(), 2U);
  EXPECT_FLOAT_EQ(d[0].confidence, 0.9F);  // sorted by confidence
  EXPECT_FLOAT_EQ(d[0].box.x, 255.0F);
  EXPECT_FLOAT_EQ(d[1].confidence, 0.5F);
}

TEST(yolo_decode_test, nms_threshold_decides_what_counts_as_overlap) {
  V8Tensor t(2);
  t.set(0, {300, 300, 100, 100}, 0, 0.9F);
  t.set(1, {350, 300, 100, 100}, 0, 0.8F);      // IoU = 50*100 / (2*10000 - 5000) = 1/3
  EXPECT_EQ(run(t.mat(), kSquare).size(), 2U);  // 0.33 < 0.45
  yolo::DecodeOptions tight;
  tight.iou_threshold = 0.3F;
  EXPECT_EQ(run(t.mat(), kSquare, tight).size(), 1U);
}

TEST(yolo_decode_test, nms_is_per_class_unless_agnostic) {
  V8Tensor t(2);
  t.set(0, {300, 300, 100, 100}, 0, 0.9F);
  t.set(1, {300, 300, 100, 100}, 16, 0.8F);  // same box, other class
  EXPECT_EQ(run(t.mat(), kSquare).size(), 2U);
  yolo::DecodeOptions agnostic;
  agnostic.class_agnostic = true;
  const auto d = run(t.mat(), kSquare, agnostic);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].class_id, 0);
}

TEST(yolo_decode_test, v8_takes_the_best_class_of_a_candidate) {
  V8Tensor t(1);
  t.set(0, {100, 100, 20, 20}, 3, 0.4F);
  t.set(0, {100, 100, 20, 20}, 79, 0.7F);
  const auto d = run(t.mat(), kSquare);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].class_id, 79);
  EXPECT_EQ(yolo::class_name(79), "toothbrush");
}

TEST(yolo_decode_test, max_detections_caps_the_result) {
  V8Tensor t(10);
  for (int i = 0; i < 10; ++i) t.set(i, {float(30 + 60 * i), 100, 40, 40}, 0, 0.5F + 0.01F * i);
  yolo::DecodeOptions capped;
  capped.max_detections = 3;
  const auto d = run(t.mat(), kSquare, capped);
  ASSERT_EQ(d.size(), 3U);
  EXPECT_FLOAT_EQ(d[0].confidence, 0.59F);
}

TEST(yolo_decode_test, v5_layout_is_recognised_and_multiplies_objectness) {
  V5Tensor t(12);
  t.set(2, {320, 320, 64, 32}, 0.5F, 7, 0.8F);  // 0.4: kept
  t.set(5, {100, 100, 10, 10}, 0.9F, 1, 0.2F);  // 0.18: below 0.25
  t.set(9, {500, 100, 10, 10}, 0.2F, 1, 1.0F);  // objectness below threshold
  std::string why;
  const auto shape = yolo::classify_output(t.mat(), why);
  ASSERT_TRUE(shape.has_value()) << why;
  EXPECT_EQ(shape->layout, yolo::Layout::kYoloV5);
  EXPECT_EQ(shape->candidates, 12);
  EXPECT_EQ(shape->num_classes, 80);
  const auto d = run(t.mat(), kSquare);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].class_id, 7);
  EXPECT_NEAR(d[0].confidence, 0.4F, 1e-6);
  EXPECT_FLOAT_EQ(d[0].box.x, 288.0F);
  EXPECT_FLOAT_EQ(d[0].box.y, 304.0F);
}

TEST(yolo_decode_test, v5_boxes_map_back_through_letterbox_too) {
  const auto g = yolo::letterbox_geometry(320, 240, 640);  // scale 2, pad_y 80
  V5Tensor t(20);
  t.set(0, {320, 320, 200, 100}, 1.0F, 0, 0.9F);  // net 220..420 x 270..370
  const auto d = run(t.mat(), g);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_FLOAT_EQ(d[0].box.x, 110.0F);
  EXPECT_FLOAT_EQ(d[0].box.y, 95.0F);  // (270 - 80) / 2
  EXPECT_FLOAT_EQ(d[0].box.width, 100.0F);
  EXPECT_FLOAT_EQ(d[0].box.height, 50.0F);
}

TEST(yolo_decode_test, v8_layout_is_recognised_from_an_export_shape) {
  const int dims[] = {1, 84, 8400};
  const cv::Mat out(3, dims, CV_32F, cv::Scalar(0));
  std::string why;
  const auto shape = yolo::classify_output(out, why);
  ASSERT_TRUE(shape.has_value()) << why;
  EXPECT_EQ(shape->layout, yolo::Layout::kYoloV8);
  EXPECT_EQ(shape->candidates, 8400);
  EXPECT_EQ(shape->num_classes, 80);
  EXPECT_TRUE(run(out, kSquare).empty());  // all-zero scores: nothing detected
}

TEST(yolo_decode_test, shapes_of_other_networks_are_rejected_with_a_reason) {
  std::string why;
  const cv::Mat classifier(1, 1000, CV_32F, cv::Scalar(0));  // [1, 1000]
  EXPECT_FALSE(yolo::classify_output(classifier, why).has_value());
  EXPECT_NE(why.find("[1,1000]"), std::string::npos) << why;
  const int square[] = {1, 3, 3};
  EXPECT_FALSE(yolo::classify_output(cv::Mat(3, square, CV_32F), why).has_value());
  const int batch2[] = {2, 84, 8400};
  EXPECT_FALSE(yolo::classify_output(cv::Mat(3, batch2, CV_32F), why).has_value());
}

TEST(yolo_decode_test, class_names_are_coco_and_unknown_ids_get_a_placeholder) {
  EXPECT_EQ(yolo::class_name(0), "person");
  EXPECT_EQ(yolo::class_name(80), "class_80");
  EXPECT_EQ(yolo::class_name(-1), "class_-1");
}

}  // namespace
