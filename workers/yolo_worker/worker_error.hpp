// The failures the worker reports through the protocol: each has an event `type` and the exit
// code docs/protocol.md assigns to its class (2 arguments, 3 input, 4 model, 5 output).
#pragma once

#include <stdexcept>
#include <string>

namespace yolo {

enum ExitCode : int {
  kExitSuccess = 0,
  kExitInternal = 1,
  kExitBadArguments = 2,
  kExitInput = 3,
  kExitModel = 4,
  kExitOutput = 5,
};

class WorkerError : public std::runtime_error {
 public:
  WorkerError(std::string type, const std::string& message, int exit_code)
      : std::runtime_error(message), type_(std::move(type)), exit_code_(exit_code) {}
  const std::string& type() const { return type_; }
  int exit_code() const { return exit_code_; }

 private:
  std::string type_;
  int exit_code_;
};

}  // namespace yolo
