#include "harness/core/json_validator.hpp"

namespace harness {
namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool JsonValidator::fail(const char* why) {
  if (state_ != State::kFailed) {
    state_ = State::kFailed;
    error_ = "at byte " + std::to_string(offset_) + ": " + why;
  }
  return false;
}

bool JsonValidator::value_done() {
  state_ = objects_.empty() ? State::kDone : State::kAfter;
  return true;
}

bool JsonValidator::open(bool object) {
  if (objects_.size() >= max_depth_) return fail("nesting deeper than the limit");
  objects_.push_back(object);
  state_ = object ? State::kKeyOrClose : State::kValueOrClose;
  return true;
}

bool JsonValidator::close(bool object) {
  if (objects_.empty() || objects_.back() != object)
    return fail(object ? "a '}' that closes no object" : "a ']' that closes no array");
  objects_.pop_back();
  return value_done();
}

bool JsonValidator::start_value(unsigned char c) {
  switch (c) {
    case '{': return open(true);
    case '[': return open(false);
    case '"':
      in_key_ = false;
      state_ = State::kString;
      return true;
    case '-': state_ = State::kMinus; return true;
    case '0': state_ = State::kZero; return true;
    case 't': literal_ = "rue"; break;
    case 'f': literal_ = "alse"; break;
    case 'n': literal_ = "ull"; break;
    default:
      if (c >= '1' && c <= '9') {
        state_ = State::kInt;
        return true;
      }
      return fail("not the start of a value");
  }
  state_ = State::kLiteral;
  return true;
}

// A number ends at the first byte that cannot continue it; that byte is then read afresh.
bool JsonValidator::end_number(unsigned char c) {
  value_done();
  return step(c);
}

// RFC 3629's table: the lead byte fixes the length and the range of the first continuation.
bool JsonValidator::utf8_lead(unsigned char c) {
  utf8_lo_ = 0x80;
  utf8_hi_ = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    utf8_left_ = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    utf8_left_ = 2;
    if (c == 0xE0) utf8_lo_ = 0xA0;
    if (c == 0xED) utf8_hi_ = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    utf8_left_ = 3;
    if (c == 0xF0) utf8_lo_ = 0x90;
    if (c == 0xF4) utf8_hi_ = 0x8F;
  } else {
    return fail("invalid UTF-8 in a string");
  }
  state_ = State::kUtf8;
  return true;
}

bool JsonValidator::hex_digit(unsigned char c) {
  unsigned v = 0;
  if (is_digit(c))
    v = c - '0';
  else if (c >= 'a' && c <= 'f')
    v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F')
    v = c - 'A' + 10;
  else
    return fail("\\u needs four hex digits");
  code_ = code_ * 16 + v;
  if (--hex_left_ > 0) return true;
  const bool high = code_ >= 0xD800 && code_ <= 0xDBFF;
  const bool low = code_ >= 0xDC00 && code_ <= 0xDFFF;
  if (expect_low_) {
    if (!low) return fail("a high surrogate \\u not followed by a low one");
    expect_low_ = false;
    state_ = State::kString;
  } else if (high) {
    state_ = State::kSurrogateBackslash;
  } else if (low) {
    return fail("a low surrogate \\u without a high one before it");
  } else {
    state_ = State::kString;
  }
  return true;
}

// Between values: whitespace, structure and the start of the next value.
bool JsonValidator::step_structure(unsigned char c) {
  switch (state_) {
    case State::kStart:
      if (c == 0xEF) {
        state_ = State::kBom1;
        return true;
      }
      state_ = State::kValue;
      return step(c);
    case State::kBom1:
      if (c != 0xBB) return fail("an incomplete byte order mark");
      state_ = State::kBom2;
      return true;
    case State::kBom2:
      if (c != 0xBF) return fail("an incomplete byte order mark");
      state_ = State::kValue;
      return true;
    case State::kValue:
      if (is_space(c)) return true;
      return start_value(c);
    case State::kValueOrClose:
      if (is_space(c)) return true;
      if (c == ']') return close(false);
      return start_value(c);
    case State::kKeyOrClose:
      if (is_space(c)) return true;
      if (c == '}') return close(true);
      [[fallthrough]];
    case State::kKey:
      if (is_space(c)) return true;
      if (c != '"') return fail("an object key must be a string");
      in_key_ = true;
      state_ = State::kString;
      return true;
    case State::kColon:
      if (is_space(c)) return true;
      if (c != ':') return fail("expected ':' after an object key");
      state_ = State::kValue;
      return true;
    case State::kAfter:
      if (is_space(c)) return true;
      if (c == ',') {
        state_ = objects_.back() ? State::kKey : State::kValue;
        return true;
      }
      if (c == ']' || c == '}') return close(c == '}');
      return fail(objects_.back() ? "expected ',' or '}'" : "expected ',' or ']'");
    case State::kDone:
      if (is_space(c)) return true;
      return fail("more after the JSON value");
    default: return false;
  }
}

// Inside a string: escapes, \u surrogate pairs and UTF-8 sequences.
bool JsonValidator::step_string(unsigned char c) {
  switch (state_) {
    case State::kString:
      if (c == '"') {
        if (!in_key_) return value_done();
        state_ = State::kColon;
        return true;
      }
      if (c == '\\') {
        state_ = State::kEscape;
        return true;
      }
      if (c < 0x20) return fail("a control character in a string (write it as \\u00XX)");
      if (c < 0x80) return true;
      return utf8_lead(c);
    case State::kUtf8:
      if (c < utf8_lo_ || c > utf8_hi_) return fail("invalid UTF-8 in a string");
      utf8_lo_ = 0x80;
      utf8_hi_ = 0xBF;
      if (--utf8_left_ == 0) state_ = State::kString;
      return true;
    case State::kEscape:
      switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': state_ = State::kString; return true;
        case 'u':
          state_ = State::kHex;
          hex_left_ = 4;
          code_ = 0;
          return true;
        default: return fail("an unknown escape in a string");
      }
    case State::kHex: return hex_digit(c);
    case State::kSurrogateBackslash:
      if (c != '\\') return fail("a high surrogate \\u not followed by a low one");
      state_ = State::kSurrogateU;
      return true;
    case State::kSurrogateU:
      if (c != 'u') return fail("a high surrogate \\u not followed by a low one");
      state_ = State::kHex;
      hex_left_ = 4;
      code_ = 0;
      expect_low_ = true;
      return true;
    default: return false;
  }
}

bool JsonValidator::step_number(unsigned char c) {
  switch (state_) {
    case State::kMinus:
      if (c == '0') {
        state_ = State::kZero;
        return true;
      }
      if (c >= '1' && c <= '9') {
        state_ = State::kInt;
        return true;
      }
      return fail("a digit must follow '-'");
    case State::kZero:
    case State::kInt:
    case State::kFrac:
      if (is_digit(c) && state_ != State::kZero) return true;
      if (c == '.' && state_ != State::kFrac) {
        state_ = State::kDot;
        return true;
      }
      if (c == 'e' || c == 'E') {
        state_ = State::kExp;
        return true;
      }
      return end_number(c);
    case State::kDot:
      if (!is_digit(c)) return fail("a digit must follow '.'");
      state_ = State::kFrac;
      return true;
    case State::kExp:
      if (c == '+' || c == '-') {
        state_ = State::kExpSign;
        return true;
      }
      [[fallthrough]];
    case State::kExpSign:
      if (!is_digit(c)) return fail("a digit must follow the exponent");
      state_ = State::kExpDigits;
      return true;
    case State::kExpDigits:
      if (is_digit(c)) return true;
      return end_number(c);
    default: return false;
  }
}

bool JsonValidator::step(unsigned char c) {
  switch (state_) {
    case State::kStart:
    case State::kBom1:
    case State::kBom2:
    case State::kValue:
    case State::kValueOrClose:
    case State::kKeyOrClose:
    case State::kKey:
    case State::kColon:
    case State::kAfter:
    case State::kDone: return step_structure(c);
    case State::kString:
    case State::kUtf8:
    case State::kEscape:
    case State::kHex:
    case State::kSurrogateBackslash:
    case State::kSurrogateU: return step_string(c);
    case State::kMinus:
    case State::kZero:
    case State::kInt:
    case State::kDot:
    case State::kFrac:
    case State::kExp:
    case State::kExpSign:
    case State::kExpDigits: return step_number(c);
    case State::kLiteral:
      if (static_cast<unsigned char>(*literal_) != c) return fail("not true, false or null");
      if (*++literal_ == '\0') return value_done();
      return true;
    case State::kFailed: return false;
  }
  return false;
}

bool JsonValidator::feed(std::string_view bytes) {
  for (char ch : bytes) {
    if (!step(static_cast<unsigned char>(ch))) return false;
    ++offset_;
  }
  return state_ != State::kFailed;
}

bool JsonValidator::finish() {
  switch (state_) {
    case State::kZero:
    case State::kInt:
    case State::kFrac:
    case State::kExpDigits: value_done(); break;
    case State::kDone:
    case State::kFailed: break;
    case State::kStart:
    case State::kValue:
      if (objects_.empty()) return fail("no JSON value");
      return fail("the text ends inside a JSON value");
    default: return fail("the text ends inside a JSON value");
  }
  if (state_ == State::kAfter) return fail("the text ends inside a JSON value");
  return state_ == State::kDone;
}

bool is_valid_json(std::string_view text, std::size_t max_depth) {
  JsonValidator v(max_depth);
  return v.feed(text) && v.finish();
}

}  // namespace harness
