// Test helper program (tests/sampler_test.cpp): a secondary thread forks a child that sleeps, so
// that grandchild of the test appears only in the forking thread's /proc/PID/task/TID/children,
// not in the main thread's. Prints the grandchild's pid on one line, then both sleep until
// killed; the forking thread stays blocked so its task, and the listing, stay alive.
#include <unistd.h>

#include <cstdio>
#include <thread>

int main() {
  std::thread forker([] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      for (;;) ::pause();  // only async-signal-safe calls in the child of a threaded process
    }
    std::printf("%d\n", static_cast<int>(pid));
    std::fflush(stdout);
    for (;;) ::pause();
  });
  forker.join();  // never returns: the thread sleeps until the test kills the process group
}
