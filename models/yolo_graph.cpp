#include "models/yolo_graph.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/onnx_graph.hpp"
#include "models/splitmix64.hpp"

namespace harness::models {
namespace {

constexpr int kRegMax = 16;  // DFL bins per box side
constexpr std::array<int, 3> kStrides{8, 16, 32};

// SiLU of a unit normal: E[silu(z)] and E[silu(z)^2], by numerical integration.
constexpr double kSiluMean = 0.206621;
constexpr double kSiluM2 = 0.355776;
// A photograph scaled to [0, 1]: about 0.45 +- 0.27 in each channel.
constexpr double kImageMean = 0.45;
constexpr double kImageM2 = 0.45 * 0.45 + 0.27 * 0.27;

// A tensor of the graph with what the next layer's weights depend on: per channel, the mean and
// the second moment the builder expects on photographs.
struct Tensor {
  std::string name;
  std::vector<double> mean;
  std::vector<double> m2;
  int channels() const { return static_cast<int>(mean.size()); }
};

Tensor with_moments(std::string name, int channels, double mean, double m2) {
  const auto n = static_cast<std::size_t>(channels);
  return {std::move(name), std::vector<double>(n, mean), std::vector<double>(n, m2)};
}

Tensor slice(std::string name, const Tensor& x, int from, int count) {
  return {std::move(name),
          {x.mean.begin() + from, x.mean.begin() + from + count},
          {x.m2.begin() + from, x.m2.begin() + from + count}};
}

Tensor renamed(Tensor x, std::string name) {
  x.name = std::move(name);
  return x;
}

class YoloBuilder {
 public:
  YoloBuilder(const YoloOptions& options, onnx::GraphProto* graph)
      : opt_(options), scale_(*options.scale), g_(graph), rng_(options.seed) {}

  void build();
  const ParamCount& params() const { return params_; }
  std::int64_t anchors() const { return anchors_; }

 private:
  int ch(int c) const { return scaled_channels(scale_, c); }
  int reps(int n) const { return scaled_repeats(scale_, n); }

  // Conv2d with bias. Each output channel's weights are drawn uniform on [-1, 1), then scaled
  // and shifted (a folded batch norm) so that, on inputs with x's moments, the channel has mean
  // beta[o] and standard deviation `std`. Only + * / and sqrt, in a fixed order: the bytes do
  // not depend on the libm.
  std::string conv2d(const Tensor& x, int c2, int k, int s, const std::string& prefix, double std,
                     const std::vector<double>& beta, bool centred = false) {
    const int c1 = x.channels();
    const auto fan_in = static_cast<std::size_t>(c1 * k * k);
    const auto taps = static_cast<std::size_t>(k * k);
    std::vector<float> w(static_cast<std::size_t>(c2) * fan_in);
    std::vector<float> bias(static_cast<std::size_t>(c2));
    std::vector<double> row(fan_in);
    for (std::size_t o = 0; o < bias.size(); ++o) {
      for (auto& r : row) r = rng_.symmetric();
      if (centred) {
        // A zero-sum row cancels what all inputs share, such as the mean that the moment
        // estimate gets wrong, which would otherwise become a fixed, image-blind logit.
        double sum = 0;
        for (double r : row) sum += r;
        for (auto& r : row) r -= sum / static_cast<double>(fan_in);
      }
      double mean = 0, var = 0;
      for (std::size_t j = 0; j < fan_in; ++j) {
        const std::size_t i = j / taps;
        const double r = row[j];
        mean += r * x.mean[i];
        var += r * r * (x.m2[i] - x.mean[i] * x.mean[i]);
      }
      const double scale = std / std::sqrt(var);
      for (std::size_t j = 0; j < fan_in; ++j)
        w[o * fan_in + j] = static_cast<float>(row[j] * scale);
      bias[o] = static_cast<float>(beta[o] - mean * scale);
    }
    auto w_name = g_.initializer(prefix + ".weight", {c2, c1, k, k}, w);
    auto b_name = g_.initializer(prefix + ".bias", {c2}, bias);
    params_.fused += static_cast<std::int64_t>(w.size() + bias.size());
    auto& n = g_.node("Conv", "/" + prefix + "/Conv", {x.name, w_name, b_name});
    set_attr(n, "dilations", std::vector<std::int64_t>{1, 1});
    set_attr(n, "group", std::int64_t{1});
    set_attr(n, "kernel_shape", std::vector<std::int64_t>{k, k});
    set_attr(n, "pads", std::vector<std::int64_t>{k / 2, k / 2, k / 2, k / 2});
    set_attr(n, "strides", std::vector<std::int64_t>{s, s});
    return n.output(0);
  }

  // Ultralytics' Conv: Conv2d + BatchNorm2d (folded into the bias) + SiLU, exported as
  // x * Sigmoid(x) because opset 12 has no SiLU and OpenCV 4.6 imports this pair.
  Tensor conv(const Tensor& x, int c2, int k, int s, const std::string& prefix) {
    std::vector<double> beta(static_cast<std::size_t>(c2));
    for (auto& b : beta) b = rng_.symmetric() * opt_.init.bn_beta;
    auto y = conv2d(x, c2, k, s, prefix + ".conv", 1.0, beta);
    params_.folded_bn_channels += c2;
    auto sig = g_.op("Sigmoid", "/" + prefix + "/act/Sigmoid", {y});
    // The moments of SiLU(N(0, 1)); the small BN shifts are left out.
    return with_moments(g_.op("Mul", "/" + prefix + "/act/Mul", {y, sig}), c2, kSiluMean,
                        kSiluM2 * opt_.init.silu_m2_factor);
  }

  Tensor concat(const std::vector<Tensor>& parts, const std::string& name) {
    Tensor out;
    std::vector<std::string> names;
    for (const auto& p : parts) {
      names.push_back(p.name);
      out.mean.insert(out.mean.end(), p.mean.begin(), p.mean.end());
      out.m2.insert(out.m2.end(), p.m2.begin(), p.m2.end());
    }
    auto& n = g_.node("Concat", name, names);
    set_attr(n, "axis", std::int64_t{1});
    out.name = n.output(0);
    return out;
  }

  // C2f: cv1 to 2c channels, split in halves, n bottlenecks chained on the second half, every
  // intermediate concatenated, cv2 back to c2.
  Tensor c2f(const Tensor& x, int c2, int n, bool shortcut, const std::string& prefix) {
    const int c = c2 / 2;
    auto y = conv(x, 2 * c, 1, 1, prefix + ".cv1");
    auto& split = g_.node("Split", "/" + prefix + "/Split", {y.name}, 2);
    set_attr(split, "axis", std::int64_t{1});
    set_attr(split, "split", std::vector<std::int64_t>{c, c});
    std::vector<Tensor> parts{slice(split.output(0), y, 0, c), slice(split.output(1), y, c, c)};
    for (int i = 0; i < n; ++i) {
      const auto m = prefix + ".m." + std::to_string(i);
      const Tensor in = parts.back();
      auto h = conv(in, c, 3, 1, m + ".cv1");
      h = conv(h, c, 3, 1, m + ".cv2");
      if (shortcut) {
        // The moments of a sum, taking the two terms' fluctuations as independent.
        for (std::size_t j = 0; j < h.mean.size(); ++j) {
          h.m2[j] += in.m2[j] + 2 * h.mean[j] * in.mean[j];
          h.mean[j] += in.mean[j];
        }
        h.name = g_.op("Add", "/" + m + "/Add", {in.name, h.name});
      }
      parts.push_back(h);
    }
    return conv(concat(parts, "/" + prefix + "/Concat"), c2, 1, 1, prefix + ".cv2");
  }

  // SPPF: cv1 to c1/2, three chained 5x5 max pools, all four concatenated, cv2.
  Tensor sppf(const Tensor& x, int c2, const std::string& prefix) {
    std::vector<Tensor> parts{conv(x, x.channels() / 2, 1, 1, prefix + ".cv1")};
    for (int i = 0; i < 3; ++i) {
      auto& n = g_.node("MaxPool", "/" + prefix + "/m/MaxPool", {parts.back().name});
      set_attr(n, "ceil_mode", std::int64_t{0});
      set_attr(n, "kernel_shape", std::vector<std::int64_t>{5, 5});
      set_attr(n, "pads", std::vector<std::int64_t>{2, 2, 2, 2});
      set_attr(n, "strides", std::vector<std::int64_t>{1, 1});
      // A max pool raises the moments. Taking them as unchanged makes cv2's output somewhat
      // larger than unit variance, once; the normalised convs after it do not compound that.
      parts.push_back(renamed(parts.back(), n.output(0)));
    }
    return conv(concat(parts, "/" + prefix + "/Concat"), c2, 1, 1, prefix + ".cv2");
  }

  // nn.Upsample(scale_factor=2, mode="nearest") as torch exports it at opset 11+.
  Tensor upsample(const Tensor& x, const std::string& prefix) {
    auto roi = g_.initializer("/" + prefix + "/roi", {0}, {});
    auto scales = g_.initializer("/" + prefix + "/scales", {4}, {1.f, 1.f, 2.f, 2.f});
    auto& n = g_.node("Resize", "/" + prefix + "/Resize", {x.name, roi, scales});
    set_attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
    set_attr(n, "cubic_coeff_a", -0.75f);
    set_attr(n, "mode", std::string("nearest"));
    set_attr(n, "nearest_mode", std::string("floor"));
    return renamed(x, n.output(0));
  }

  std::string reshape(const std::string& x, const std::vector<std::int64_t>& shape,
                      const std::string& name) {
    auto s = g_.initializer_i64(name + "/shape", {static_cast<std::int64_t>(shape.size())}, shape);
    return g_.op("Reshape", name, {x, s});
  }

  std::string transpose(const std::string& x, const std::vector<std::int64_t>& perm,
                        const std::string& name) {
    auto& n = g_.node("Transpose", name, {x});
    set_attr(n, "perm", perm);
    return n.output(0);
  }

  std::vector<std::string> split(const std::string& x, std::int64_t axis,
                                 const std::vector<std::int64_t>& sizes, const std::string& name) {
    auto& n = g_.node("Split", name, {x}, static_cast<int>(sizes.size()));
    set_attr(n, "axis", axis);
    set_attr(n, "split", sizes);
    return {n.output().begin(), n.output().end()};
  }

  // A constant [1, rows, anchors] tensor. OpenCV 4.6 cannot broadcast a [1,1,A] constant
  // against [1,4,A] in Mul, so every decode constant has the full shape it is applied to.
  std::string anchor_constant(const std::string& name, int rows,
                              const std::vector<std::vector<float>>& row_values) {
    std::vector<float> v;
    v.reserve(static_cast<std::size_t>(rows) * static_cast<std::size_t>(anchors_));
    for (const auto& r : row_values) v.insert(v.end(), r.begin(), r.end());
    return g_.initializer(name, {1, rows, anchors_}, v);
  }

  std::string detect(const std::array<Tensor, 3>& levels);

  const YoloOptions& opt_;
  const YoloScale& scale_;
  OnnxGraph g_;
  SplitMix64 rng_;
  ParamCount params_;
  std::int64_t anchors_ = 0;
};

// Detect: per level a box branch (3x3, 3x3, 1x1 to 4 * reg_max) and a class branch (3x3, 3x3,
// 1x1 to classes); the levels flattened and joined; DFL turns the 16 bins per side into an
// expected distance; dist2bbox with the anchor centres gives xywh, scaled by the stride.
std::string YoloBuilder::detect(const std::array<Tensor, 3>& levels) {
  const int nc = opt_.classes;
  const int no = 4 * kRegMax + nc;
  const int c2 = std::max({16, levels[0].channels() / 4, kRegMax * 4});
  const int c3 = std::max(levels[0].channels(), std::min(nc, 100));

  std::vector<std::string> flat;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const auto id = std::to_string(i);
    const auto& x = levels[i];
    auto box = conv(x, c2, 3, 1, "model.22.cv2." + id + ".0");
    box = conv(box, c2, 3, 1, "model.22.cv2." + id + ".1");
    // The last convs have no batch norm; the same normalisation sets their logits' spread.
    auto box_out =
        with_moments(conv2d(box, 4 * kRegMax, 1, 1, "model.22.cv2." + id + ".2", opt_.init.box_std,
                            std::vector<double>(4 * kRegMax, 0.0), true),
                     4 * kRegMax, 0, 0);
    auto cls = conv(x, c3, 3, 1, "model.22.cv3." + id + ".0");
    cls = conv(cls, c3, 3, 1, "model.22.cv3." + id + ".1");
    auto cls_out = with_moments(
        conv2d(cls, nc, 1, 1, "model.22.cv3." + id + ".2", opt_.init.class_std,
               std::vector<double>(static_cast<std::size_t>(nc), opt_.init.class_bias), true),
        nc, 0, 0);
    auto joined = concat({box_out, cls_out}, "/model.22/Concat");
    const std::int64_t side = opt_.size / kStrides[i];
    flat.push_back(reshape(joined.name, {1, no, side * side}, "/model.22/Reshape"));
  }
  auto& cat = g_.node("Concat", "/model.22/Concat", flat);
  set_attr(cat, "axis", std::int64_t{2});
  auto parts = split(cat.output(0), 1, {4 * kRegMax, nc}, "/model.22/Split");

  // DFL. The softmax runs over the last axis: under opset 12 a Softmax coerces its input to 2-D
  // at `axis`, so only the last axis gives a per-bin softmax in every runtime.
  auto bins = reshape(parts[0], {1, 4, kRegMax, anchors_}, "/model.22/dfl/Reshape");
  bins = transpose(bins, {0, 1, 3, 2}, "/model.22/dfl/Transpose");
  auto& softmax = g_.node("Softmax", "/model.22/dfl/Softmax", {bins});
  set_attr(softmax, "axis", std::int64_t{3});
  auto probs = transpose(softmax.output(0), {0, 3, 1, 2}, "/model.22/dfl/Transpose");
  std::vector<float> arange(kRegMax);
  for (int i = 0; i < kRegMax; ++i) arange[static_cast<std::size_t>(i)] = static_cast<float>(i);
  auto dfl_w = g_.initializer("model.22.dfl.conv.weight", {1, kRegMax, 1, 1}, arange);
  params_.fused += kRegMax;  // Ultralytics counts it, frozen or not
  // OpenCV 4.6 needs kernel_shape, which ONNX lets a Conv leave to the weight shape.
  auto& dfl = g_.node("Conv", "/model.22/dfl/conv/Conv", {probs, dfl_w});
  set_attr(dfl, "kernel_shape", std::vector<std::int64_t>{1, 1});
  std::string dist = dfl.output(0);
  dist = reshape(dist, {1, 4, anchors_}, "/model.22/dfl/Reshape");

  // Anchor centres in grid units (offset 0.5), and the stride of each anchor's level.
  std::vector<float> ax, ay, stride;
  for (int s : kStrides) {
    const int side = opt_.size / s;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        ax.push_back(static_cast<float>(x) + 0.5f);
        ay.push_back(static_cast<float>(y) + 0.5f);
        stride.push_back(static_cast<float>(s));
      }
  }
  auto anchors = anchor_constant("/model.22/anchors", 2, {ax, ay});
  auto half =
      anchor_constant("/model.22/half", 2,
                      {std::vector<float>(ax.size(), 0.5f), std::vector<float>(ax.size(), 0.5f)});
  auto strides = anchor_constant("/model.22/strides", 4, {stride, stride, stride, stride});

  auto ltrb = split(dist, 1, {2, 2}, "/model.22/Split");
  auto x1y1 = g_.op("Sub", "/model.22/Sub", {anchors, ltrb[0]});
  auto x2y2 = g_.op("Add", "/model.22/Add", {anchors, ltrb[1]});
  auto sum = g_.op("Add", "/model.22/Add", {x1y1, x2y2});
  auto cxy = g_.op("Mul", "/model.22/Mul", {sum, half});
  auto wh = g_.op("Sub", "/model.22/Sub", {x2y2, x1y1});
  auto& xywh = g_.node("Concat", "/model.22/Concat", {cxy, wh});
  set_attr(xywh, "axis", std::int64_t{1});
  auto boxes = g_.op("Mul", "/model.22/Mul", {xywh.output(0), strides});
  auto scores = g_.op("Sigmoid", "/model.22/Sigmoid", {parts[1]});
  auto& out = g_.node("Concat", "/model.22/Concat", {boxes, scores});
  set_attr(out, "axis", std::int64_t{1});
  out.set_output(0, "output0");
  return "output0";
}

void YoloBuilder::build() {
  for (int s : kStrides) anchors_ += static_cast<std::int64_t>(opt_.size / s) * (opt_.size / s);
  g_.input("images", {1, 3, opt_.size, opt_.size});

  // Backbone.
  Tensor x = with_moments("images", 3, kImageMean, kImageM2);
  x = conv(x, ch(64), 3, 2, "model.0");
  x = conv(x, ch(128), 3, 2, "model.1");
  x = c2f(x, ch(128), reps(3), true, "model.2");
  x = conv(x, ch(256), 3, 2, "model.3");
  const Tensor p3 = c2f(x, ch(256), reps(6), true, "model.4");
  x = conv(p3, ch(512), 3, 2, "model.5");
  const Tensor p4 = c2f(x, ch(512), reps(6), true, "model.6");
  x = conv(p4, ch(1024), 3, 2, "model.7");
  x = c2f(x, ch(1024), reps(3), true, "model.8");
  const Tensor p5 = sppf(x, ch(1024), "model.9");

  // Neck: top-down, then bottom-up; the head's C2f blocks have no shortcut.
  x = concat({upsample(p5, "model.10"), p4}, "/model.11/Concat");
  const Tensor h12 = c2f(x, ch(512), reps(3), false, "model.12");
  x = concat({upsample(h12, "model.13"), p3}, "/model.14/Concat");
  const Tensor out3 = c2f(x, ch(256), reps(3), false, "model.15");
  x = concat({conv(out3, ch(256), 3, 2, "model.16"), h12}, "/model.17/Concat");
  const Tensor out4 = c2f(x, ch(512), reps(3), false, "model.18");
  x = concat({conv(out4, ch(512), 3, 2, "model.19"), p5}, "/model.20/Concat");
  const Tensor out5 = c2f(x, ch(1024), reps(3), false, "model.21");

  g_.output(detect({out3, out4, out5}), {1, 4 + opt_.classes, anchors_});
}

}  // namespace

YoloModel build_yolov8(const YoloOptions& options) {
  if (options.size <= 0 || options.size % 32 != 0)
    throw std::invalid_argument("input size " + std::to_string(options.size) +
                                " is not a positive multiple of 32 (the largest stride)");
  if (options.classes <= 0) throw std::invalid_argument("the class count must be positive");

  YoloModel model;
  auto& proto = model.proto;
  proto.set_ir_version(7);  // the IR version that goes with opset 12
  proto.set_producer_name("harness gen_yolo");
  proto.set_producer_version("1");
  proto.set_doc_string("YOLOv8" + std::string(options.scale->name) +
                       " topology with synthetic weights, seed " + std::to_string(options.seed) +
                       "; not a trained detector");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(12);
  auto* graph = proto.mutable_graph();
  graph->set_name("yolov8" + std::string(options.scale->name));

  YoloBuilder builder(options, graph);
  builder.build();
  model.params = builder.params();
  model.anchors = builder.anchors();
  return model;
}

void write_model(const onnx::ModelProto& model, const std::filesystem::path& path) {
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw std::runtime_error("cannot serialize the model for " + path.string() +
                             " (over protobuf's 2 GiB limit?)");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
}

}  // namespace harness::models
