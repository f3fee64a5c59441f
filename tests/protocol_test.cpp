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
