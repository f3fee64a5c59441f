// Placeholder: the command line lands with the scenario layer (issue 3).
#include <cstdio>

int main() {
  std::fprintf(stderr, "harness: not built yet\n");
  return 2;
}
