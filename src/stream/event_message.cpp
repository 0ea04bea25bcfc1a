// EventMessage: an InterestEvent to and from its JSON message.
#include "nowrec/event_message.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "nowrec/error.hpp"

namespace nowrec {
namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, "event message: " + what);
}

std::string read_string(const nlohmann::json& value, const char* field) {
  if (!value.is_string()) refuse("\"" + std::string(field) + "\" must be a string");
  return value.get<std::string>();
}

std::int64_t read_integer(const nlohmann::json& value, const char* field) {
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      refuse("\"" + std::string(field) + "\" is out of range");
    }
    return static_cast<std::int64_t>(value.get<std::uint64_t>());
  }
  if (!value.is_number_integer()) refuse("\"" + std::string(field) + "\" must be an integer");
  return value.get<std::int64_t>();
}

float read_float(const nlohmann::json& value, const std::string& field) {
  if (!value.is_number()) refuse("\"" + field + "\" must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number) || std::fabs(number) > std::numeric_limits<float>::max()) {
    refuse("\"" + field + "\" is not a finite 32-bit float");
  }
  return static_cast<float>(number);
}

bool is_finite_float(float value) { return std::isfinite(value); }

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

EventMessage parse_event_message(std::string_view message, std::optional<std::string_view> key) {
  // Without exceptions: a parse error gives a discarded value. The parser also refuses strings
  // that are not valid UTF-8.
  const nlohmann::json root = nlohmann::json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    throw Error(ErrorCode::InvalidFormat, "event message: not valid JSON (or not valid UTF-8)");
  }
  if (!root.is_object()) throw Error(ErrorCode::InvalidFormat, "event message: not a JSON object");

  EventMessage out;
  if (const auto user = root.find("user"); user != root.end() && !user->is_null()) {
    out.user = read_string(*user, "user");
    if (key && *key != out.user) {
      refuse("\"user\" '" + out.user + "' differs from the message key '" + std::string(*key) +
             "' (the stream must be keyed by user id)");
    }
  } else if (key) {
    out.user = std::string(*key);
  }
  if (out.user.empty()) refuse("no user: neither a \"user\" field nor a message key");

  const auto timestamp = root.find("timestamp");
  if (timestamp == root.end() || timestamp->is_null()) refuse("\"timestamp\" is missing");
  out.timestamp = read_integer(*timestamp, "timestamp");

  if (const auto item = root.find("item"); item != root.end() && !item->is_null()) {
    out.item = read_integer(*item, "item");
    if (out.item < 0) refuse("\"item\" must not be negative");
  }
  if (const auto action = root.find("action"); action != root.end() && !action->is_null()) {
    out.action = read_string(*action, "action");
  }
  if (const auto value = root.find("value"); value != root.end() && !value->is_null()) {
    out.value = read_float(*value, "value");
  }
  if (const auto weight = root.find("weight"); weight != root.end() && !weight->is_null()) {
    out.weight = read_float(*weight, "weight");
  }
  if (const auto text = root.find("text"); text != root.end() && !text->is_null()) {
    out.text = read_string(*text, "text");
    if (out.text->empty()) refuse("\"text\" is empty");
  }
  if (const auto embedding = root.find("embedding");
      embedding != root.end() && !embedding->is_null()) {
    if (!embedding->is_array()) refuse("\"embedding\" must be an array of numbers");
    out.embedding.reserve(embedding->size());
    for (std::size_t i = 0; i < embedding->size(); ++i) {
      out.embedding.push_back(read_float((*embedding)[i], "embedding[" + std::to_string(i) + "]"));
    }
  }
  return out;
}

std::string format_event_message(const InterestEvent& event) {
  if (event.user.empty()) refuse("the event has no user");
  if (!is_finite_float(event.weight)) refuse("\"weight\" is not finite");
  if (event.value && !is_finite_float(*event.value)) refuse("\"value\" is not finite");
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
      if (!is_finite_float(x)) refuse("the embedding holds a value that is not finite");
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
