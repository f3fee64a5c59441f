// GCC 12 reports a false "may be used uninitialized" inside libstdc++'s regex compiler at -O2
// with sanitizers (GCC bug 105562); the code is std::regex's own, not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "harness/judge/expect.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "harness/core/units.hpp"
#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// libstdc++'s regex matcher recurses per character; bounded windows keep its stack bounded
// whatever a worker printed on one line.
constexpr std::size_t kWindow = 1024;
constexpr std::size_t kOverlap = 128;
constexpr std::size_t kMaxPatternLength = 1000;
constexpr std::uintmax_t kMaxOutputFileBytes = 64u << 20;

const std::vector<std::string> kKeys{"exit_code",
                                     "signal",
                                     "timed_out",
                                     "cancelled",
                                     "status",
                                     "result",
                                     "error",
                                     "stdout_matches",
                                     "stdout_not_matches",
                                     "stderr_matches",
                                     "stderr_not_matches",
                                     "wall_time_max",
                                     "ready_time_max",
                                     "kill_latency_max",
                                     "peak_rss_max",
                                     "peak_pss_max",
                                     "peak_uss_max",
                                     "memory_added_max",
                                     "memory_added_min",
                                     "leftover_processes",
                                     "all_succeeded",
                                     "output",
                                     "output_valid_json",
                                     "outputs_distinct",
                                     "events_include",
                                     "stdout_bytes",
                                     "stderr_bytes",
                                     "protocol_violations_max",
                                     "spawn_error"};

std::vector<std::string> signal_names() {
  std::vector<std::string> names;
  for (int s = 1; s < 32; ++s) names.push_back(signal_name(s));
  return names;
}

std::optional<int> signal_number(const std::string& name) {
  for (int s = 1; s < 65; ++s)
    if (signal_name(s) == name) return s;
  return std::nullopt;
}

std::optional<Pattern> read_pattern(YamlReader& r, const YamlEntry& e, const YAML::Node& node) {
  if (!node.IsScalar() || node.IsNull()) {
    r.error(
        node.Mark().line >= 0 ? node.Mark() : mark_of(e),
        "'" + e.path + "' must be a regular expression string, got " + YamlReader::describe(node));
    return std::nullopt;
  }
  const std::string& src = node.Scalar();
  if (src.size() > kMaxPatternLength) {
    r.error(node.Mark(), "'" + e.path + "' is a regular expression of " +
                             std::to_string(src.size()) + " characters; keep it under " +
                             std::to_string(kMaxPatternLength));
    return std::nullopt;
  }
  try {
    return make_pattern(src);
  } catch (const std::regex_error& ex) {
    r.error(node.Mark(), "'" + e.path + "' is not a valid ECMAScript regular expression '" + src +
                             "': " + ex.what() +
                             " (escape special characters such as ( [ . * with a backslash)");
    return std::nullopt;
  }
}

std::vector<Pattern> read_patterns(YamlReader& r, const YamlEntry& e) {
  std::vector<Pattern> out;
  if (e.value.IsSequence()) {
    for (const auto& item : e.value)
      if (auto p = read_pattern(r, e, item)) out.push_back(std::move(*p));
  } else if (auto p = read_pattern(r, e, e.value)) {
    out.push_back(std::move(*p));
  }
  return out;
}

// A value, or {min:, max:, eq:}. Sizes ("1MiB") are allowed for byte counts only.
std::optional<Bounds> read_bounds(YamlReader& r, const YamlEntry& e, bool sizes) {
  Bounds b;
  auto read_number = [&](const YamlEntry& x) -> std::optional<double> {
    if (sizes) {
      auto v = r.size(x);
      return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    }
    return r.number(x);
  };
  if (e.value.IsMap()) {
    auto entries = r.entries(e.value, mark_of(e), e.path, {"min", "max", "eq"});
    for (const auto& x : entries) {
      const std::string k = x.key.Scalar();
      if (k == "eq") {
        if (sizes) {
          if (auto v = read_number(x)) b.eq = *v;
        } else {
          b.eq = r.to_json(x.value);
        }
      } else if (auto v = read_number(x)) {
        (k == "min" ? b.min : b.max) = *v;
      }
    }
    if (b.min && b.max && *b.min > *b.max)
      r.error(mark_of(e), "'" + e.path + "' has min greater than max");
    if (!b.min && !b.max && !b.eq)
      r.error(mark_of(e), "'" + e.path + "' needs at least one of min, max, eq");
    return b;
  }
  if (sizes) {
    if (auto v = read_number(e)) b.eq = *v;
    return b;
  }
  if (e.value.IsNull()) {
    r.error(mark_of(e), "'" + e.path + "' needs a value, or {min: ..., max: ...}");
    return std::nullopt;
  }
  b.eq = r.to_json(e.value);
  return b;
}

// `result:` keys are the worker's own field names, so they are not checked against a list.
void read_result_fields(YamlReader& r, const YamlEntry& e, Expect& x) {
  if (!e.value.IsMap()) {
    r.error(e,
            "'expect.result' must be a map of result fields, e.g. {frames_processed: 100}, "
            "got " +
                YamlReader::describe(e.value));
    return;
  }
  for (auto f = e.value.begin(); f != e.value.end(); ++f) {
    if (!f->first.IsScalar()) {
      r.error(f->first.Mark(), "a key in 'expect.result' must be a field name, got " +
                                   YamlReader::describe(f->first));
      continue;
    }
    YamlEntry fe{"expect.result." + f->first.Scalar(), f->first, f->second};
    if (auto b = read_bounds(r, fe, false))
      x.result.push_back(FieldExpectation{f->first.Scalar(), *b});
  }
}

std::optional<std::int64_t> kib(std::optional<std::int64_t> bytes) {
  if (!bytes) return std::nullopt;
  return (*bytes + 1023) / 1024;
}

// ---- evaluation helpers ----

std::string printable(std::string_view s, std::size_t limit = 100) {
  std::string out;
  for (unsigned char c : s.substr(0, limit)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

// What a reader of a failure most wants to see: the worker's own explanation.
std::string context(const ProcessResult& p) {
  for (auto it = p.events.rbegin(); it != p.events.rend(); ++it)
    if (it->type == "error" && it->body.contains("message") && it->body["message"].is_string())
      return " (error: \"" + printable(it->body["message"].get<std::string>()) + "\")";
  std::string line = last_line(p.err.tail);
  if (!line.empty()) return " (stderr: \"" + printable(line) + "\")";
  return "";
}

std::string ending(const ProcessResult& p) {
  if (!p.spawn_error.empty()) return "no process (" + printable(p.spawn_error) + ")";
  if (p.exit_code) return std::to_string(*p.exit_code);
  if (p.signal) return "signal " + signal_name(*p.signal);
  return "no exit status";
}

const Event* last_event(const ProcessResult& p, const std::string& type) {
  for (auto it = p.events.rbegin(); it != p.events.rend(); ++it)
    if (it->type == type) return &*it;
  return nullptr;
}

const nlohmann::json* lookup(const nlohmann::json& obj, const std::string& path) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(path); it != obj.end()) return &*it;
  auto dot = path.find('.');
  if (dot == std::string::npos) return nullptr;
  auto it = obj.find(path.substr(0, dot));
  if (it == obj.end()) return nullptr;
  return lookup(*it, path.substr(dot + 1));
}

bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

std::string num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream s;
  s << v;
  return s.str();
}

// "" when `actual` satisfies b, else "expected X, got Y".
std::string check_bounds(const Bounds& b, const nlohmann::json& actual,
                         std::string (*fmt)(double) = num) {
  if (b.eq) {
    if (json_equal(*b.eq, actual)) return "";
    std::string want = b.eq->is_number() ? fmt(b.eq->get<double>()) : b.eq->dump();
    std::string got = actual.is_number() ? fmt(actual.get<double>()) : actual.dump();
    return "expected " + want + ", got " + got;
  }
  if (!actual.is_number()) return "expected a number, got " + actual.dump();
  double v = actual.get<double>();
  if (b.min && v < *b.min) return "expected >= " + fmt(*b.min) + ", got " + fmt(v);
  if (b.max && v > *b.max) return "expected <= " + fmt(*b.max) + ", got " + fmt(v);
  return "";
}

std::string bytes_fmt(double v) {
  return num(v) + " bytes";
}

// Reads the instance's output file; sets `problem` when it is missing or not JSON.
std::optional<std::string> read_output(const ProcessResult& p, const std::string& name,
                                       std::string& problem) {
  fs::path path = fs::path(p.out_dir) / name;
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    problem = "cannot read " + path.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (size > kMaxOutputFileBytes) {
    problem = path.string() + " is " + format_size(static_cast<std::int64_t>(size)) +
              ", larger than the " + format_size(kMaxOutputFileBytes) + " the harness reads";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!nlohmann::json::accept(text)) {
    problem = path.string() + " is not valid JSON";
    return std::nullopt;
  }
  return text;
}

class InstanceJudge {
 public:
  InstanceJudge(const Expect& x, const ProcessResult& p, std::vector<std::string>& failures)
      : x_(x), p_(p), failures_(failures) {}

  void run() {
    if (!check_spawn()) return;
    check_exit();
    check_flags();
    check_events();
    check_streams();
    check_times_and_memory();
    check_output();
  }

 private:
  void fail(const std::string& what) {
    failures_.push_back("instance " + std::to_string(p_.index) + ": " + what);
  }

  bool check_spawn() {
    if (!p_.spawn_error.empty()) {
      if (!x_.spawn_error)
        fail("could not start: " + p_.spawn_error);
      else if (!x_.spawn_error->search(p_.spawn_error))
        fail("spawn_error expected to match /" + x_.spawn_error->source + "/, got \"" +
             printable(p_.spawn_error) + "\"");
      return false;  // nothing else about a process that never ran is meaningful
    }
    if (x_.spawn_error)
      fail("spawn_error expected a failure to start matching /" + x_.spawn_error->source +
           "/, got a process that ended with " + ending(p_));
    return true;
  }

  void check_exit() {
    if (x_.exit_code) {
      const auto& e = *x_.exit_code;
      using K = ExitCodeExpectation::Kind;
      if (e.kind == K::kEquals && !(p_.exit_code && *p_.exit_code == e.value))
        fail("exit_code expected " + std::to_string(e.value) + ", got " + ending(p_) + context(p_));
      // A worker killed by a signal did not succeed either: that counts as non-zero.
      if (e.kind == K::kNonZero && p_.exit_code && *p_.exit_code == 0)
        fail("exit_code expected non-zero, got 0");
      if (e.kind == K::kNonZero && !p_.exit_code && !p_.signal)
        fail("exit_code expected non-zero, got " + ending(p_));
    }
    if (x_.signal && !(p_.signal && *p_.signal == *x_.signal)) {
      std::string got = p_.signal ? signal_name(*p_.signal)
                                  : (p_.exit_code ? "exit code " + std::to_string(*p_.exit_code)
                                                  : std::string("no exit status"));
      fail("signal expected " + signal_name(*x_.signal) + ", got " + got);
    }
  }

  void check_flags() {
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    if (x_.timed_out && *x_.timed_out != p_.timed_out)
      fail("timed_out expected " + b(*x_.timed_out) + ", got " + b(p_.timed_out) + " (ran " +
           format_seconds(p_.wall_s) + ", ended with " + ending(p_) + ")");
    if (x_.cancelled && *x_.cancelled != p_.cancelled)
      fail("cancelled expected " + b(*x_.cancelled) + ", got " + b(p_.cancelled));
    if (x_.leftover_processes && *x_.leftover_processes != p_.leftover_processes)
      fail("leftover_processes expected " + std::to_string(*x_.leftover_processes) + ", got " +
           std::to_string(p_.leftover_processes));
    if (x_.protocol_violations_max &&
        static_cast<int>(p_.protocol_violations.size()) > *x_.protocol_violations_max)
      fail("protocol_violations_max expected <= " + std::to_string(*x_.protocol_violations_max) +
           ", got " + std::to_string(p_.protocol_violations.size()) +
           (p_.protocol_violations.empty()
                ? std::string()
                : " (first: \"" + printable(p_.protocol_violations.front()) + "\")"));
  }

  void check_events() {
    const Event* result = last_event(p_, "result");
    if (x_.status) {
      if (!result)
        fail("status expected \"" + *x_.status + "\", got no result event" + context(p_));
      else if (!(result->body.contains("status") && result->body["status"] == *x_.status))
        fail("status expected \"" + *x_.status + "\", got " +
             (result->body.contains("status") ? result->body["status"].dump() : "no status"));
    }
    for (const auto& f : x_.result) {
      if (!result) {
        fail("result." + f.field + " expected a result event, got none" + context(p_));
        continue;
      }
      const nlohmann::json* v = lookup(result->body, f.field);
      if (!v) {
        fail("result." + f.field + " expected a field, got none in " +
             printable(result->body.dump(), 200));
        continue;
      }
      if (auto problem = check_bounds(f.bounds, *v); !problem.empty())
        fail("result." + f.field + " " + problem);
    }
    if (x_.error_type || x_.error_message) {
      bool found = false;
      const Event* last_error = nullptr;
      for (const auto& ev : p_.events) {
        if (ev.type != "error") continue;
        last_error = &ev;
        bool type_ok = !x_.error_type || (ev.body.contains("type") && ev.body["type"].is_string() &&
                                          ev.body["type"].get<std::string>() == *x_.error_type);
        bool msg_ok =
            !x_.error_message || (ev.body.contains("message") && ev.body["message"].is_string() &&
                                  x_.error_message->search(ev.body["message"].get<std::string>()));
        found = found || (type_ok && msg_ok);
      }
      std::string want = x_.error_type ? "type " + *x_.error_type : std::string();
      if (x_.error_message)
        want += (want.empty() ? "" : ", ") + std::string("message matching /") +
                x_.error_message->source + "/";
      if (!found)
        fail("error expected an error event with " + want + ", got " +
             (last_error ? printable(last_error->body.dump(), 200)
                         : "no error event" + context(p_)));
    }
    for (const auto& type : x_.events_include) {
      if (last_event(p_, type)) continue;
      std::string seen;
      for (const auto& ev : p_.events) seen += (seen.empty() ? "" : ", ") + ev.type;
      fail("events_include expected a '" + type + "' event, got [" + seen + "]");
    }
  }

  void check_stream(const char* name, const StreamCapture& s, const std::vector<Pattern>& must,
                    const std::vector<Pattern>& must_not, const std::optional<Bounds>& bytes) {
    for (const auto& pat : must)
      if (!pat.search(s.tail))
        fail(std::string(name) + "_matches expected /" + pat.source + "/, got no match in " +
             std::to_string(s.bytes) + " bytes (last line: \"" + printable(last_line(s.tail)) +
             "\")");
    for (const auto& pat : must_not) {
      if (!pat.search(s.tail)) continue;
      std::string hit;
      std::istringstream lines(s.tail);
      for (std::string line; std::getline(lines, line);)
        if (pat.search(line)) {
          hit = line;
          break;
        }
      fail(std::string(name) + "_not_matches expected no /" + pat.source + "/, got \"" +
           printable(hit) + "\"");
    }
    if (bytes) {
      auto problem = check_bounds(*bytes, static_cast<double>(s.bytes), bytes_fmt);
      if (!problem.empty()) fail(std::string(name) + "_bytes " + problem);
    }
  }

  void check_streams() {
    check_stream("stdout", p_.out, x_.stdout_matches, x_.stdout_not_matches, x_.stdout_bytes);
    check_stream("stderr", p_.err, x_.stderr_matches, x_.stderr_not_matches, x_.stderr_bytes);
  }

  void check_kib(const char* name, const std::optional<std::int64_t>& limit, std::int64_t value,
                 bool is_max) {
    if (!limit) return;
    if (value < 0) {
      fail(std::string(name) + " expected " + (is_max ? "<= " : ">= ") + format_kib(*limit) +
           ", got no measurement");
      return;
    }
    if (is_max ? value > *limit : value < *limit)
      fail(std::string(name) + " expected " + (is_max ? "<= " : ">= ") + format_kib(*limit) +
           ", got " + format_kib(value));
  }

  // A duration that must not exceed `limit`; an unknown one fails with `missing` as the value.
  void check_ms_max(const char* name, const std::optional<std::chrono::milliseconds>& limit,
                    const std::optional<double>& got_ms, const std::string& missing,
                    const std::string& detail = "") {
    if (!limit) return;
    const std::string expected = std::string(name) + " expected <= " + format_duration(*limit);
    if (!got_ms)
      fail(expected + ", got " + missing);
    else if (*got_ms > static_cast<double>(limit->count()))
      fail(expected + ", got " + format_seconds(*got_ms / 1000.0) + detail);
  }

  void check_times_and_memory() {
    if (x_.wall_time_max && p_.wall_s * 1000.0 > static_cast<double>(x_.wall_time_max->count()))
      fail("wall_time_max expected <= " + format_duration(*x_.wall_time_max) + ", got " +
           format_seconds(p_.wall_s));
    check_ms_max("ready_time_max", x_.ready_time_max, p_.ready_ms, "no ready event");
    check_ms_max("kill_latency_max", x_.kill_latency_max, p_.kill_latency_ms,
                 "no kill (the harness did not have to stop the worker)",
                 " (" + (p_.kill_signal.empty() ? std::string("tree") : p_.kill_signal) + ")");
    const auto& m = p_.memory;
    check_kib("peak_rss_max", x_.peak_rss_max_kib, m.peak_rss_kib, true);
    check_kib("peak_pss_max", x_.peak_pss_max_kib, m.peak_pss_kib, true);
    check_kib("peak_uss_max", x_.peak_uss_max_kib, m.peak_uss_kib, true);
    std::int64_t added = (m.ready_rss_kib >= 0 && m.baseline_rss_kib >= 0)
                             ? m.ready_rss_kib - m.baseline_rss_kib
                             : -1;
    // A negative difference is a real (if odd) measurement; only "no ready sample" is missing.
    if (added < 0 && m.ready_rss_kib >= 0 && m.baseline_rss_kib >= 0) added = 0;
    check_kib("memory_added_max", x_.memory_added_max_kib, added, true);
    check_kib("memory_added_min", x_.memory_added_min_kib, added, false);
  }

  void check_output() {
    if (!x_.output_valid_json || !*x_.output_valid_json) return;
    std::string problem;
    if (!read_output(p_, x_.output, problem)) fail("output_valid_json: " + problem);
  }

  const Expect& x_;
  const ProcessResult& p_;
  std::vector<std::string>& failures_;
};

void check_all_succeeded(const Expect& x, const ScenarioRun& run, std::vector<std::string>& f) {
  if (!x.all_succeeded) return;
  std::string bad;
  for (const auto& p : run.instances)
    if (!(p.spawn_error.empty() && p.exit_code && *p.exit_code == 0))
      bad += (bad.empty() ? "" : ", ") + std::string("instance ") + std::to_string(p.index) + " " +
             ending(p);
  if (*x.all_succeeded && !bad.empty())
    f.push_back("all_succeeded expected every instance to exit 0, got " + bad);
  if (!*x.all_succeeded && bad.empty())
    f.push_back("all_succeeded expected some instance to fail, got all " +
                std::to_string(run.instances.size()) + " exiting 0");
}

void check_outputs_distinct(const Expect& x, const ScenarioRun& run, std::vector<std::string>& f) {
  if (!x.outputs_distinct || !*x.outputs_distinct) return;
  struct Output {
    int index;
    fs::path path;
    std::string text;
  };
  std::vector<Output> outputs;
  for (const auto& p : run.instances) {
    if (!p.spawn_error.empty()) continue;  // reported by the instance's own checks
    std::string problem;
    auto text = read_output(p, x.output, problem);
    if (!text) {
      f.push_back("instance " + std::to_string(p.index) + ": outputs_distinct: " + problem);
      continue;
    }
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::path(p.out_dir) / x.output, ec);
    outputs.push_back({p.index, ec ? fs::path(p.out_dir) / x.output : canonical, *text});
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      const auto& a = outputs[i];
      const auto& b = outputs[j];
      if (a.path == b.path)
        f.push_back("outputs_distinct expected separate files, got instances " +
                    std::to_string(a.index) + " and " + std::to_string(b.index) + " both writing " +
                    a.path.string());
      else if (a.text == b.text)
        f.push_back("outputs_distinct expected different contents, got instances " +
                    std::to_string(a.index) + " and " + std::to_string(b.index) +
                    " with identical " + x.output);
    }
  }
}

}  // namespace

Pattern make_pattern(const std::string& source) {
  return Pattern{source, std::regex(source, std::regex::ECMAScript)};
}

bool Pattern::search(std::string_view text) const {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (std::size_t pos = 0;; pos += kWindow - kOverlap) {
      std::string_view window = line.substr(pos, kWindow);
      auto flags =
          pos == 0 ? std::regex_constants::match_default : std::regex_constants::match_not_bol;
      if (pos + kWindow < line.size()) flags |= std::regex_constants::match_not_eol;
      if (std::regex_search(window.begin(), window.end(), re, flags)) return true;
      if (pos + kWindow >= line.size()) break;
    }
    if (end == text.size()) break;
    start = end + 1;
  }
  return false;
}

bool Expect::measures_memory() const {
  return peak_rss_max_kib || peak_pss_max_kib || peak_uss_max_kib || memory_added_max_kib ||
         memory_added_min_kib;
}

Expect parse_expect(YamlReader& r, const YAML::Node& node, const YAML::Mark& where) {
  Expect x;
  using namespace std::chrono_literals;
  const milliseconds day = 24h;
  std::optional<YAML::Mark> needs_output;
  for (const auto& e : r.entries(node, where, "expect", kKeys)) {
    const std::string k = e.key.Scalar();
    if (k == "exit_code") {
      if (e.value.IsScalar() && (e.value.Scalar() == "non-zero" || e.value.Scalar() == "any")) {
        x.exit_code =
            ExitCodeExpectation{e.value.Scalar() == "any" ? ExitCodeExpectation::Kind::kAny
                                                          : ExitCodeExpectation::Kind::kNonZero,
                                0};
      } else if (e.value.IsScalar() && YamlReader::scalar_to_json(e.value).is_number_integer()) {
        if (auto v = r.integer(e, 0, 255))
          x.exit_code = ExitCodeExpectation{ExitCodeExpectation::Kind::kEquals, int(*v)};
      } else {
        r.error(e, "'expect.exit_code' must be a number 0-255, \"non-zero\" or \"any\", got " +
                       YamlReader::describe(e.value));
      }
    } else if (k == "signal") {
      if (e.value.IsScalar() && YamlReader::scalar_to_json(e.value).is_number_integer()) {
        if (auto v = r.integer(e, 1, 64)) x.signal = int(*v);
      } else if (auto s = r.string(e)) {
        std::string name = s->rfind("SIG", 0) == 0 ? *s : "SIG" + *s;
        if (auto n = signal_number(name)) {
          x.signal = *n;
        } else {
          std::string near = closest_match(name, signal_names());
          r.error(e, "unknown signal '" + *s + "' in 'expect.signal'" +
                         (near.empty() ? "; use a name such as SIGKILL or SIGTERM"
                                       : " (did you mean '" + near + "'?)"));
        }
      }
    } else if (k == "timed_out") {
      x.timed_out = r.boolean(e);
    } else if (k == "cancelled") {
      x.cancelled = r.boolean(e);
    } else if (k == "status") {
      x.status = r.string(e);
    } else if (k == "result") {
      read_result_fields(r, e, x);
    } else if (k == "error") {
      for (const auto& f :
           r.entries(e.value, mark_of(e), "expect.error", {"type", "message_matches"})) {
        if (f.key.Scalar() == "type")
          x.error_type = r.string(f);
        else
          x.error_message = read_pattern(r, f, f.value);
      }
    } else if (k == "stdout_matches") {
      x.stdout_matches = read_patterns(r, e);
    } else if (k == "stdout_not_matches") {
      x.stdout_not_matches = read_patterns(r, e);
    } else if (k == "stderr_matches") {
      x.stderr_matches = read_patterns(r, e);
    } else if (k == "stderr_not_matches") {
      x.stderr_not_matches = read_patterns(r, e);
    } else if (k == "wall_time_max") {
      x.wall_time_max = r.duration(e, 1ms, day);
    } else if (k == "ready_time_max") {
      x.ready_time_max = r.duration(e, 1ms, day);
    } else if (k == "kill_latency_max") {
      x.kill_latency_max = r.duration(e, 1ms, day);
    } else if (k == "peak_rss_max") {
      x.peak_rss_max_kib = kib(r.size(e));
    } else if (k == "peak_pss_max") {
      x.peak_pss_max_kib = kib(r.size(e));
    } else if (k == "peak_uss_max") {
      x.peak_uss_max_kib = kib(r.size(e));
    } else if (k == "memory_added_max") {
      x.memory_added_max_kib = kib(r.size(e));
    } else if (k == "memory_added_min") {
      x.memory_added_min_kib = kib(r.size(e));
    } else if (k == "leftover_processes") {
      if (auto v = r.integer(e, 0, 100000)) x.leftover_processes = int(*v);
    } else if (k == "all_succeeded") {
      x.all_succeeded = r.boolean(e);
    } else if (k == "output") {
      if (auto s = r.string(e)) {
        fs::path p(*s);
        bool escapes = std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
        if (p.is_absolute() || escapes || s->empty())
          r.error(e,
                  "'expect.output' must be a file name inside the instance's ${OUT} folder, "
                  "such as result.json, got '" +
                      *s + "'");
        else
          x.output = *s;
      }
    } else if (k == "output_valid_json" || k == "outputs_distinct") {
      auto v = r.boolean(e);
      (k == "output_valid_json" ? x.output_valid_json : x.outputs_distinct) = v;
      if (v && *v) needs_output = e.key.Mark();
    } else if (k == "events_include") {
      if (auto v = r.string_list(e, true)) x.events_include = *v;
    } else if (k == "stdout_bytes") {
      x.stdout_bytes = read_bounds(r, e, true);
    } else if (k == "stderr_bytes") {
      x.stderr_bytes = read_bounds(r, e, true);
    } else if (k == "protocol_violations_max") {
      if (auto v = r.integer(e, 0, 1000000)) x.protocol_violations_max = int(*v);
    } else if (k == "spawn_error") {
      x.spawn_error = read_pattern(r, e, e.value);
    }
  }
  if (needs_output && x.output.empty())
    r.error(*needs_output,
            "output_valid_json and outputs_distinct need 'expect.output', the "
            "file each instance writes in its ${OUT} folder (e.g. output: "
            "result.json)");
  return x;
}

std::vector<std::string> evaluate(const Expect& expect, const ScenarioRun& run) {
  std::vector<std::string> failures;
  if (run.warmup) return failures;
  for (const auto& p : run.instances) InstanceJudge(expect, p, failures).run();
  check_all_succeeded(expect, run, failures);
  check_outputs_distinct(expect, run, failures);
  return failures;
}

}  // namespace harness
