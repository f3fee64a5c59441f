#include "harness/core/utf8.hpp"

#include <cstdio>

namespace harness {

Utf8Char decode_utf8(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return {b0, 1, Utf8Error::kNone};
  if (b0 < 0xC0) return {0, 1, Utf8Error::kStrayContinuation};
  if (b0 < 0xC2 || b0 > 0xF4) return {0, 1, Utf8Error::kBadLeadByte};
  const std::size_t length = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  char32_t code = b0 & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return {0, 1, Utf8Error::kTruncated};
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return {0, 1, Utf8Error::kTruncated};
    code = (code << 6) | (b & 0x3F);
  }
  // C2-DF cannot be overlong; E0 and F0 can, and that is only known from the whole value.
  if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000))
    return {0, 1, Utf8Error::kOverlong};
  if (code >= 0xD800 && code <= 0xDFFF) return {0, 1, Utf8Error::kSurrogate};
  if (code > 0x10FFFF) return {0, 1, Utf8Error::kTooLarge};
  return {code, length, Utf8Error::kNone};
}

std::string describe_utf8_error(Utf8Error error) {
  switch (error) {
    case Utf8Error::kNone: return "no error";
    case Utf8Error::kStrayContinuation: return "a continuation byte where a character starts";
    case Utf8Error::kBadLeadByte: return "a byte that never occurs in UTF-8";
    case Utf8Error::kTruncated: return "a character cut short (missing continuation bytes)";
    case Utf8Error::kOverlong: return "an overlong encoding";
    case Utf8Error::kSurrogate: return "an encoded UTF-16 surrogate";
    case Utf8Error::kTooLarge: return "a value above U+10FFFF";
  }
  return "invalid";
}

std::string code_point_name(char32_t code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(code));
  return buf;
}

}  // namespace harness
