// The expectation table: every `expect:` key, in the order checks run. Each group of rows lives
// with its checks, in the file named after its concept.
#include <set>
#include <stdexcept>

#include "harness/judge/expectation_rows.hpp"

namespace harness {

const std::vector<ExpectRow>& expectation_table() {
  static const std::vector<ExpectRow> table = [] {
    std::vector<ExpectRow> rows;
    for (auto group :
         {detail::exit_rows, detail::event_rows, detail::stream_rows, detail::time_rows,
          detail::memory_rows, detail::cpu_rows, detail::output_rows, detail::job_rows}) {
      for (auto& r : group()) rows.push_back(std::move(r));
    }
    std::set<std::string> keys;
    for (const auto& r : rows)
      if (!keys.insert(r.key).second)
        throw std::logic_error("expectation table: key '" + r.key + "' has two rows");
    return rows;
  }();
  return table;
}

const std::vector<std::string>& expectation_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const auto& r : expectation_table()) out.push_back(r.key);
    return out;
  }();
  return keys;
}

}  // namespace harness
