#include "frame_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include "worker_error.hpp"

namespace yolo {

namespace fs = std::filesystem;

namespace {

WorkerError corrupt(const std::string& message) {
  return WorkerError("InputCorrupt", message, kExitInput);
}

bool is_image_path(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp" ||
         ext == ".tif" || ext == ".tiff";
}

cv::Mat read_image(const fs::path& path) {
  cv::Mat image = cv::imread(path.string(), cv::IMREAD_COLOR);
  if (image.empty()) {
    throw corrupt("cannot decode image " + path.string() +
                  ": not a readable JPEG/PNG/BMP/WebP/TIFF file (corrupt or wrong extension)");
  }
  return image;
}

class VideoSource final : public FrameSource {
 public:
  explicit VideoSource(const std::string& path) : path_(path) {
    // FFmpeg reads everything the built-in MJPEG reader does; falling through to the latter on
    // a broken file would only add its parser complaints to stderr.
    const int api = cv::videoio_registry::hasBackend(cv::CAP_FFMPEG) ? cv::CAP_FFMPEG : cv::CAP_ANY;
    if (!capture_.open(path, api) || !capture_.isOpened()) {
      throw corrupt("cannot open " + path +
                    " as a video: the file is corrupt, truncated or not a video "
                    "(supported: what OpenCV's FFmpeg backend reads, e.g. MJPG AVI, MP4)");
    }
    const double count = capture_.get(cv::CAP_PROP_FRAME_COUNT);
    total_ = count > 0 ? int(count) : -1;
    cv::Mat first;
    if (!capture_.read(first) || first.empty()) {
      throw corrupt("cannot read a frame from " + path + ": the video is corrupt or empty");
    }
    pending_ = first;
  }

  bool next(cv::Mat& frame) override {
    if (!pending_.empty()) {
      frame = pending_;
      pending_.release();
      ++read_;
      return true;
    }
    if (!capture_.read(frame) || frame.empty()) {
      if (total_ > 0 && read_ < total_) {
        throw corrupt("video " + path_ + " ended after " + std::to_string(read_) + " of the " +
                      std::to_string(total_) +
                      " frames its header declares: the file is truncated");
      }
      return false;
    }
    ++read_;
    return true;
  }
  int total() const override { return total_; }
  const char* kind() const override { return "video"; }

 private:
  std::string path_;
  cv::VideoCapture capture_;
  cv::Mat pending_;
  int total_ = -1;
  int read_ = 0;
};

class ImageListSource final : public FrameSource {
 public:
  ImageListSource(std::vector<fs::path> files, bool directory)
      : files_(std::move(files)), directory_(directory) {
    // Decode the first one now so a corrupt single image fails before the model loads.
    if (!files_.empty()) first_ = read_image(files_.front());
  }
  bool next(cv::Mat& frame) override {
    if (index_ >= files_.size()) return false;
    frame = index_ == 0 ? first_ : read_image(files_[index_]);
    if (index_ == 0) first_.release();
    name_ = files_[index_].filename().string();
    ++index_;
    return true;
  }
  int total() const override { return int(files_.size()); }
  const char* kind() const override { return directory_ ? "directory" : "image"; }
  std::string frame_name() const override { return name_; }

 private:
  std::vector<fs::path> files_;
  bool directory_;
  cv::Mat first_;
  std::size_t index_ = 0;
  std::string name_;
};

}  // namespace

std::unique_ptr<FrameSource> FrameSource::open(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw WorkerError("InputNotFound",
                      "cannot open input " + path + ": " +
                          (ec ? ec.message() : std::string("No such file or directory")) +
                          " (check the --input path)",
                      kExitInput);
  }
  if (fs::is_directory(status)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && is_image_path(entry.path())) files.push_back(entry.path());
    }
    if (ec) {
      throw WorkerError("InputUnreadable", "cannot list directory " + path + ": " + ec.message(),
                        kExitInput);
    }
    if (files.empty()) {
      throw corrupt("directory " + path + " holds no images (.jpg .jpeg .png .bmp .webp .tif)");
    }
    std::sort(files.begin(), files.end());
    return std::make_unique<ImageListSource>(std::move(files), true);
  }
  std::ifstream probe(path, std::ios::binary);
  if (!probe) {
    throw WorkerError(
        "InputUnreadable",
        "cannot read input " + path + ": " + std::strerror(errno) + " (check its permissions)",
        kExitInput);
  }
  if (fs::file_size(path, ec) == 0) throw corrupt("input " + path + " is an empty file");
  if (is_image_path(path)) {
    return std::make_unique<ImageListSource>(std::vector<fs::path>{path}, false);
  }
  return std::make_unique<VideoSource>(path);
}

}  // namespace yolo
