// EventMessage: one InterestEvent as a self-contained JSON message, the form an event takes on
// a stream (a Kafka topic, a log, a queue) between the service that sees the user act and the
// worker whose InterestTracker applies it.
//
//   {"user": "u42", "timestamp": 1700000000, "item": 318, "action": "click",
//    "value": 4.5, "weight": 1.0, "text": "我 喜欢 吃 饼干", "embedding": [0.1, ...]}
//
// "timestamp" (integer seconds) is required; "user" is required unless the stream's message key
// carries it. The rest are optional and mean what InterestEvent's fields mean. Fields nowrec
// does not know are ignored, so producers may carry their own metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/interest_types.hpp"

namespace nowrec {

// An event that owns its strings and vector, as decoded from a message.
struct EventMessage {
  std::string user;
  std::int64_t timestamp = 0;
  std::int64_t item = -1;  // -1: none
  std::string action;      // empty: none
  std::optional<float> value;
  float weight = 1.0f;
  std::optional<std::string> text;
  std::vector<float> embedding;  // empty: none

  // The event as InterestTracker::update takes it, with `sequence`. It points into this
  // message, which must outlive it.
  InterestEvent event(std::uint64_t sequence = 0) const;
};

// Decodes one message. `key` is the stream's message key when it has one: it names the user
// when the message does not, and a message naming another user is refused (the stream would
// then be partitioned by something else than the user). Throws Error(InvalidFormat) for text
// that is not one JSON object, and Error(InvalidArgument) naming the field for a missing user
// or timestamp, a field of the wrong type, a number out of range or not finite, an empty text,
// or invalid UTF-8 in a string.
EventMessage parse_event_message(std::string_view message,
                                 std::optional<std::string_view> key = std::nullopt);

// The message of an event: what a producer writes. Fields at their defaults are left out.
// Throws Error(InvalidArgument) for what parse_event_message would refuse.
std::string format_event_message(const InterestEvent& event);

}  // namespace nowrec
