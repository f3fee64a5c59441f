#pragma once
// SplitMix64 (Steele, Lea, Flood 2014): the weight generator's only source of randomness.
//
// Contract: the sequence depends on the seed alone. Everything is integer arithmetic plus one
// exact conversion to double, so the bytes of a generated model are the same with any compiler,
// standard library or CPU; std::uniform_real_distribution and friends do not promise that.
#include <cstdint>

namespace harness::models {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform on [-1, 1): the top 53 bits make an exact double on [0, 1).
  double symmetric() { return static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0; }

 private:
  std::uint64_t state_;
};

}  // namespace harness::models
