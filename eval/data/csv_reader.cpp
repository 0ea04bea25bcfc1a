// CsvReader: quoted fields, multi-line records, numbers checked with file:line in every error.
#include "data/csv_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "nowrec/error.hpp"
#include "tokenizer/utf8.hpp"

namespace nowrec::data {

CsvReader::CsvReader(std::filesystem::path path) : path_(std::move(path)) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, path_.string() + ": cannot open the file for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::Io, path_.string() + ": read failed");
  text_ = std::move(bytes).str();
  require_utf8();
  if (text_.starts_with("\xEF\xBB\xBF")) position_ = 3;
  if (!read_record(header_)) {
    throw Error(ErrorCode::InvalidArgument, path_.string() + ": empty file, expected a header row");
  }
}

void CsvReader::require_utf8() const {
  // Checked for the whole file at once: titles, tags and ids are handed on as std::string, and
  // a caller (the Python binding among them) must not meet invalid bytes later, far from here.
  // The validator is the tokenizer's, so the library and its readers agree on what is UTF-8.
  const std::size_t at = detail::first_invalid_utf8(text_);
  if (at == text_.size()) return;
  const std::string_view before(text_.data(), at);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t newline = before.rfind('\n');
  const std::size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  throw Error(ErrorCode::InvalidArgument, path_.string() + ":" + std::to_string(line) + ": byte " +
                                              std::to_string(at - line_start + 1) +
                                              " of the line is not valid UTF-8");
}

std::optional<std::size_t> CsvReader::find_column(std::string_view name) const {
  const auto found = std::find(header_.begin(), header_.end(), name);
  if (found == header_.end()) return std::nullopt;
  return static_cast<std::size_t>(found - header_.begin());
}

std::size_t CsvReader::column(std::string_view name) const {
  if (const auto found = find_column(name)) return *found;
  std::string columns;
  for (const std::string& column : header_) columns += (columns.empty() ? "" : ",") + column;
  throw Error(ErrorCode::InvalidArgument, path_.string() + ":1: the header has no column '" +
                                              std::string(name) + "' (it has " + columns + ")");
}

bool CsvReader::next() {
  if (!read_record(fields_)) return false;
  if (fields_.size() != header_.size()) {
    fail("the record has " + std::to_string(fields_.size()) + " fields, the header has " +
         std::to_string(header_.size()));
  }
  return true;
}

bool CsvReader::read_record(std::vector<std::string>& fields) {
  // Blank lines between records carry no data; skip them but keep counting lines.
  while (position_ < text_.size() && (text_[position_] == '\n' || text_[position_] == '\r')) {
    if (text_[position_] == '\n') ++next_line_;
    ++position_;
  }
  if (position_ >= text_.size()) return false;
  record_line_ = next_line_;
  fields.assign(1, std::string());
  enum class State { FieldStart, Plain, Quoted, AfterQuote } state = State::FieldStart;
  while (position_ < text_.size()) {
    const char c = text_[position_++];
    if (state == State::Quoted) {
      if (c == '"') {
        if (position_ < text_.size() && text_[position_] == '"') {
          fields.back() += '"';
          ++position_;
        } else {
          state = State::AfterQuote;
        }
      } else {
        if (c == '\n') ++next_line_;
        fields.back() += c;
      }
      continue;
    }
    if (c == '\n' || (c == '\r' && (position_ == text_.size() || text_[position_] == '\n'))) {
      if (c == '\r') ++position_;
      ++next_line_;
      return true;
    }
    if (c == ',') {
      fields.emplace_back();
      state = State::FieldStart;
    } else if (state == State::AfterQuote) {
      fail("text after the closing quote of field " + std::to_string(fields.size()));
    } else if (c == '"' && state == State::FieldStart) {
      state = State::Quoted;
    } else {
      fields.back() += c;
      state = State::Plain;
    }
  }
  if (state == State::Quoted) fail("a quoted field is not closed before the end of the file");
  return true;
}

std::int64_t CsvReader::integer(std::size_t column) const {
  const std::string& text = fields_[column];
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    fail(column, "'" + text + "' is not an integer");
  }
  return value;
}

float CsvReader::finite_number(std::size_t column) const {
  const std::string& text = fields_[column];
  float value = 0.0f;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    fail(column, "'" + text + "' is not a number");
  }
  if (!std::isfinite(value)) fail(column, "'" + text + "' is not a finite number");
  return value;
}

void CsvReader::fail(std::size_t column, const std::string& message) const {
  const std::string name = column < header_.size() ? header_[column] : std::to_string(column + 1);
  fail("column '" + name + "': " + message);
}

void CsvReader::fail(const std::string& message) const {
  throw Error(ErrorCode::InvalidArgument,
              path_.string() + ":" + std::to_string(record_line_) + ": " + message);
}

}  // namespace nowrec::data
