#include "output.h"

#include <algorithm>

namespace dwfs {

bool ParseOutputFormat(const std::string& name, OutputFormat* out) {
  if (name == "table") *out = OutputFormat::kTable;
  else if (name == "json") *out = OutputFormat::kJson;
  else if (name == "plain") *out = OutputFormat::kPlain;
  else return false;
  return true;
}

std::string CellText(const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull: return "None";
    case Json::Type::kBool: return v.as_bool() ? "True" : "False";
    case Json::Type::kString: return v.str();
    case Json::Type::kArray: {
      std::string s;
      for (const Json& item : v.items()) s += (s.empty() ? "" : ", ") + CellText(item);
      return s;
    }
    default: return v.Dump();
  }
}

namespace {

// Display width, counting each UTF-8 code point once.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\t', ' ');
  return s;
}

}  // namespace

void PrintRecords(const Json& records, const std::vector<std::string>& columns, OutputFormat format,
                  std::ostream& out) {
  if (format == OutputFormat::kJson) {
    out << records.Dump() << "\n";
    return;
  }
  std::vector<std::string> cols = columns;
  if (cols.empty() && !records.items().empty()) {
    for (const auto& m : records.items().front().members()) cols.push_back(m.first);
  }
  std::vector<std::vector<std::string>> rows;
  for (const Json& r : records.items()) {
    std::vector<std::string> row;
    for (const std::string& c : cols) {
      const Json* v = r.Find(c);
      row.push_back(OneLine(v ? CellText(*v) : "None"));
    }
    rows.push_back(std::move(row));
  }
  if (format == OutputFormat::kPlain) {
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) out << (i ? "\t" : "") << row[i];
      out << "\n";
    }
    return;
  }
  std::vector<size_t> width(cols.size());
  for (size_t i = 0; i < cols.size(); ++i) width[i] = Width(cols[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Width(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) line += " | ";
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - Width(row[i]), ' ');
    }
    out << line << "\n";
  };
  print_row(cols);
  std::string sep;
  for (size_t i = 0; i < cols.size(); ++i) sep += (i ? "=+=" : "") + std::string(width[i], '=');
  out << sep << "\n";
  for (const auto& row : rows) print_row(row);
}

}  // namespace dwfs
