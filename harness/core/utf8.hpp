#pragma once
// Decoding one UTF-8 character with the reason when the bytes are not one, for messages that
// must say what is wrong and where ("invalid UTF-8: byte 0xC3 is not followed by a continuation
// byte"). Validity is RFC 3629's: no overlong forms, no surrogates, nothing above U+10FFFF.

#include <cstddef>
#include <string>
#include <string_view>

namespace harness {

enum class Utf8Error {
  kNone,
  kStrayContinuation,  // 0x80-0xBF where a character should start
  kBadLeadByte,        // 0xC0, 0xC1, 0xF5-0xFF: never in UTF-8
  kTruncated,          // a lead byte without all its continuation bytes
  kOverlong,           // a longer form of a character that has a shorter one
  kSurrogate,          // U+D800-U+DFFF: UTF-16 halves, not characters
  kTooLarge,           // above U+10FFFF
};

struct Utf8Char {
  char32_t code = 0;
  std::size_t length = 1;  // bytes taken; 1 on an error, so a scan moves past the bad byte
  Utf8Error error = Utf8Error::kNone;
};

// The character starting at text[i] (i < text.size()).
Utf8Char decode_utf8(std::string_view text, std::size_t i);

// "a byte 0xC3 not followed by a continuation byte", "an overlong form", ... for messages.
std::string describe_utf8_error(Utf8Error error);

// "U+0007", "U+FEFF".
std::string code_point_name(char32_t code);

}  // namespace harness
