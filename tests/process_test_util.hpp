#pragma once
// Helpers shared by the real-process tests: specs for fault_worker and /proc checks that nothing
// a run started is still around.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "harness/supervise/sampler.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness::test {

inline ProcessSpec fault(std::vector<std::string> args) {
  ProcessSpec s;
  s.argv = {FAULT_WORKER};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.timeout = std::chrono::seconds(60);  // a safety net: no test should get near it
  return s;
}

struct ProcStat {
  int pid = 0, ppid = 0, pgrp = 0, session = 0;
  char state = '?';
};

inline std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string s;  // read(2): an ifstream iterator throws when the process exits mid-read
    if (!read_proc_file((std::string("/proc/") + e->d_name + "/stat").c_str(), s)) continue;
    auto close = s.rfind(')');
    if (close == std::string::npos) continue;
    ProcStat p;
    p.pid = std::stoi(e->d_name);
    std::istringstream rest(s.substr(close + 2));
    rest >> p.state >> p.ppid >> p.pgrp >> p.session;
    out.push_back(p);
  }
  closedir(d);
  return out;
}

// Children of this test process (zombies included) and members of `pgid`: both must be empty
// after a run.
inline std::vector<int> survivors(int pgid) {
  std::vector<int> out;
  for (const auto& p : all_processes())
    if (p.ppid == getpid() || (pgid > 0 && p.pgrp == pgid)) out.push_back(p.pid);
  return out;
}

inline bool alive(int pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

// Pids of live processes whose environment carries `needle` (zombies have none), e.g.
// "HARNESS_INSTANCE_TOKEN=<pid>.": what a harness (or an agent) of that pid started.
inline std::vector<int> processes_carrying(const std::string& needle) {
  std::vector<int> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string env;
    if (!read_proc_file((std::string("/proc/") + e->d_name + "/environ").c_str(), env)) continue;
    if (env.find(needle) != std::string::npos) out.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

}  // namespace harness::test
