// Known costs planted on purpose, so the regression gate can be shown to see a slowdown or a
// memory growth of a known size (docs/regression.md). Off unless asked for on the command line.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

namespace yolo {

// --extra-mib: memory allocated and touched page by page, held until destroyed, so it counts in
// RSS, PSS and USS like any resident allocation of the worker.
class Ballast {
 public:
  explicit Ballast(double mib);
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_ = 0;
  std::unique_ptr<char[]> data_;
};

// --slow-pct: busy-waits (on the CPU, like real work) for `pct` % of `frame`, the wall time the
// frame just took, so every frame takes (1 + pct / 100) times as long. Returns the time spun.
std::chrono::steady_clock::duration spin_share_of(std::chrono::steady_clock::duration frame,
                                                  double pct);

}  // namespace yolo
