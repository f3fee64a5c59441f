#pragma once
// A message about a place in a file, printed the way compilers print theirs so editors and CI
// annotators can jump to it:  scenarios/core/x.yaml:12:5: error: unknown key 'timout' ...
// Lines and columns are 1-based; 0 means "the whole file" and is left out of the text.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;  // without the "error: " prefix

  std::string str() const;  // "file:line:col: error: message"
};

// All the problems found in one file. what() holds every diagnostic, one per line.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// The candidate closest to `word` by edit distance when it is close enough to be a typo
// (distance <= 2, and less than half the word), otherwise empty. Used for "did you mean".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace harness
