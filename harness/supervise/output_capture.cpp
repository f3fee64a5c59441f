#include "harness/supervise/output_capture.hpp"

#include <algorithm>
#include <utility>

#include "harness/supervise/protocol.hpp"

namespace harness {

OutputCapture::OutputCapture(std::size_t tail_bytes, std::size_t max_line_bytes)
    : tail_bytes_(tail_bytes), max_line_bytes_(max_line_bytes) {}

void OutputCapture::append_tail(StreamCapture& s, std::string_view data) const {
  s.bytes += data.size();
  // Amortised: the tail may grow to twice its bound before it is cut back.
  s.tail.append(data.size() > tail_bytes_ ? data.substr(data.size() - tail_bytes_) : data);
  if (s.tail.size() > 2 * tail_bytes_) s.tail.erase(0, s.tail.size() - tail_bytes_);
}

void OutputCapture::add_stderr(std::string_view data) {
  append_tail(err_, data);
  err_.lines += static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
}

void OutputCapture::add_stdout(std::string_view data, const EventSink& sink) {
  append_tail(out_, data);
  while (!data.empty()) {
    const auto nl = data.find('\n');
    const std::string_view part = data.substr(0, nl);
    line_bytes_ += part.size();
    if (!line_overlong_) {
      if (line_.size() + part.size() > max_line_bytes_) {
        line_.append(part.substr(0, max_line_bytes_ - line_.size()));
        line_overlong_ = true;
      } else {
        line_.append(part);
      }
    }
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
    end_line(sink);
  }
}

void OutputCapture::stdout_closed(const EventSink& sink) {
  if (line_bytes_ > 0) end_line(sink);
}

void OutputCapture::end_line(const EventSink& sink) {
  ++out_.lines;
  if (line_overlong_) {
    if (looks_like_event(line_))
      add_violation("event line of " + std::to_string(line_bytes_) + " bytes is longer than the " +
                    std::to_string(max_line_bytes_) + " byte limit: " + excerpt(line_));
  } else {
    ParsedLine p = parse_protocol_line(line_);
    if (p.kind == ParsedLine::Kind::violation) {
      add_violation(std::move(p.violation));
    } else if (p.kind == ParsedLine::Kind::event) {
      p.event.line_bytes = line_bytes_;
      sink(std::move(p.event));
    }
  }
  line_.clear();
  line_overlong_ = false;
  line_bytes_ = 0;
}

void OutputCapture::add_violation(std::string text) {
  ++violation_count_;
  if (violations_.size() + 1 < kMaxViolations) {
    violations_.push_back(std::move(text));
  } else if (violations_.size() + 1 == kMaxViolations) {
    violations_.push_back("more violations not recorded");
  }
}

void OutputCapture::finish(ProcessResult& r) {
  for (StreamCapture* c : {&out_, &err_}) {
    if (c->tail.size() > tail_bytes_) c->tail.erase(0, c->tail.size() - tail_bytes_);
    c->truncated = c->bytes > c->tail.size();
  }
  r.out = std::move(out_);
  r.err = std::move(err_);
  r.protocol_violations = std::move(violations_);
}

}  // namespace harness
