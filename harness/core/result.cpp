#include "harness/core/result.hpp"

#include <csignal>
#include <cstring>

namespace harness {

std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGCHLD: return "SIGCHLD";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return "SIG" + std::to_string(sig);
  }
}

}  // namespace harness

namespace harness {

StatusCounts count_statuses(const RunReport& report) {
  StatusCounts c;
  for (const auto& s : report.scenarios) {
    if (s.status == "pass") {
      ++c.passed;
    } else if (s.status == "fail") {
      ++c.failed;
    } else {
      ++c.errors;
    }
  }
  return c;
}

}  // namespace harness
