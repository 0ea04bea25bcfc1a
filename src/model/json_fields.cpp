// Typed reads of JSON configuration fields, with errors that name the file and the field.
#include "model/json_fields.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "nowrec/error.hpp"

namespace nowrec::json_fields {

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code status_error;
  if (!std::filesystem::is_regular_file(path, status_error)) {
    throw Error(ErrorCode::NotFound, path.string() + ": file not found");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::Io, path.string() + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::Io, path.string() + ": read failed");
  return std::move(contents).str();
}

nlohmann::json parse_document(std::string_view text, const std::string& label) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON allows none anywhere.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(ErrorCode::InvalidModel,
                label + ": not valid JSON: NUL byte at offset " + std::to_string(nul));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& error) {
    // The base class, because a number too large for a double (1e999) is out_of_range.
    throw Error(ErrorCode::InvalidModel, label + ": not valid JSON: " + error.what());
  }
}

nlohmann::json parse_object(std::string_view text, const std::string& label) {
  nlohmann::json document = parse_document(text, label);
  if (!document.is_object()) {
    throw Error(ErrorCode::InvalidModel,
                label + ": the top level must be a JSON object, not " + document.type_name());
  }
  return document;
}

FieldReader::FieldReader(const nlohmann::json& object, std::string label, std::string prefix)
    : object_(&object), label_(std::move(label)), prefix_(std::move(prefix)) {}

const nlohmann::json* FieldReader::find(std::string_view field) const {
  if (!object_->is_object()) return nullptr;
  auto it = object_->find(field);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::fail(std::string_view field, std::string_view rule) const {
  throw Error(ErrorCode::InvalidModel,
              label_ + ": field '" + prefix_ + std::string(field) + "' " + std::string(rule));
}

std::string FieldReader::required_string(std::string_view field) const {
  auto value = optional_string(field);
  if (!value) fail(field, "is missing (a string is required)");
  return *value;
}

std::optional<std::string> FieldReader::optional_string(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) fail(field, "must be a string");
  return value->get<std::string>();
}

int FieldReader::required_positive_int(std::string_view field) const {
  auto value = optional_positive_int(field);
  if (!value) fail(field, "is missing (a positive integer is required)");
  return *value;
}

std::optional<int> FieldReader::optional_positive_int(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  // Signed negatives and floats are rejected; unsigned values are range-checked before narrowing.
  if (!value->is_number_unsigned() || value->get<std::uint64_t>() == 0 ||
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT_MAX)) {
    fail(field, "must be a positive integer no larger than " + std::to_string(INT_MAX));
  }
  return static_cast<int>(value->get<std::uint64_t>());
}

std::optional<std::int64_t> FieldReader::optional_non_negative_int(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_unsigned() ||
      value->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    fail(field, "must be a non-negative integer");
  }
  return static_cast<std::int64_t>(value->get<std::uint64_t>());
}

std::optional<bool> FieldReader::optional_bool(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) fail(field, "must be a boolean");
  return value->get<bool>();
}

std::optional<double> FieldReader::optional_number(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) fail(field, "must be a number");
  return value->get<double>();
}

std::optional<FieldReader> FieldReader::optional_object(std::string_view field) const {
  const nlohmann::json* value = find(field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) fail(field, "must be a JSON object");
  return nested(*value, field);
}

FieldReader FieldReader::nested(const nlohmann::json& value, std::string_view field) const {
  return FieldReader(value, label_, prefix_ + std::string(field) + ".");
}

}  // namespace nowrec::json_fields
