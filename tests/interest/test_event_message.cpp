// EventMessage: events to JSON messages and back, and the messages refused.
#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/event_message.hpp"

namespace nowrec {

TEST_CASE("an event survives its message exactly") {
  const std::vector<float> embedding = {0.1f, -2.5e-7f, 3.4028235e38f, 1.0f / 3.0f};
  InterestEvent event{
      .user = "\xe7\x94\xa8\xe6\x88\xb7-7",
      .item_embedding = embedding,
      .weight = 0.3f,
      .timestamp = -12,
      .item = 9007199254740993,  // above 2^53: must stay an integer
      .action = "like",
      .value = 4.5f,
      .text = "\xe6\x88\x91 \xe5\x96\x9c\xe6\xac\xa2 \xe5\x90\x83 \xe9\xa5\xbc\xe5\xb9\xb2"};
  const EventMessage decoded = parse_event_message(format_event_message(event));
  CHECK(decoded.user == event.user);
  CHECK(decoded.embedding == embedding);
  CHECK(decoded.weight == event.weight);
  CHECK(decoded.timestamp == -12);
  CHECK(decoded.item == 9007199254740993);
  CHECK(decoded.action == "like");
  CHECK(decoded.value == 4.5f);
  CHECK(decoded.text == std::string(*event.text));

  const InterestEvent back = decoded.event(77);
  CHECK(back.user == event.user);
  CHECK(back.sequence == 77);
  CHECK(back.item_embedding.size() == embedding.size());
  CHECK(*back.text == *event.text);
}

TEST_CASE("a minimal message leaves the event's defaults, and the key names its user") {
  const std::string message = format_event_message({.user = "u1", .timestamp = 5, .item = 3});
  CHECK(message == R"({"item":3,"timestamp":5,"user":"u1"})");
  const EventMessage keyed =
      parse_event_message(R"({"timestamp": 5, "item": 3, "extra": [1]})", std::string_view("u9"));
  CHECK(keyed.user == "u9");
  CHECK(keyed.weight == 1.0f);
  CHECK_FALSE(keyed.value.has_value());
  CHECK_FALSE(keyed.text.has_value());
  CHECK(keyed.action.empty());
  CHECK(keyed.embedding.empty());
  CHECK(parse_event_message(R"({"user": "u9", "timestamp": 5, "item": null})", "u9").item == -1);
  // A weight beyond int64 is still the number it says, not left at its default.
  CHECK(parse_event_message(R"({"user": "u9", "timestamp": 5, "weight": 18446744073709551615})")
            .weight == doctest::Approx(1.8446744e19f));
}

TEST_CASE("malformed messages are refused with the field named") {
  struct Case {
    std::string message;
    ErrorCode code;
    std::string says;
  };
  const Case cases[] = {
      {"", ErrorCode::InvalidFormat, "not valid JSON"},
      {"{\"user\": \"a\", \"timestamp\": 1", ErrorCode::InvalidFormat, "not valid JSON"},
      {"[1, 2]", ErrorCode::InvalidFormat, "not a JSON object"},
      {"{\"user\": \"\xff\", \"timestamp\": 1}", ErrorCode::InvalidFormat, "UTF-8"},
      {R"({"timestamp": 1, "item": 2})", ErrorCode::InvalidArgument, "no user"},
      {R"({"user": "", "timestamp": 1})", ErrorCode::InvalidArgument, "no user"},
      {R"({"user": 7, "timestamp": 1})", ErrorCode::InvalidArgument, "\"user\" must be a string"},
      {R"({"user": "a"})", ErrorCode::InvalidArgument, "\"timestamp\" is missing"},
      {R"({"user": "a", "timestamp": 1.5})", ErrorCode::InvalidArgument, "\"timestamp\" must be"},
      {R"({"user": "a", "timestamp": 18446744073709551615})", ErrorCode::InvalidArgument,
       "out of range"},
      {R"({"user": "a", "timestamp": 1, "item": 18446744073709551615})", ErrorCode::InvalidArgument,
       "\"item\" is out of range"},
      {R"({"user": 18446744073709551615, "timestamp": 1})", ErrorCode::InvalidArgument,
       "\"user\" must be a string"},
      {R"({"user": "a", "timestamp": 1, "action": 18446744073709551615})",
       ErrorCode::InvalidArgument, "\"action\""},
      {R"({"user": "a", "timestamp": 1, "item": -4})", ErrorCode::InvalidArgument, "\"item\""},
      {R"({"user": "a", "timestamp": 1, "item": "4"})", ErrorCode::InvalidArgument, "\"item\""},
      {R"({"user": "a", "timestamp": 1, "value": 1e39})", ErrorCode::InvalidArgument,
       "\"value\" is not a finite"},
      {R"({"user": "a", "timestamp": 1, "weight": "x"})", ErrorCode::InvalidArgument,
       "\"weight\" must be a number"},
      {R"({"user": "a", "timestamp": 1, "text": ""})", ErrorCode::InvalidArgument,
       "\"text\" is empty"},
      {R"({"user": "a", "timestamp": 1, "action": 3})", ErrorCode::InvalidArgument, "\"action\""},
      {R"({"user": "a", "timestamp": 1, "embedding": {"0": 1}})", ErrorCode::InvalidArgument,
       "\"embedding\" must be an array"},
      {R"({"user": "a", "timestamp": 1, "embedding": [1, "2"]})", ErrorCode::InvalidArgument,
       "embedding[1]"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    try {
      parse_event_message(c.message);
      FAIL("accepted");
    } catch (const Error& error) {
      CHECK(error.code() == c.code);
      CHECK(std::string(error.what()).find(c.says) != std::string::npos);
    }
  }
  // A message of another user than its key: the stream is not keyed by user.
  CHECK_THROWS_WITH_AS(parse_event_message(R"({"user": "a", "timestamp": 1})", "b"),
                       doctest::Contains("differs from the message key"), Error);
}

TEST_CASE("format_event_message refuses what could not be read back") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> bad = {1.0f, nan};
  CHECK_THROWS_AS(format_event_message({.timestamp = 1}), Error);
  CHECK_THROWS_AS(format_event_message({.user = "u", .weight = nan}), Error);
  CHECK_THROWS_AS(format_event_message({.user = "u", .item_embedding = bad}), Error);
  CHECK_THROWS_AS(format_event_message({.user = "u", .text = ""}), Error);
  CHECK_THROWS_AS(format_event_message({.user = "\xc3"}), Error);
}

}  // namespace nowrec
