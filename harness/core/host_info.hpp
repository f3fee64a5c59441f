#pragma once
// Facts about the machine a report was measured on, so figures from two machines are never
// compared without saying so.

#include <string>

#include "harness/core/result.hpp"

namespace harness {

HostInfo read_host_info();

// "2026-11-25T10:27:21Z" for now.
std::string utc_timestamp();

}  // namespace harness
