#pragma once
// What a scenario expects of its runs, and the judge that compares a ScenarioRun against it.
//
// Every `expect:` key is one row of the expectation table (expectation_table()): its name, its
// documentation (the `expect` table of docs/scenarios.md is checked against it), the parser of
// its value and its check. A new key is one new row; nothing else lists the keys.
//
// Every expectation is optional; an absent one is not checked. Per-instance expectations apply
// to every instance of a run; run-wide ones (all_succeeded, outputs_distinct) to the run as a
// whole. Warmup runs are never judged. Each failure is one line saying what was expected, what
// happened, and which instance:  instance 2: exit_code expected 0, got 3 (stderr: "cannot open")

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/result.hpp"

namespace harness {

class YamlReader;
struct YamlEntry;
class Expect;
struct ExpectRow;

using Failures = std::vector<std::string>;

// What a check sees while it judges: the whole run, and the instance under judgement (none for
// run-wide checks). fail() adds one failure line, prefixed "instance N: " for an instance.
struct Judgement {
  const Expect& expect;
  const ScenarioRun& run;
  const ProcessResult* instance;
  Failures& failures;

  const ProcessResult& p() const { return *instance; }
  void fail(const std::string& what) const;
};

// One key of an `expect:` map as a scenario gave it, parsed; immutable once parsed, so copies of
// an Expect share it.
class Expectation {
 public:
  explicit Expectation(const ExpectRow& row) : row_(row) {}
  virtual ~Expectation() = default;
  const ExpectRow& row() const { return row_; }
  virtual void check(const Judgement& judgement) const = 0;
  // The parsed value when it has type `type`, else null (see Expect::get).
  virtual const void* value(const std::type_info& type) const = 0;

 private:
  const ExpectRow& row_;
};

// The parser's side of a row: the reader for values and diagnostics, and the cross-key rules.
class ExpectParser {
 public:
  explicit ExpectParser(YamlReader& reader) : reader(reader) {}
  YamlReader& reader;
  // Reports `message` at `mark` unless the map also gives `key`. The same rule stated twice is
  // reported once, at the later place.
  void require(const std::string& key, const YAML::Mark& mark, const std::string& message);

 private:
  friend Expect parse_expect(YamlReader&, const YAML::Node&, const YAML::Mark&);
  struct Requirement {
    std::string key;
    YAML::Mark mark;
    std::string message;
  };
  std::vector<Requirement> requirements_;
};

enum class Scope {
  kInstance,     // every instance that started
  kAnyInstance,  // every instance, also one that could not be started (spawn_error)
  kRun,          // the run as a whole, after its instances
};

struct ExpectRow {
  std::string key;
  std::string type;    // the "type" column of the table in docs/scenarios.md
  std::string passes;  // the "passes when" column
  Scope scope = Scope::kInstance;
  bool memory = false;  // a memory figure: the scenario needs the machine to itself
  // Null after reporting a problem through parser.reader.
  std::function<std::shared_ptr<const Expectation>(const ExpectRow& self, ExpectParser& parser,
                                                   const YamlEntry& entry)>
      parse;
};

// Every row, in the order checks run (and failures are listed).
const std::vector<ExpectRow>& expectation_table();
// The keys of the table, for unknown-key detection and "did you mean".
const std::vector<std::string>& expectation_keys();

class Expect {
 public:
  bool empty() const { return given_.empty(); }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The parsed value of `key` when it was given and has type T, else null.
  template <class T>
  const T* get(std::string_view key) const {
    const Expectation* e = find(key);
    return e ? static_cast<const T*>(e->value(typeid(T))) : nullptr;
  }
  bool measures_memory() const;  // any memory expectation: the run needs a quiet machine
  const std::vector<std::shared_ptr<const Expectation>>& given() const { return given_; }

 private:
  friend Expect parse_expect(YamlReader&, const YAML::Node&, const YAML::Mark&);
  const Expectation* find(std::string_view key) const;
  std::vector<std::shared_ptr<const Expectation>> given_;  // in table order
};

// Reads the `expect:` map; problems go to the reader's diagnostics.
Expect parse_expect(YamlReader& reader, const YAML::Node& node, const YAML::Mark& where);

// Failures of one run, one line each; empty when it passed or is a warmup run.
Failures evaluate(const Expect& expect, const ScenarioRun& run);

}  // namespace harness
