#pragma once
// Reads a table of a Markdown file, so tests can check documentation against the tables in the
// code it documents (expectation keys, run fields).

#include <fstream>
#include <string>
#include <vector>

namespace harness::testing {

struct MarkdownRow {
  int line = 0;                    // 1-based, in the file
  std::vector<std::string> cells;  // trimmed; "\|" is a '|' inside a cell
};

inline std::vector<std::string> markdown_cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      const auto b = cell.find_first_not_of(' ');
      const auto e = cell.find_last_not_of(' ');
      out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// The body rows (header and separator left out) of the first table after the line `heading`
// and before the next heading of that level; empty when the file or the table is missing.
inline std::vector<MarkdownRow> markdown_table(const std::string& file,
                                               const std::string& heading) {
  std::ifstream in(file);
  const std::string level = heading.substr(0, heading.find(' ') + 1);  // "## "
  std::vector<MarkdownRow> rows;
  bool in_section = false, in_table = false, header = true;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.rfind(level, 0) == 0) in_section = line == heading;
    if (!in_section) continue;
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    auto cells = markdown_cells(line);
    if (header || (!cells.empty() && cells[0].rfind("---", 0) == 0)) {
      header = false;
      continue;
    }
    rows.push_back({n, std::move(cells)});
  }
  return rows;
}

}  // namespace harness::testing
