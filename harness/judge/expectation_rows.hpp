#pragma once
// How a row of the expectation table is written: row(key, type, passes, parse, check), where
// parse reads the value (std::optional<T>, nullopt after reporting a problem) and check(value,
// judgement) judges it. The rows themselves live next to their checks, one file per concept
// (exit_checks.cpp, event_checks.cpp, ...); expectation_table.cpp puts the groups in order.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness/core/yaml_reader.hpp"
#include "harness/judge/expect.hpp"

namespace harness::detail {

template <class T>
class Given final : public Expectation {
 public:
  using Check = std::function<void(const T&, const Judgement&)>;
  Given(const ExpectRow& row, T value, Check check)
      : Expectation(row), value_(std::move(value)), check_(std::move(check)) {}
  void check(const Judgement& judgement) const override {
    if (check_) check_(value_, judgement);
  }
  const void* value(const std::type_info& type) const override {
    return type == typeid(T) ? &value_ : nullptr;
  }

 private:
  T value_;
  Check check_;
};

struct RowOptions {
  Scope scope = Scope::kInstance;
  bool memory = false;
};

// `check` may be nullptr for a key that only gives other checks a value (`output`).
template <class Parse, class Check>
ExpectRow row(std::string key, std::string type, std::string passes, Parse parse, Check check,
              RowOptions options = {}) {
  using Parsed = std::invoke_result_t<Parse, ExpectParser&, const YamlEntry&>;
  using T = typename Parsed::value_type;
  ExpectRow r{std::move(key), std::move(type), std::move(passes),
              options.scope,  options.memory,  nullptr};
  typename Given<T>::Check checker;
  if constexpr (!std::is_same_v<Check, std::nullptr_t>) checker = check;
  r.parse = [parse, checker](const ExpectRow& self, ExpectParser& parser,
                             const YamlEntry& entry) -> std::shared_ptr<const Expectation> {
    std::optional<T> value = parse(parser, entry);
    if (!value) return nullptr;
    return std::make_shared<const Given<T>>(self, std::move(*value), checker);
  };
  return r;
}

// A size (`16MiB`) as whole KiB, rounded up: the unit of every memory figure.
inline std::optional<std::int64_t> read_kib(ExpectParser& in, const YamlEntry& e) {
  auto bytes = in.reader.size(e);
  if (!bytes) return std::nullopt;
  return (*bytes + 1023) / 1024;
}

// The groups of rows, each in its concept's file, in the order expectation_table() joins them.
std::vector<ExpectRow> exit_rows();    // how the process ended; spawn_error first
std::vector<ExpectRow> event_rows();   // protocol events: status, result, error, ...
std::vector<ExpectRow> stream_rows();  // stdout and stderr: regexes and byte counts
std::vector<ExpectRow> time_rows();    // wall, ready and kill times
std::vector<ExpectRow> memory_rows();  // peaks and memory added by loading
std::vector<ExpectRow> cpu_rows();     // CPU time and utilisation, threads, processes
std::vector<ExpectRow> output_rows();  // the file each instance writes
std::vector<ExpectRow> job_rows();     // a job stream's counts, latencies and verdict

}  // namespace harness::detail
