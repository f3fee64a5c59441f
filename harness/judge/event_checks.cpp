// Rows of the expectations on a worker's protocol events: the last `result` event, `error`
// events, and which event types were emitted.
#include <string>

#include <algorithm>

#include "harness/judge/expectation_rows.hpp"
#include "harness/judge/expectation_values.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness::detail {
namespace {

const nlohmann::json* lookup(const nlohmann::json& obj, const std::string& path) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(path); it != obj.end()) return &*it;
  auto dot = path.find('.');
  if (dot == std::string::npos) return nullptr;
  auto it = obj.find(path.substr(0, dot));
  if (it == obj.end()) return nullptr;
  return lookup(*it, path.substr(dot + 1));
}

std::optional<std::string> read_status(ExpectParser& in, const YamlEntry& e) {
  return in.reader.string(e);
}

void check_status(const std::string& want, const Judgement& j) {
  const ProcessResult& p = j.p();
  const Event* result = last_event(p, "result");
  if (!result)
    j.fail("status expected \"" + want + "\", got no result event" + context(p));
  else if (!(result->body.contains("status") && result->body["status"] == want))
    j.fail("status expected \"" + want + "\", got " +
           (result->body.contains("status") ? result->body["status"].dump() : "no status"));
}

// `result:` keys are the worker's own field names, so they are not checked against a list.
std::optional<std::vector<FieldExpectation>> read_result(ExpectParser& in, const YamlEntry& e) {
  YamlReader& r = in.reader;
  if (!e.value.IsMap()) {
    r.error(e,
            "'expect.result' must be a map of result fields, e.g. {frames_processed: 100}, "
            "got " +
                YamlReader::describe(e.value));
    return std::nullopt;
  }
  std::vector<FieldExpectation> fields;
  for (auto f = e.value.begin(); f != e.value.end(); ++f) {
    if (!f->first.IsScalar()) {
      r.error(f->first.Mark(), "a key in 'expect.result' must be a field name, got " +
                                   YamlReader::describe(f->first));
      continue;
    }
    YamlEntry fe{"expect.result." + f->first.Scalar(), f->first, f->second};
    if (auto b = read_bounds(r, fe, false))
      fields.push_back(FieldExpectation{f->first.Scalar(), *b});
  }
  return fields;
}

void check_result(const std::vector<FieldExpectation>& fields, const Judgement& j) {
  const ProcessResult& p = j.p();
  const Event* result = last_event(p, "result");
  for (const auto& f : fields) {
    if (!result) {
      j.fail("result." + f.field + " expected a result event, got none" + context(p));
      continue;
    }
    const nlohmann::json* v = lookup(result->body, f.field);
    if (!v) {
      j.fail("result." + f.field + " expected a field, got none in " +
             printable(result->body.dump(), 200));
      continue;
    }
    if (auto problem = check_bounds(f.bounds, *v); !problem.empty())
      j.fail("result." + f.field + " " + problem);
  }
}

std::optional<ErrorExpectation> read_error(ExpectParser& in, const YamlEntry& e) {
  ErrorExpectation x;
  for (const auto& f :
       in.reader.entries(e.value, mark_of(e), "expect.error", {"type", "message_matches"})) {
    if (f.key.Scalar() == "type")
      x.type = in.reader.string(f);
    else
      x.message = read_pattern(in.reader, f, f.value);
  }
  return x;
}

bool string_field_is(const nlohmann::json& body, const char* key, const std::string& want) {
  return body.contains(key) && body[key].is_string() && body[key].get<std::string>() == want;
}

void check_error(const ErrorExpectation& want, const Judgement& j) {
  if (!want.type && !want.message) return;
  const ProcessResult& p = j.p();
  bool found = false;
  const Event* last_error = nullptr;
  for (const auto& ev : p.events) {
    if (ev.type != "error") continue;
    last_error = &ev;
    bool type_ok = !want.type || string_field_is(ev.body, "type", *want.type);
    bool msg_ok = !want.message || (ev.body.contains("message") && ev.body["message"].is_string() &&
                                    want.message->search(ev.body["message"].get<std::string>()));
    found = found || (type_ok && msg_ok);
  }
  if (found) return;
  std::string what = want.type ? "type " + *want.type : std::string();
  if (want.message)
    what +=
        (what.empty() ? "" : ", ") + std::string("message matching /") + want.message->source + "/";
  j.fail("error expected an error event with " + what + ", got " +
         (last_error ? printable(last_error->body.dump(), 200) : "no error event" + context(p)));
}

std::optional<std::vector<std::string>> read_event_names(ExpectParser& in, const YamlEntry& e) {
  return in.reader.string_list(e, true);
}

void check_events_include(const std::vector<std::string>& types, const Judgement& j) {
  const ProcessResult& p = j.p();
  for (const auto& type : types) {
    // The counts cover every event printed; the kept events are bounded.
    if (p.event_counts.count(type) || last_event(p, type)) continue;
    std::vector<std::string> seen;  // distinct, in order of first appearance
    for (const auto& ev : p.events)
      if (std::find(seen.begin(), seen.end(), ev.type) == seen.end()) seen.push_back(ev.type);
    for (const auto& [t, n] : p.event_counts)
      if (std::find(seen.begin(), seen.end(), t) == seen.end()) seen.push_back(t);
    std::string list;
    for (const auto& t : seen) list += (list.empty() ? "" : ", ") + t;
    j.fail("events_include expected a '" + type + "' event, got [" + list + "]");
  }
}

}  // namespace

std::vector<ExpectRow> event_rows() {
  return {
      row("status", "string", "the last `result` event's `status` equals it", read_status,
          check_status),
      row("result", "map field → value, or `{min:, max:}`, or `{eq:}`",
          "on the last `result` event: a value means equality (numbers by value: `100` equals "
          "`100.0`); `min`/`max` are inclusive numeric bounds. `a.b` reaches into nested objects.",
          read_result, check_result),
      row("error", "`{type:, message_matches:}`",
          "some `error` event has that `type` and a `message` matching the regex (either may be "
          "left out)",
          read_error, check_error),
      row("events_include", "list of event names", "each event type was emitted at least once",
          read_event_names, check_events_include),
  };
}

}  // namespace harness::detail
