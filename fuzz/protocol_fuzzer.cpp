// libFuzzer target: the worker protocol (harness/supervise/protocol.hpp), which turns one stdout
// line into log text, an event or a protocol violation and promises never to throw. The input
// is parsed once as a single line, then fed as a stdout stream, in chunks whose size comes
// from its first byte, through OutputCapture into an EventStore, with small bounds so that
// overlong lines and the store's eviction are reached. Every event must dump as JSON, as the
// report writer does. No exception is expected anywhere, so none is caught.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "harness/supervise/event_store.hpp"
#include "harness/supervise/output_capture.hpp"
#include "harness/supervise/protocol.hpp"

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "protocol_fuzzer: %s\n", what);
  std::abort();
}

void check_event(const harness::Event& ev) {
  require(!ev.type.empty(), "an event without a type");
  require(ev.body.is_object(), "an event whose body is not an object");
  (void)ev.body.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const harness::ParsedLine line = harness::parse_protocol_line(bytes);
  if (line.kind == harness::ParsedLine::Kind::event) check_event(line.event);
  if (line.kind == harness::ParsedLine::Kind::violation)
    require(!line.violation.empty(), "a violation without a reason");

  harness::OutputCapture capture(/*tail_bytes=*/256, /*max_line_bytes=*/4096);
  harness::EventLimits limits;
  limits.first_count = 4;
  limits.first_bytes = 1024;
  limits.last_count = 4;
  limits.last_bytes = 1024;
  limits.outcome_count = 4;
  limits.outcome_bytes = 2048;
  limits.max_types = 8;
  harness::EventStore store(limits);
  std::uint64_t delivered = 0;
  auto sink = [&](harness::Event&& ev) {
    check_event(ev);
    ++delivered;
    store.add(std::move(ev));
  };
  const std::size_t chunk = size == 0 ? 1 : 1 + data[0] % 97;
  for (std::size_t at = 0; at < size; at += chunk) {
    capture.add_stdout(bytes.substr(at, chunk), sink);
    capture.add_stderr(bytes.substr(at, chunk / 2));
  }
  capture.stdout_closed(sink);
  harness::ProcessResult result;
  capture.finish(result);
  store.finish(result);

  // The counts are exact whatever the bounds dropped (event_store.hpp, output_capture.hpp).
  std::uint64_t counted = 0;
  for (const auto& [type, n] : result.event_counts) counted += n;
  require(counted == delivered, "event_counts do not add up to the events delivered");
  require(result.events.size() + result.events_dropped == delivered,
          "kept + dropped events differ from the events delivered");
  require(result.out.bytes == size, "stdout byte count is not exact");
  require(result.out.tail.size() <= 256, "stdout tail past its bound");
  require(result.protocol_violations.size() <= harness::kMaxViolations, "violations unbounded");
  return 0;
}
