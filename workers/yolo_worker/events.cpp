#include "events.hpp"

#include <cstdio>

namespace yolo {

void Events::emit(nlohmann::ordered_json event) const {
  if (!job_.is_null()) event["job"] = job_;
  // Replace invalid UTF-8 (file names are bytes) rather than throw in the middle of a report.
  const std::string line =
      event.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void Events::error(const WorkerError& e) const {
  emit({{"event", "error"}, {"type", e.type()}, {"message", e.what()}});
  std::string job;
  if (!job_.is_null()) job = " (job " + job_.dump() + ")";
  std::fprintf(stderr, "yolo_worker: error: %s%s [%s]\n", e.what(), job.c_str(), e.type().c_str());
  std::fflush(stderr);
}

}  // namespace yolo
