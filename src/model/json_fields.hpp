// Typed reads of JSON configuration fields, with errors that name the file and the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nowrec::json_fields {

// The whole file as bytes. Throws Error(NotFound) when it does not exist, Error(Io) when it
// cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Parses `text` as one JSON document. `label` names the source in errors (usually the file's
// path). Throws Error(InvalidModel).
nlohmann::json parse_document(std::string_view text, const std::string& label);

// Parses `text` as a JSON document whose top level is an object. `label` names the source in
// errors (usually the file's path). Throws Error(InvalidModel).
nlohmann::json parse_object(std::string_view text, const std::string& label);

// Reads fields of one JSON object. Absent fields and explicit nulls both read as "not stated"
// because Hugging Face writes `null` for options left at their default.
//
// Thread-safety: const methods may be called concurrently; the object must outlive the reader.
class FieldReader {
 public:
  // `label` names the file in errors; `prefix` names the enclosing field ("normalizer.").
  FieldReader(const nlohmann::json& object, std::string label, std::string prefix = {});

  // The field's value, or nullptr when absent or null.
  const nlohmann::json* find(std::string_view field) const;

  std::string required_string(std::string_view field) const;
  std::optional<std::string> optional_string(std::string_view field) const;
  int required_positive_int(std::string_view field) const;
  std::optional<int> optional_positive_int(std::string_view field) const;
  std::optional<std::int64_t> optional_non_negative_int(std::string_view field) const;
  std::optional<bool> optional_bool(std::string_view field) const;
  std::optional<double> optional_number(std::string_view field) const;
  // A nested object read with the same file label; nullopt when absent or null.
  std::optional<FieldReader> optional_object(std::string_view field) const;

  // A reader for `value`, a JSON object reached through `field` (e.g. "normalizers[2]").
  FieldReader nested(const nlohmann::json& value, std::string_view field) const;

  // Throws Error(InvalidModel): "<label>: field '<prefix><field>' <rule>".
  [[noreturn]] void fail(std::string_view field, std::string_view rule) const;

  const std::string& label() const noexcept { return label_; }

 private:
  const nlohmann::json* object_;
  std::string label_;
  std::string prefix_;
};

}  // namespace nowrec::json_fields
