#pragma once
// Checks that bytes are one JSON text (RFC 8259) while holding none of them: fed in chunks of
// any size, it keeps a state, the nesting (one bit per level) and nothing else, so a 63 MiB
// output file, or one huge string in it, costs a few bytes instead of its size.
//
// It accepts what nlohmann::json::accept accepts (a UTF-8 byte order mark at the start, any
// whitespace around the value, strict UTF-8 in strings, paired \u surrogates), with two
// differences: numbers beyond a double (1e999, a 400-digit integer) are valid JSON here, as the
// grammar says, where nlohmann reports "number overflow"; and nesting past `max_depth` is
// refused with its own message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

class JsonValidator {
 public:
  static constexpr std::size_t kDefaultMaxDepth = 10000;

  explicit JsonValidator(std::size_t max_depth = kDefaultMaxDepth) : max_depth_(max_depth) {}

  // Feeds the next bytes. False once the text cannot be valid JSON, whatever follows.
  bool feed(std::string_view bytes);
  // After the last byte: whether the bytes fed were exactly one JSON text.
  bool finish();
  // Why not, with the byte offset: "at byte 12: a control character in a string".
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kStart,
    kBom1,
    kBom2,
    kValue,
    kValueOrClose,
    kKeyOrClose,
    kKey,
    kColon,
    kAfter,
    kDone,
    kString,
    kEscape,
    kHex,
    kSurrogateBackslash,
    kSurrogateU,
    kUtf8,
    kMinus,
    kZero,
    kInt,
    kDot,
    kFrac,
    kExp,
    kExpSign,
    kExpDigits,
    kLiteral,
    kFailed,
  };

  bool step(unsigned char c);
  bool step_structure(unsigned char c);
  bool step_string(unsigned char c);
  bool step_number(unsigned char c);
  bool start_value(unsigned char c);
  bool open(bool object);
  bool close(bool object);
  bool end_number(unsigned char c);
  bool utf8_lead(unsigned char c);
  bool hex_digit(unsigned char c);
  bool value_done();
  bool fail(const char* why);

  std::size_t max_depth_;
  State state_ = State::kStart;
  std::vector<bool> objects_;  // per open container: true for an object
  bool in_key_ = false;
  bool expect_low_ = false;  // the \u being read must be a low surrogate
  int hex_left_ = 0;
  unsigned code_ = 0;
  int utf8_left_ = 0;
  unsigned char utf8_lo_ = 0x80, utf8_hi_ = 0xBF;  // bounds of the next continuation byte
  const char* literal_ = nullptr;                  // the rest of true/false/null to match
  std::uint64_t offset_ = 0;
  std::string error_;
};

// The whole of `text` at once.
bool is_valid_json(std::string_view text, std::size_t max_depth = JsonValidator::kDefaultMaxDepth);

}  // namespace harness
