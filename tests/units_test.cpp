#include "harness/core/units.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace std::chrono_literals;

namespace harness {
namespace {

TEST(units_test, parses_durations_in_each_unit) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("30s"), 30000ms);
  EXPECT_EQ(parse_duration("2m"), 120000ms);
  EXPECT_EQ(parse_duration("1h"), 3600000ms);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("10 s"), 10000ms);
  EXPECT_EQ(parse_duration("0s"), 0ms);
}

TEST(units_test, refuses_unknown_duration_unit_naming_the_accepted_ones) {
  try {
    parse_duration("10 sec");
    FAIL() << "accepted '10 sec'";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "unknown duration unit 'sec' in '10 sec': write a number followed by ms, s, m "
                 "or h, e.g. 250ms, 30s, 2m");
  }
}

TEST(units_test, refuses_malformed_durations) {
  for (const char* bad : {"", "s", "10", "-1s", "1e3ms", "1.s", "abc", "0.1ms", "400d"})
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
}

TEST(units_test, parses_binary_sizes) {
  EXPECT_EQ(parse_size("100B"), 100);
  EXPECT_EQ(parse_size("512KiB"), 512 * 1024);
  EXPECT_EQ(parse_size("600MiB"), 600LL * 1024 * 1024);
  EXPECT_EQ(parse_size("8GiB"), 8LL * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("1.5GiB"), 1536LL * 1024 * 1024);
}

TEST(units_test, refuses_decimal_sizes_suggesting_the_binary_unit) {
  try {
    parse_size("600MB");
    FAIL() << "accepted 600MB";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("write 600MiB"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_size("600"), std::invalid_argument);
  EXPECT_THROW(parse_size("lots"), std::invalid_argument);
}

TEST(units_test, formats_durations_with_the_largest_short_unit) {
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(90000ms), "90s");
  EXPECT_EQ(format_duration(120000ms), "2m");
  EXPECT_EQ(format_duration(7200000ms), "2h");
  EXPECT_EQ(format_seconds(2.0034), "2.003s");
}

TEST(units_test, formats_sizes_with_binary_units) {
  EXPECT_EQ(format_size(100), "100B");
  EXPECT_EQ(format_size(1536), "1.5KiB");
  EXPECT_EQ(format_size(600LL * 1024 * 1024), "600MiB");
  EXPECT_EQ(format_kib(712 * 1024 + 307), "712.3MiB");
}

TEST(units_test, format_and_parse_round_trip) {
  for (auto d : {1ms, 999ms, 1000ms, 61000ms, 3600000ms})
    EXPECT_EQ(parse_duration(format_duration(d)), d);
  for (std::int64_t s : {1LL, 1024LL, 3LL << 20, 5LL << 30})
    EXPECT_EQ(parse_size(format_size(s)), s);
}

TEST(units_test, parses_percentages_with_or_without_the_sign) {
  EXPECT_DOUBLE_EQ(parse_percent("10%"), 0.10);
  EXPECT_DOUBLE_EQ(parse_percent("5"), 0.05);
  EXPECT_DOUBLE_EQ(parse_percent("2.5 %"), 0.025);
  EXPECT_DOUBLE_EQ(parse_percent("0%"), 0.0);
  try {
    parse_percent("10 pct");
    FAIL() << "accepted '10 pct'";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "unknown unit 'pct' in percentage '10 pct': write a number of percent, e.g. 10% "
                 "or 2.5%");
  }
  EXPECT_THROW(parse_percent("ten"), std::invalid_argument);
  EXPECT_THROW(parse_percent("-5%"), std::invalid_argument);
  EXPECT_THROW(parse_percent("1e3%"), std::invalid_argument);
  EXPECT_THROW(parse_percent(""), std::invalid_argument);
}

}  // namespace
}  // namespace harness
