#include "harness/report/json_stream.hpp"

#include <algorithm>

namespace harness {

void JsonStream::newline_indent() {
  out_ << '\n';
  for (int i = 0; i < depth_; ++i) out_ << "  ";
}

void JsonStream::value(const nlohmann::json& v) {
  // dump(2) of the subtree indents from column 0; its strings hold no raw newline (they are
  // escaped), so every newline is a line break of the layout and gets this depth's indent.
  const std::string text = v.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::size_t from = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', from)) {
    out_.write(text.data() + from, static_cast<std::streamsize>(nl - from));
    newline_indent();
    from = nl + 1;
  }
  out_.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
}

void JsonStream::write_object(const nlohmann::json& small,
                              std::vector<std::pair<std::string, Writer>> large) {
  std::vector<std::string> keys;
  for (const auto& [key, v] : small.items()) keys.push_back(key);
  for (const auto& [key, writer] : large) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) {
    out_ << "{}";
    return;
  }
  out_ << '{';
  ++depth_;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out_ << ',';
    newline_indent();
    value(nlohmann::json(keys[i]));
    out_ << ": ";
    auto big = std::find_if(large.begin(), large.end(),
                            [&](const auto& member) { return member.first == keys[i]; });
    if (big != large.end())
      big->second(*this);
    else
      value(small[keys[i]]);
  }
  --depth_;
  newline_indent();
  out_ << '}';
}

void JsonStream::begin_array() {
  out_ << '[';
  ++depth_;
  empty_.push_back(true);
}

void JsonStream::element() {
  if (!empty_.back()) out_ << ',';
  empty_.back() = false;
  newline_indent();
}

void JsonStream::end_array() {
  --depth_;
  if (!empty_.back()) newline_indent();
  out_ << ']';
  empty_.pop_back();
}

}  // namespace harness
