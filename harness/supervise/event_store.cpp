#include "harness/supervise/event_store.hpp"

#include <iterator>
#include <utility>

namespace harness {

EventStore::EventStore(EventLimits limits) : lim_(limits) {}

// What keeping the event costs, roughly: a parsed JSON tree takes a few times its text.
std::size_t EventStore::cost(const Event& ev) {
  return 4 * (ev.line_bytes > 0 ? ev.line_bytes : ev.type.size() + 16) + sizeof(Event);
}

bool EventStore::is_outcome(const Event& ev) {
  return ev.type == "result" || ev.type == "error";
}

void EventStore::add(Event ev) {
  ++total_;
  auto it = counts_.find(ev.type);
  if (it != counts_.end())
    ++it->second;
  else if (counts_.size() < lim_.max_types)
    counts_.emplace(ev.type, 1);
  else
    ++counts_[""];

  const std::size_t c = cost(ev);
  if (!first_full_) {
    if (first_.size() < lim_.first_count && first_bytes_ + c <= lim_.first_bytes) {
      first_bytes_ += c;
      first_.push_back(std::move(ev));
      return;
    }
    first_full_ = true;
  }
  last_bytes_ += c;
  last_.push_back(std::move(ev));
  while (last_.size() > lim_.last_count || (last_bytes_ > lim_.last_bytes && last_.size() > 1)) {
    Event old = std::move(last_.front());
    last_.pop_front();
    last_bytes_ -= cost(old);
    if (is_outcome(old))
      keep_outcome(std::move(old));
    else
      ++dropped_;
  }
}

void EventStore::keep_outcome(Event ev) {
  outcome_bytes_ += cost(ev);
  outcomes_.push_back(std::move(ev));
  // Past their own bound the oldest outcomes go: the judge reads the last result.
  while (outcomes_.size() > lim_.outcome_count ||
         (outcome_bytes_ > lim_.outcome_bytes && !outcomes_.empty())) {
    outcome_bytes_ -= cost(outcomes_.front());
    outcomes_.pop_front();
    ++dropped_;
  }
}

void EventStore::finish(ProcessResult& r) {
  r.events = std::move(first_);
  r.events.reserve(r.events.size() + outcomes_.size() + last_.size());
  std::move(outcomes_.begin(), outcomes_.end(), std::back_inserter(r.events));
  std::move(last_.begin(), last_.end(), std::back_inserter(r.events));
  r.event_counts = std::move(counts_);
  r.events_dropped = dropped_;
  outcomes_.clear();
  last_.clear();
}

}  // namespace harness
