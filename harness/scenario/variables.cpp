#include "harness/scenario/variables.hpp"

#include <cstdlib>

namespace harness {
namespace {

bool name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

// Calls on_text for literal pieces and on_ref for each reference, in order.
template <typename Text, typename Ref>
void scan(std::string_view text, Text on_text, Ref on_ref) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      on_text(text.substr(i));
      return;
    }
    on_text(text.substr(i, dollar - i));
    if (dollar + 1 < text.size() && text[dollar + 1] == '$') {
      on_text("$");
      i = dollar + 2;
      continue;
    }
    if (dollar + 1 >= text.size() || text[dollar + 1] != '{') {
      on_text("$");
      i = dollar + 1;
      continue;
    }
    std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos)
      throw VariableError("unterminated '${' in '" + std::string(text) +
                              "': close it with '}' or write '$$' for a literal '$'",
                          dollar);
    std::string_view inner = text.substr(dollar + 2, close - dollar - 2);
    VariableRef ref;
    ref.offset = dollar;
    std::string_view def;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
      ref.has_default = true;
      def = inner.substr(sep + 2);
      inner = inner.substr(0, sep);
    }
    if (!is_variable_name(inner))
      throw VariableError("invalid variable name '" + std::string(inner) + "' in '" +
                              std::string(text) +
                              "': names are letters, digits and '_', e.g. ${MODELS}",
                          dollar);
    ref.name = std::string(inner);
    on_ref(ref, def);
    i = close + 1;
  }
}

}  // namespace

const std::vector<std::string>& builtin_variables() {
  static const std::vector<std::string> names{"WORKERS", "MODELS",   "FIXTURES",
                                              "OUT",     "INSTANCE", "SCENARIO_DIR"};
  return names;
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || !name_start(name[0])) return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

std::string expand_variables(std::string_view text, const Variables& vars) {
  std::string out;
  scan(
      text, [&](std::string_view piece) { out.append(piece); },
      [&](const VariableRef& ref, std::string_view def) {
        std::string value;
        bool set = false;
        if (auto it = vars.find(ref.name); it != vars.end()) {
          value = it->second;
          set = true;
        } else if (const char* env = std::getenv(ref.name.c_str())) {
          value = env;
          set = true;
        }
        if (ref.has_default && value.empty()) {
          out.append(def);
          return;
        }
        if (!set)
          throw VariableError("unknown variable ${" + ref.name + "} in '" + std::string(text) +
                                  "': define it in the environment, add a matrix key '" + ref.name +
                                  "', or write ${" + ref.name + ":-default}",
                              ref.offset);
        out += value;
      });
  return out;
}

std::vector<VariableRef> variable_refs(std::string_view text) {
  std::vector<VariableRef> refs;
  scan(
      text, [](std::string_view) {},
      [&](const VariableRef& ref, std::string_view) { refs.push_back(ref); });
  return refs;
}

}  // namespace harness
