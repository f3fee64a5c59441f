#pragma once
// Writes a JSON document piece by piece with the exact bytes nlohmann's dump(2) gives for the
// whole tree (two-space indent, keys in std::map order, invalid UTF-8 replaced), so report.json
// never has to exist whole in memory while it stays byte-for-byte what it was.
//
// An object is written by write_object: its small members come as one json object, and the
// large ones as writers called at their place in key order. Inside a writer, begin_array /
// element / end_array stream the elements one at a time.

#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

class JsonStream {
 public:
  using Writer = std::function<void(JsonStream&)>;

  explicit JsonStream(std::ostream& out) : out_(out) {}

  // `small` (an object) merged with `large` (key, writer), members in nlohmann's key order. A
  // key in both is written once, from `large`.
  void write_object(const nlohmann::json& small, std::vector<std::pair<std::string, Writer>> large);

  // A value in place (a member's value or an element), as dump(2) writes it at this depth.
  void value(const nlohmann::json& v);

  // A streamed array: element() before each element, which is then written with value(),
  // write_object() or a nested array.
  void begin_array();
  void element();
  void end_array();

 private:
  void newline_indent();

  std::ostream& out_;
  int depth_ = 0;
  std::vector<bool> empty_;  // per open array: no element yet
};

}  // namespace harness
