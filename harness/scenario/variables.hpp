#pragma once
// ${NAME} substitution in scenario strings (command arguments, env values, cwd, stdin).
//
//   ${NAME}           the value of NAME in `vars`, else the environment variable NAME
//   ${NAME:-default}  as above, but `default` when NAME is unset or empty (default may be empty)
//   $$                a literal '$'
//   $ otherwise       left as it is ("cost: $5" stays)
// A name not in `vars`, not in the environment and without a default is an error naming it.
// Substitution is textual and happens once: a value containing "${X}" is not expanded again,
// and nothing is ever split into words, so one argument stays one argv entry.

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

using Variables = std::map<std::string, std::string>;

// Thrown for an unknown name or a malformed reference; `offset` is the position in the text.
class VariableError : public std::runtime_error {
 public:
  VariableError(const std::string& message, std::size_t offset)
      : std::runtime_error(message), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// The names a harness run defines for every instance; a scenario may use them freely.
const std::vector<std::string>& builtin_variables();  // WORKERS MODELS FIXTURES OUT ...

std::string expand_variables(std::string_view text, const Variables& vars);

// The references in `text` without expanding them, for load-time checks.
struct VariableRef {
  std::string name;
  bool has_default = false;
  std::size_t offset = 0;
};
std::vector<VariableRef> variable_refs(std::string_view text);  // throws VariableError

bool is_variable_name(std::string_view name);  // [A-Za-z_][A-Za-z0-9_]*

}  // namespace harness
