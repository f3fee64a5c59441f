// The stop sequence as data, without processes: which signal is sent when, what a second
// interrupt does, and that every policy ends with SIGKILL.

#include "harness/supervise/stop_policy.hpp"

#include <csignal>

#include <gtest/gtest.h>

namespace harness {
namespace {

using namespace std::chrono_literals;
using Clock = StopSequence::Clock;

TEST(stop_policy_test, default_is_term_grace_kill) {
  const StopPolicy p = default_stop_policy(1500ms);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].signal, SIGTERM);
  EXPECT_EQ(p[0].wait, 1500ms);
  EXPECT_EQ(p[1].signal, SIGKILL);
}

TEST(stop_policy_test, steps_come_due_one_wait_after_another) {
  const Clock::time_point ref{std::chrono::seconds(100)};
  StopSequence seq({{SIGINT, 200ms}, {SIGTERM, 1s}, {SIGKILL, 0ms}}, ref);
  auto a = seq.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->signal, SIGINT);
  EXPECT_EQ(a->due, ref);
  ASSERT_TRUE(a->next_at);
  EXPECT_EQ(*a->next_at, ref + 200ms);
  auto b = seq.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->signal, SIGTERM);
  EXPECT_EQ(b->due, ref + 200ms);
  EXPECT_EQ(*b->next_at, ref + 1200ms);
  auto c = seq.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->signal, SIGKILL);
  EXPECT_EQ(c->due, ref + 1200ms);
  EXPECT_FALSE(c->next_at);
  EXPECT_TRUE(seq.done());
  EXPECT_EQ(seq.last_signal(), SIGKILL);
  EXPECT_EQ(seq.last_due(), ref + 1200ms);
  EXPECT_FALSE(seq.next());
}

TEST(stop_policy_test, a_policy_without_sigkill_gets_one) {
  StopSequence seq({{SIGTERM, 50ms}}, Clock::time_point{});
  EXPECT_EQ(seq.next()->signal, SIGTERM);
  const auto kill = seq.next();
  ASSERT_TRUE(kill);
  EXPECT_EQ(kill->signal, SIGKILL);
  EXPECT_EQ(kill->due, Clock::time_point{} + 50ms);
  StopSequence empty({}, Clock::time_point{});
  EXPECT_EQ(empty.next()->signal, SIGKILL);
  EXPECT_TRUE(empty.done());
}

TEST(stop_policy_test, hurry_skips_the_waits_to_sigkill_now) {
  const Clock::time_point ref{std::chrono::seconds(10)};
  StopSequence seq({{SIGINT, 5s}, {SIGTERM, 5s}, {SIGKILL, 0ms}}, ref);
  EXPECT_EQ(seq.next()->signal, SIGINT);
  const Clock::time_point now = ref + 1s;
  seq.hurry(now);
  const auto a = seq.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->signal, SIGKILL);
  EXPECT_EQ(a->due, now);
  EXPECT_TRUE(seq.done());
  seq.hurry(now + 1s);  // nothing left to hurry
  EXPECT_FALSE(seq.next());
  EXPECT_EQ(seq.last_due(), now);
}

}  // namespace
}  // namespace harness
