// EventMessage: an InterestEvent to and from its JSON message.
#include "nowrec/event_message.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "nowrec/error.hpp"

namespace nowrec {
namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, "event message: " + what);
}

// Whether a number (from JSON, or already a float) is one a 32-bit float holds finitely.
bool finite_float(double value) {
  return std::isfinite(value) && std::fabs(value) <= std::numeric_limits<float>::max();
}

}  // namespace

InterestEvent EventMessage::event(std::uint64_t sequence) const {
  InterestEvent out;
  out.user = user;
  out.item_embedding = embedding;
  out.weight = weight;
  out.timestamp = timestamp;
  out.item = item;
  out.action = action;
  out.value = value;
  if (text) out.text = std::string_view(*text);
  out.sequence = sequence;
  return out;
}

namespace {

// Decodes the message as the JSON parser walks it (SAX), straight into an EventMessage: no
// document is built, which makes decoding several times faster than parsing into a json value
// first. Fields nowrec does not know are skipped whole, nested or not. A field given twice takes
// its last value.
class MessageReader {
 public:
  using number_integer_t = nlohmann::json::number_integer_t;
  using number_unsigned_t = nlohmann::json::number_unsigned_t;
  using number_float_t = nlohmann::json::number_float_t;
  using string_t = nlohmann::json::string_t;
  using binary_t = nlohmann::json::binary_t;

  EventMessage message;
  bool has_timestamp = false;
  std::optional<std::string> user;
  std::exception_ptr failure;  // why the reader stopped the parse, if it did

  bool null() {
    if (in_embedding_) return not_a_number();
    if (!value_starts()) return true;
    switch (field_) {
      case Field::User:
        user.reset();
        break;
      case Field::Timestamp:
        has_timestamp = false;
        break;
      case Field::Item:
        message.item = -1;
        break;
      case Field::Action:
        message.action.clear();
        break;
      case Field::Value:
        message.value.reset();
        break;
      case Field::Weight:
        message.weight = 1.0f;
        break;
      case Field::Text:
        message.text.reset();
        break;
      case Field::Embedding:
        message.embedding.clear();
        break;
      case Field::Unknown:
        break;
    }
    return true;
  }
  bool boolean(bool) {
    if (in_embedding_) return not_a_number();
    return value_starts() ? wrong_type() : true;
  }
  bool number_integer(number_integer_t value) {
    return number(static_cast<double>(value), value, true);
  }
  bool number_unsigned(number_unsigned_t value) {
    if (value <= static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
      return number(static_cast<double>(value), static_cast<std::int64_t>(value), true);
    }
    if (in_embedding_) return embedding_value(static_cast<double>(value));
    if (field_ == Field::Timestamp || field_ == Field::Item) {
      if (!value_starts()) return true;
      std::string what = "\"";
      return fail(what.append(name()).append("\" is out of range"));
    }
    // Beyond int64 as a float: a weight or value gets its range check, any other field its
    // type's error.
    return number(static_cast<double>(value), 0, false);
  }
  bool number_float(number_float_t value, const string_t&) { return number(value, 0, false); }
  bool string(string_t& value) {
    if (in_embedding_) return not_a_number();
    if (!value_starts()) return true;
    switch (field_) {
      case Field::User:
        user = std::move(value);
        return true;
      case Field::Action:
        message.action = std::move(value);
        return true;
      case Field::Text:
        if (value.empty()) return fail("\"text\" is empty");
        message.text = std::move(value);
        return true;
      case Field::Unknown:
        return true;
      default:
        return wrong_type();
    }
  }
  bool binary(binary_t&) { return value_starts() ? wrong_type() : true; }
  bool start_object(std::size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    if (in_embedding_) return fail("\"embedding\" must be an array of numbers");
    if (value_starts() && field_ != Field::Unknown) return wrong_type();
    ++skipped_depth_;
    return true;
  }
  bool end_object() {
    if (skipped_depth_ > 0) {
      --skipped_depth_;
    } else {
      depth_ = 0;
    }
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 0) return fail_format("not a JSON object");
    if (in_embedding_) return fail("\"embedding\" must be an array of numbers");
    if (value_starts()) {
      if (field_ == Field::Embedding) {
        message.embedding.clear();
        in_embedding_ = true;
        return true;
      }
      if (field_ != Field::Unknown) return wrong_type();
    }
    ++skipped_depth_;
    return true;
  }
  bool end_array() {
    if (in_embedding_) {
      in_embedding_ = false;
    } else {
      --skipped_depth_;
    }
    return true;
  }
  bool key(string_t& key) {
    if (skipped_depth_ > 0) return true;
    field_ = key == "user"        ? Field::User
             : key == "timestamp" ? Field::Timestamp
             : key == "item"      ? Field::Item
             : key == "action"    ? Field::Action
             : key == "value"     ? Field::Value
             : key == "weight"    ? Field::Weight
             : key == "text"      ? Field::Text
             : key == "embedding" ? Field::Embedding
                                  : Field::Unknown;
    expecting_value_ = true;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) {
    return fail_format("not valid JSON (or not valid UTF-8)");
  }

 private:
  enum class Field { User, Timestamp, Item, Action, Value, Weight, Text, Embedding, Unknown };

  // True when a scalar is the value of one of the root object's fields (not inside something
  // skipped or an array), and consumes that expectation.
  bool value_starts() {
    if (depth_ == 0) {
      fail_format("not a JSON object");
      return false;
    }
    if (skipped_depth_ > 0 || in_embedding_ || !expecting_value_) return false;
    expecting_value_ = false;
    return true;
  }

  const char* name() const {
    switch (field_) {
      case Field::User:
        return "user";
      case Field::Timestamp:
        return "timestamp";
      case Field::Item:
        return "item";
      case Field::Action:
        return "action";
      case Field::Value:
        return "value";
      case Field::Weight:
        return "weight";
      case Field::Text:
        return "text";
      case Field::Embedding:
        return "embedding";
      case Field::Unknown:
        break;
    }
    return "";
  }

  bool not_a_number() {
    return fail("\"embedding[" + std::to_string(message.embedding.size()) + "]\" must be a number");
  }

  bool wrong_type() {
    const char* expected = nullptr;
    switch (field_) {
      case Field::User:
      case Field::Action:
      case Field::Text:
        expected = "a string";
        break;
      case Field::Timestamp:
      case Field::Item:
        expected = "an integer";
        break;
      case Field::Value:
      case Field::Weight:
        expected = "a number";
        break;
      case Field::Embedding:
        expected = "an array of numbers";
        break;
      case Field::Unknown:
        return true;
    }
    std::string what = "\"";
    what.append(name()).append("\" must be ").append(expected);
    return fail(what);
  }

  bool embedding_value(double value) {
    if (!finite_float(value)) {
      return fail("\"embedding[" + std::to_string(message.embedding.size()) +
                  "]\" is not a finite 32-bit float");
    }
    message.embedding.push_back(static_cast<float>(value));
    return true;
  }

  bool number(double value, std::int64_t integer, bool is_integer) {
    if (in_embedding_) return embedding_value(value);
    if (!value_starts()) return true;
    switch (field_) {
      case Field::Timestamp:
        if (!is_integer) return wrong_type();
        message.timestamp = integer;
        has_timestamp = true;
        return true;
      case Field::Item:
        if (!is_integer) return wrong_type();
        if (integer < 0) return fail("\"item\" must not be negative");
        message.item = integer;
        return true;
      case Field::Value:
      case Field::Weight:
        if (!finite_float(value)) {
          std::string what = "\"";
          return fail(what.append(name()).append("\" is not a finite 32-bit float"));
        }
        if (field_ == Field::Value) {
          message.value = static_cast<float>(value);
        } else {
          message.weight = static_cast<float>(value);
        }
        return true;
      case Field::Unknown:
        return true;
      default:
        return wrong_type();
    }
  }

  bool fail(const std::string& what) {
    if (!failure)
      failure =
          std::make_exception_ptr(Error(ErrorCode::InvalidArgument, "event message: " + what));
    return false;
  }
  bool fail_format(const std::string& what) {
    if (!failure)
      failure = std::make_exception_ptr(Error(ErrorCode::InvalidFormat, "event message: " + what));
    return false;
  }

  int depth_ = 0;          // 1 inside the root object
  int skipped_depth_ = 0;  // objects and arrays entered inside an unknown field
  bool in_embedding_ = false;
  bool expecting_value_ = false;
  Field field_ = Field::Unknown;
};

}  // namespace

EventMessage parse_event_message(std::string_view message, std::optional<std::string_view> key) {
  MessageReader reader;
  // The parser also refuses strings that are not valid UTF-8.
  if (!nlohmann::json::sax_parse(message, &reader) || reader.failure) {
    if (reader.failure) std::rethrow_exception(reader.failure);
    throw Error(ErrorCode::InvalidFormat, "event message: not valid JSON (or not valid UTF-8)");
  }
  EventMessage out = std::move(reader.message);
  if (reader.user) {
    out.user = std::move(*reader.user);
    if (key && *key != out.user) {
      refuse("\"user\" '" + out.user + "' differs from the message key '" + std::string(*key) +
             "' (the stream must be keyed by user id)");
    }
  } else if (key) {
    out.user = std::string(*key);
  }
  if (out.user.empty()) refuse("no user: neither a \"user\" field nor a message key");
  if (!reader.has_timestamp) refuse("\"timestamp\" is missing");
  return out;
}

std::string format_event_message(const InterestEvent& event) {
  if (event.user.empty()) refuse("the event has no user");
  if (!finite_float(event.weight)) refuse("\"weight\" is not finite");
  if (event.value && !finite_float(*event.value)) refuse("\"value\" is not finite");
  if (event.text && event.text->empty()) refuse("\"text\" is empty");
  if (event.item < -1) refuse("\"item\" must not be negative");
  nlohmann::json out = nlohmann::json::object();
  out["user"] = event.user;
  out["timestamp"] = event.timestamp;
  if (event.item >= 0) out["item"] = event.item;
  if (!event.action.empty()) out["action"] = event.action;
  if (event.value) out["value"] = *event.value;
  if (event.weight != 1.0f) out["weight"] = event.weight;
  if (event.text) out["text"] = *event.text;
  if (!event.item_embedding.empty()) {
    nlohmann::json embedding = nlohmann::json::array();
    for (const float x : event.item_embedding) {
      if (!finite_float(x)) refuse("the embedding holds a value that is not finite");
      embedding.push_back(x);
    }
    out["embedding"] = std::move(embedding);
  }
  try {
    return out.dump();
  } catch (const nlohmann::json::type_error&) {
    refuse("a string of the event is not valid UTF-8");
  }
}

}  // namespace nowrec
