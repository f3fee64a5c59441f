#pragma once
// What the YAML spec refuses and yaml-cpp lets through, checked on the bytes before yaml-cpp
// sees them. yaml-cpp 0.7 accepts invalid UTF-8, raw control characters, some tabs used as
// indentation, a few malformed constructs, and a NUL written as "\0" (which every argv and
// environment string then silently ends at). A file must pass three checks, in order:
//
// 1. A linear scan of the bytes: UTF-8 (RFC 3629) and the characters YAML allows (its
//    c-printable set: tab, line breaks, printable characters; no C0/C1 controls, DEL, U+FFFE,
//    U+FFFF, and a byte order mark only at the start). NEL, U+2028 and U+2029 are refused too:
//    YAML 1.1 reads them as line breaks and 1.2 as characters, so parsers disagree on the lines.
//    The first problem of each line is reported (at most kMaxTextProblems lines).
// 2. libyaml's parser, event by event (no tree, so aliases cost nothing): everything libyaml
//    refuses (the reference C parser behind PyYAML, Ruby and yq) is refused, with a clearer
//    message for a tab where indentation or a value is expected. Nesting deeper than
//    `max_depth` stops it. Every scalar holding a NUL (an escape such as "\0" or "\x00") is
//    refused at its position.
// 3. yaml-cpp, by the caller.
//
// Positions are 1-based lines and byte columns, as yaml-cpp reports them.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/diagnostic.hpp"

namespace harness {

inline constexpr std::size_t kMaxTextProblems = 20;

// Empty when the text may be handed to yaml-cpp.
std::vector<Diagnostic> check_yaml_text(std::string_view text, const std::string& file,
                                        int max_depth);

}  // namespace harness
