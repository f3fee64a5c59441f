// Protocol events: one JSON object per stdout line, flushed at once so a host reading the pipe
// sees each event when it happens. Errors also go to stderr as one human-readable line.
#pragma once

#include <nlohmann/json.hpp>

#include "worker_error.hpp"

namespace yolo {

class Events {
 public:
  // Events emitted while a job is set carry `"job": id` (serve mode).
  void set_job(nlohmann::json id) { job_ = std::move(id); }
  void clear_job() { job_ = nullptr; }

  void emit(nlohmann::ordered_json event) const;
  void error(const WorkerError& e) const;

 private:
  nlohmann::json job_ = nullptr;
};

}  // namespace yolo
