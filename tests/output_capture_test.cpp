// Output capture fed bytes, no process: exact counts, bounded tails, line splitting across any
// chunking, events and violations.

#include "harness/supervise/output_capture.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace harness {
namespace {

struct Collected {
  std::vector<std::string> types;
  OutputCapture::EventSink sink() {
    return [this](Event&& e) { types.push_back(e.type); };
  }
};

TEST(output_capture_test, events_are_found_whatever_the_chunking) {
  const std::string text =
      "log one\n{\"event\":\"started\",\"pid\":1}\n{\"event\":\"ready\"}\nlog two\n"
      "{\"event\":\"result\",\"status\":\"success\"}";
  for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
    OutputCapture cap(1024);
    Collected got;
    for (std::size_t at = 0; at < text.size(); at += chunk)
      cap.add_stdout(std::string_view(text).substr(at, chunk), got.sink());
    cap.stdout_closed(got.sink());  // the last line has no newline
    EXPECT_EQ(got.types, (std::vector<std::string>{"started", "ready", "result"}))
        << "chunk " << chunk;
    EXPECT_EQ(cap.out().bytes, text.size());
    EXPECT_EQ(cap.out().lines, 5u);
    EXPECT_TRUE(cap.violations().empty());
  }
}

TEST(output_capture_test, tail_keeps_the_last_bytes_and_counts_stay_exact) {
  OutputCapture cap(10);
  for (int i = 0; i < 1000; ++i) cap.add_stderr("0123456789abcdef\n");
  const std::string big(5000, 'x');
  cap.add_stderr(big + "END\n");
  ProcessResult r;
  cap.finish(r);
  EXPECT_EQ(r.err.bytes, 1000u * 17 + 5004);
  EXPECT_EQ(r.err.lines, 1001u);
  EXPECT_EQ(r.err.tail, "xxxxxxEND\n");
  EXPECT_TRUE(r.err.truncated);
}

TEST(output_capture_test, a_short_stream_is_not_truncated) {
  OutputCapture cap(64);
  Collected got;
  cap.add_stdout("hello\n", got.sink());
  ProcessResult r;
  cap.finish(r);
  EXPECT_EQ(r.out.tail, "hello\n");
  EXPECT_FALSE(r.out.truncated);
}

TEST(output_capture_test, an_overlong_event_line_is_a_violation_and_log_text_is_not) {
  OutputCapture cap(128, 32);
  Collected got;
  const std::string long_event =
      "{\"event\":\"result\",\"status\":\"" + std::string(100, 's') + "\"}";
  cap.add_stdout(long_event + "\n", got.sink());
  cap.add_stdout(std::string(100, 'l') + "\n", got.sink());
  cap.add_stdout("{\"event\":\"ready\"}\n", got.sink());
  EXPECT_EQ(got.types, std::vector<std::string>{"ready"});
  ASSERT_EQ(cap.violations().size(), 1u);
  const std::string want = "event line of " + std::to_string(long_event.size()) +
                           " bytes is longer than the 32 byte limit";
  EXPECT_NE(cap.violations()[0].find(want), std::string::npos) << cap.violations()[0];
  EXPECT_EQ(cap.out().lines, 3u);
}

TEST(output_capture_test, violations_are_capped_but_counted) {
  OutputCapture cap(128);
  Collected got;
  for (std::size_t i = 0; i < kMaxViolations + 500; ++i)
    cap.add_stdout("{\"event\": 42}\n", got.sink());
  EXPECT_EQ(cap.violations().size(), kMaxViolations);
  EXPECT_EQ(cap.violations().back(), "more violations not recorded");
  EXPECT_EQ(cap.violation_count(), kMaxViolations + 500);
  EXPECT_TRUE(got.types.empty());
}

}  // namespace
}  // namespace harness
