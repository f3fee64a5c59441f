#include "planted.hpp"

#include <unistd.h>

namespace yolo {

Ballast::Ballast(double mib) : bytes_(mib > 0 ? static_cast<std::size_t>(mib * 1024 * 1024) : 0) {
  if (bytes_ == 0) return;
  data_.reset(new char[bytes_]);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Volatile writes: the compiler must not drop stores to memory that is never read back.
  volatile char* p = data_.get();
  for (std::size_t off = 0; off < bytes_; off += page) p[off] = 1;
}

std::chrono::steady_clock::duration spin_share_of(std::chrono::steady_clock::duration frame,
                                                  double pct) {
  const auto start = std::chrono::steady_clock::now();
  if (pct <= 0) return {};
  const auto until =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(frame * pct / 100.0);
  volatile unsigned long spins = 0;
  auto now = start;
  while ((now = std::chrono::steady_clock::now()) < until) spins = spins + 1;
  return now - start;
}

}  // namespace yolo
