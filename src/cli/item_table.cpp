// CSV/TSV items for `nowrec index`: header row, quoted CSV fields, chosen id and text columns.
#include "cli/item_table.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "nowrec/error.hpp"

namespace nowrec::cli {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t line,
                       const std::string& message) {
  throw Error(ErrorCode::InvalidArgument,
              path.string() + ":" + std::to_string(line) + ": " + message);
}

// Splits one record; a quoted CSV field may span lines, so more input is pulled when needed.
// `record_line` is set to the line the record starts on.
bool read_record(std::istream& in, char delimiter, const std::filesystem::path& path,
                 std::vector<std::string>& fields, std::size_t& line_number,
                 std::size_t& record_line) {
  std::string line;
  if (!std::getline(in, line)) return false;
  record_line = ++line_number;
  fields.assign(1, std::string());
  bool quoted = false;
  std::size_t quote_line = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == line.size()) {
      if (!quoted) break;
      std::string more;
      // Reading on would swallow every later row into this one field.
      if (!std::getline(in, more)) {
        fail(path, quote_line, "a quoted field is not closed before the end of the file");
      }
      ++line_number;
      fields.back() += '\n';
      line = std::move(more);
      i = static_cast<std::size_t>(-1);
      continue;
    }
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        // As the library's CsvReader: a closing quote ends the field ("ab"c is malformed).
        const bool ends = i + 1 == line.size() || line[i + 1] == delimiter ||
                          (line[i + 1] == '\r' && i + 2 == line.size());
        if (!ends) {
          fail(path, line_number,
               "text after the closing quote of field " + std::to_string(fields.size()));
        }
      } else {
        fields.back() += c;
      }
    } else if (c == '"' && delimiter == ',' && fields.back().empty()) {
      quoted = true;
      quote_line = line_number;
    } else if (c == delimiter) {
      fields.emplace_back();
    } else if (c != '\r' || i + 1 != line.size()) {
      fields.back() += c;
    }
  }
  return true;
}

std::size_t column_index(const std::vector<std::string>& header, const std::string& name,
                         const std::filesystem::path& path) {
  const auto found = std::find(header.begin(), header.end(), name);
  if (found == header.end()) {
    throw Error(ErrorCode::InvalidArgument,
                path.string() + ": the header has no column '" + name + "'");
  }
  return static_cast<std::size_t>(found - header.begin());
}

}  // namespace

ItemTable read_item_table(const std::filesystem::path& path, const ItemTableOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, path.string() + ": cannot open the items file");
  std::string first_line;
  if (!std::getline(in, first_line)) {
    throw Error(ErrorCode::InvalidArgument, path.string() + ": empty file, expected a header row");
  }
  const char delimiter = first_line.find('\t') != std::string::npos ? '\t' : ',';
  in.seekg(0);
  std::size_t line_number = 0, record_line = 0;
  std::vector<std::string> header;
  read_record(in, delimiter, path, header, line_number, record_line);
  if (!header.empty() && header[0].starts_with("\xEF\xBB\xBF")) header[0].erase(0, 3);

  const std::size_t id_column =
      options.id_column.empty() ? 0 : column_index(header, options.id_column, path);
  std::vector<std::size_t> text_columns;
  for (const std::string& name : options.text_columns) {
    text_columns.push_back(column_index(header, name, path));
  }
  if (text_columns.empty()) {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c != id_column) text_columns.push_back(c);
    }
  }
  if (text_columns.empty()) {
    throw Error(ErrorCode::InvalidArgument, path.string() + ": no text column beside the id");
  }
  ItemTable table;
  std::vector<std::string> fields;
  while ((options.limit == 0 || table.ids.size() < options.limit) &&
         read_record(in, delimiter, path, fields, line_number, record_line)) {
    if (fields.size() == 1 && fields[0].empty()) continue;
    // A field too many is as wrong as one too few: an unquoted comma in a title splits it.
    if (fields.size() != header.size()) {
      fail(path, record_line,
           "the record has " + std::to_string(fields.size()) + " fields, the header has " +
               std::to_string(header.size()));
    }
    const std::string& id_text = fields[id_column];
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (error != std::errc() || end != id_text.data() + id_text.size()) {
      fail(path, record_line,
           "column '" + header[id_column] + "': '" + id_text + "' is not an integer");
    }
    std::string text;
    for (std::size_t c : text_columns) {
      if (!text.empty() && !fields[c].empty()) text += ' ';
      text += fields[c];
    }
    table.ids.push_back(id);
    table.texts.push_back(std::move(text));
  }
  return table;
}

}  // namespace nowrec::cli
