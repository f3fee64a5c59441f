// fault_worker's own command line: help, and bad arguments exit 2 with a message.

#include <gtest/gtest.h>

#include "process_test_util.hpp"

namespace harness {
namespace {

TEST(fault_worker_test, help_prints_usage_and_exits_zero) {
  Supervisor sup;
  auto r = sup.run({test::fault({"--help"})}).at(0);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_NE(r.out.tail.find("usage: fault_worker --mode MODE"), std::string::npos);
  EXPECT_NE(r.out.tail.find("ignore-term"), std::string::npos);
}

TEST(fault_worker_test, unknown_mode_exits_two_with_hint) {
  Supervisor sup;
  auto r = sup.run({test::fault({"--mode", "explode"})}).at(0);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 2);
  EXPECT_NE(r.err.tail.find("unknown mode 'explode'"), std::string::npos) << r.err.tail;
  EXPECT_NE(r.err.tail.find("--help"), std::string::npos);
}

TEST(fault_worker_test, bad_number_exits_two) {
  Supervisor sup;
  auto r = sup.run({test::fault({"--mode", "flood", "--bytes", "lots"})}).at(0);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 2);
  EXPECT_NE(r.err.tail.find("--bytes needs an integer"), std::string::npos) << r.err.tail;
}

TEST(fault_worker_test, missing_mode_exits_two) {
  Supervisor sup;
  auto r = sup.run({test::fault({})}).at(0);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 2);
}

}  // namespace
}  // namespace harness
