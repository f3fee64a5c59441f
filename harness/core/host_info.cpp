#include "harness/core/host_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <string>

namespace harness {

namespace {

// The value after "key<spaces>:" on the first line that starts with key, in a /proc text file.
std::string proc_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto first = line.find_first_not_of(" \t", colon + 1);
    return first == std::string::npos ? std::string() : line.substr(first);
  }
  return {};
}

}  // namespace

HostInfo read_host_info() {
  HostInfo host;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) host.hostname = name;
  utsname uts{};
  if (uname(&uts) == 0) host.kernel = std::string(uts.sysname) + " " + uts.release;
  host.cpu_model = proc_field("/proc/cpuinfo", "model name");
  host.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const std::string mem = proc_field("/proc/meminfo", "MemTotal");  // "24570232 kB"
  if (!mem.empty()) host.mem_total_kib = std::stoll(mem);
  return host;
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace harness
