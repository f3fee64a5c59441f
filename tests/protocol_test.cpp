#include "harness/supervise/protocol.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace harness {
namespace {

using Kind = ParsedLine::Kind;

TEST(protocol_test, event_line_becomes_event) {
  auto p = parse_protocol_line(R"({"event":"ready","load_ms":212.4})");
  ASSERT_EQ(p.kind, Kind::event);
  EXPECT_EQ(p.event.type, "ready");
  EXPECT_DOUBLE_EQ(p.event.body.at("load_ms").get<double>(), 212.4);
  EXPECT_EQ(p.event.body.at("event"), "ready");
}

TEST(protocol_test, plain_text_is_log) {
  EXPECT_EQ(parse_protocol_line("loading model").kind, Kind::log);
  EXPECT_EQ(parse_protocol_line("").kind, Kind::log);
}

TEST(protocol_test, json_without_event_is_log) {
  EXPECT_EQ(parse_protocol_line(R"({"other":1})").kind, Kind::log);
  EXPECT_EQ(parse_protocol_line("[1,2,3]").kind, Kind::log);
  EXPECT_EQ(parse_protocol_line("{not json at all").kind, Kind::log);
}

TEST(protocol_test, non_string_event_is_violation) {
  auto p = parse_protocol_line(R"({"event": 42})");
  ASSERT_EQ(p.kind, Kind::violation);
  EXPECT_NE(p.violation.find("not a string"), std::string::npos) << p.violation;
  EXPECT_EQ(parse_protocol_line(R"({"event": null})").kind, Kind::violation);
  EXPECT_EQ(parse_protocol_line(R"({"event": ""})").kind, Kind::violation);
}

TEST(protocol_test, truncated_event_is_violation) {
  auto p = parse_protocol_line(R"({"event":"result","status":)");
  ASSERT_EQ(p.kind, Kind::violation);
  EXPECT_NE(p.violation.find("not valid JSON"), std::string::npos) << p.violation;
  EXPECT_EQ(parse_protocol_line(R"(  { "event" : "x", )").kind, Kind::violation);
}

TEST(protocol_test, invalid_utf8_never_throws) {
  std::string bad_event = "{\"event\":\"bad\xff\"}";
  ParsedLine p;
  EXPECT_NO_THROW(p = parse_protocol_line(bad_event));
  EXPECT_EQ(p.kind, Kind::violation);
  EXPECT_NE(p.violation.find("\\xff"), std::string::npos) << p.violation;
  EXPECT_NO_THROW(p = parse_protocol_line("text \xc3\x28 \xfe"));
  EXPECT_EQ(p.kind, Kind::log);
  EXPECT_NO_THROW(p = parse_protocol_line(std::string("{\"a\":\"\0\"}", 9)));
}

TEST(protocol_test, numbers_beyond_a_double_are_kept_as_their_text) {
  const std::string big(5000, '7');
  auto p = parse_protocol_line(R"({"event":"result","a":1e999,"b":-1e999,"c":)" + big +
                               R"(,"d":[2.5,"1e999"],"e":1e-999})");
  ASSERT_EQ(p.kind, Kind::event) << p.violation;
  EXPECT_EQ(p.event.body.at("a"), "1e999");
  EXPECT_EQ(p.event.body.at("b"), "-1e999");
  EXPECT_EQ(p.event.body.at("c"), big);
  EXPECT_DOUBLE_EQ(p.event.body.at("d").at(0).get<double>(), 2.5);
  EXPECT_EQ(p.event.body.at("d").at(1), "1e999");  // a string stays a string
  EXPECT_DOUBLE_EQ(p.event.body.at("e").get<double>(), 0.0);
}

TEST(protocol_test, nesting_past_the_bound_is_a_violation_and_never_recursed) {
  const auto nested = [](int depth) {
    return R"({"event":"result","x":)" + std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']') + "}";
  };
  auto deep = parse_protocol_line(nested(25000));
  ASSERT_EQ(deep.kind, Kind::violation);
  EXPECT_NE(deep.violation.find("event nested 25001 levels deep, more than the 64"),
            std::string::npos)
      << deep.violation;
  auto ok = parse_protocol_line(nested(kMaxEventDepth - 1));
  ASSERT_EQ(ok.kind, Kind::event) << ok.violation;
  EXPECT_EQ(ok.event.body.dump().size(), nested(kMaxEventDepth - 1).size());
  // Brackets inside strings are text, not nesting.
  auto text = parse_protocol_line(R"({"event":"log","msg":")" + std::string(1000, '[') + R"("})");
  EXPECT_EQ(text.kind, Kind::event);
  // Deep JSON that is not trying to be an event is log text.
  EXPECT_EQ(
      parse_protocol_line(R"({"data":)" + std::string(100, '[') + std::string(100, ']') + "}").kind,
      Kind::log);
}

TEST(protocol_test, carriage_return_is_ignored) {
  auto p = parse_protocol_line("{\"event\":\"progress\",\"done\":1}\r");
  ASSERT_EQ(p.kind, Kind::event);
  EXPECT_EQ(p.event.type, "progress");
}

TEST(protocol_test, looks_like_event_needs_event_key_first) {
  EXPECT_TRUE(looks_like_event(R"({"event":)"));
  EXPECT_TRUE(looks_like_event(R"( {  "event")"));
  EXPECT_FALSE(looks_like_event(R"({"type":"event"})"));
  EXPECT_FALSE(looks_like_event("event"));
}

TEST(protocol_test, excerpt_escapes_and_bounds) {
  EXPECT_EQ(excerpt("a\x01\xff"), "a\\x01\\xff");
  EXPECT_EQ(excerpt(std::string(500, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(protocol_test, recorded_sample_classifies_each_line) {
  std::ifstream f(HARNESS_TEST_DATA_DIR "/protocol_sample.txt");
  ASSERT_TRUE(f) << "missing tests/data/protocol_sample.txt";
  std::string line;
  std::vector<std::string> events;
  int logs = 0, violations = 0;
  while (std::getline(f, line)) {
    auto p = parse_protocol_line(line);
    if (p.kind == Kind::event) events.push_back(p.event.type);
    if (p.kind == Kind::log) ++logs;
    if (p.kind == Kind::violation) ++violations;
  }
  EXPECT_EQ(events, (std::vector<std::string>{"started", "ready", "progress", "result", "error"}));
  EXPECT_EQ(logs, 3);        // text, array, object without "event"
  EXPECT_EQ(violations, 2);  // numeric event, truncated event
}

}  // namespace
}  // namespace harness
