#include "harness/judge/expect.hpp"

#include <algorithm>

#include "harness/core/yaml_reader.hpp"

namespace harness {

void Judgement::fail(const std::string& what) const {
  failures.push_back(instance ? "instance " + std::to_string(instance->index) + ": " + what : what);
}

void ExpectParser::require(const std::string& key, const YAML::Mark& mark,
                           const std::string& message) {
  for (auto& r : requirements_) {
    if (r.key == key && r.message == message) {
      r.mark = mark;
      return;
    }
  }
  requirements_.push_back({key, mark, message});
}

const Expectation* Expect::find(std::string_view key) const {
  for (const auto& e : given_)
    if (e->row().key == key) return e.get();
  return nullptr;
}

bool Expect::measures_memory() const {
  return std::any_of(given_.begin(), given_.end(), [](const auto& e) { return e->row().memory; });
}

Expect parse_expect(YamlReader& r, const YAML::Node& node, const YAML::Mark& where) {
  const auto& table = expectation_table();
  ExpectParser parser(r);
  Expect x;
  for (const auto& e : r.entries(node, where, "expect", expectation_keys())) {
    const auto row = std::find_if(table.begin(), table.end(),
                                  [&](const ExpectRow& t) { return t.key == e.key.Scalar(); });
    if (auto given = row->parse(*row, parser, e)) x.given_.push_back(std::move(given));
  }
  for (const auto& req : parser.requirements_)
    if (!x.has(req.key)) r.error(req.mark, req.message);
  // Checks run in table order, whatever order the file wrote the keys in.
  const auto position = [&](const auto& e) { return &e->row() - table.data(); };
  std::stable_sort(x.given_.begin(), x.given_.end(),
                   [&](const auto& a, const auto& b) { return position(a) < position(b); });
  return x;
}

Failures evaluate(const Expect& expect, const ScenarioRun& run) {
  Failures failures;
  if (run.warmup) return failures;
  const auto check_all = [&](const Judgement& j, auto&& in_scope) {
    for (const auto& e : expect.given())
      if (in_scope(e->row().scope)) e->check(j);
  };
  for (const auto& p : run.instances) {
    const Judgement j{expect, run, &p, failures};
    if (p.spawn_error.empty()) {
      check_all(j, [](Scope s) { return s != Scope::kRun; });
      continue;
    }
    // Nothing else about a process that never ran is meaningful.
    const bool expected = std::any_of(expect.given().begin(), expect.given().end(), [](auto& e) {
      return e->row().scope == Scope::kAnyInstance;
    });
    if (!expected) j.fail("could not start: " + p.spawn_error);
    check_all(j, [](Scope s) { return s == Scope::kAnyInstance; });
  }
  check_all(Judgement{expect, run, nullptr, failures}, [](Scope s) { return s == Scope::kRun; });
  return failures;
}

}  // namespace harness
