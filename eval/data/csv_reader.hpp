// Record-by-record reader for comma-separated files with a header row (RFC 4180 quoting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nowrec::data {

// Reads a whole CSV file at once (the files it is meant for are a few MB) and hands out one
// record at a time. A field may be quoted ("a, b"), with "" for a quote inside, and a quoted
// field may span lines. "\r\n" endings and a UTF-8 byte-order mark are accepted. Blank lines are
// skipped. Every error names the file and the line of the record at fault.
//
// Not thread-safe: one reader per thread.
class CsvReader {
 public:
  // Throws Error(Io) when the file cannot be read, Error(InvalidArgument) when it has no header
  // or is not valid UTF-8 (naming the line and byte).
  explicit CsvReader(std::filesystem::path path);

  // The column of `name` in the header; nullopt when absent.
  std::optional<std::size_t> find_column(std::string_view name) const;
  // The column of `name`; throws Error(InvalidArgument) naming the file when absent.
  std::size_t column(std::string_view name) const;

  // Reads the next record; false at the end of the file. Throws Error(InvalidArgument) for an
  // unterminated quote, text after a closing quote, or a field count other than the header's.
  bool next();
  const std::vector<std::string>& fields() const { return fields_; }
  const std::string& field(std::size_t column) const { return fields_[column]; }

  // The integer in `column` of the current record; throws naming file, line and column.
  std::int64_t integer(std::size_t column) const;
  // The finite number in `column`; throws for text, NaN or infinity.
  float finite_number(std::size_t column) const;

  // Throws Error(InvalidArgument) "file:line: column 'name': message" for the current record.
  [[noreturn]] void fail(std::size_t column, const std::string& message) const;
  // Throws Error(InvalidArgument) "file:line: message" for the current record.
  [[noreturn]] void fail(const std::string& message) const;

  const std::filesystem::path& path() const { return path_; }
  // The line the current record starts on (1 is the header).
  std::size_t line() const { return record_line_; }

 private:
  bool read_record(std::vector<std::string>& fields);
  void require_utf8() const;

  std::filesystem::path path_;
  std::string text_;
  std::size_t position_ = 0;
  std::size_t next_line_ = 1;
  std::size_t record_line_ = 0;
  std::vector<std::string> header_;
  std::vector<std::string> fields_;
};

}  // namespace nowrec::data
