#pragma once
// A message about a place in a file, printed the way compilers print theirs so editors and CI
// annotators can jump to it:  scenarios/core/x.yaml:12:5: error: unknown key 'timout' ...
// Lines and columns are 1-based; 0 means "the whole file" and is left out of the text. Columns
// count bytes, as yaml-cpp's marks do (the same as characters on ASCII lines).
//
// A message may quote text from a hostile file (a key, a value). str() shows every control
// character and every byte that is not UTF-8 escaped, so one diagnostic is always one line and
// a terminal prints it instead of obeying it.

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

  std::string str() const;  // "file:line:col: error: message", through escape_controls
};

// `text` with control characters (C0 including tab and newline, DEL, C1), line and paragraph
// separators, bidirectional overrides and bytes that are not UTF-8 written as escapes: \n, \t,
// \r, \xNN for a byte, \uNNNN for a character. Anything else is kept as it is.
std::string escape_controls(std::string_view text);

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
