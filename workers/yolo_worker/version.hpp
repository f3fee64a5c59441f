#pragma once

namespace yolo {
// Reported in the started event and the result file; bump when the protocol or schema changes.
inline constexpr const char* kVersion = "1.0.0";
}  // namespace yolo
