// libFuzzer target: event messages as they arrive from a stream, and the tracker applying them.
//
// The first byte splits the input into a message key and the message. A decoded message must
// format back to a message that decodes to the same event; refusing input must be a
// nowrec::Error, in the decoder and in InterestTracker::update.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "nowrec/error.hpp"
#include "nowrec/event_message.hpp"
#include "nowrec/interest_tracker.hpp"

namespace {

bool same(const nowrec::EventMessage& a, const nowrec::EventMessage& b) {
  return a.user == b.user && a.timestamp == b.timestamp && a.item == b.item &&
         a.action == b.action && a.value == b.value && a.weight == b.weight && a.text == b.text &&
         a.embedding == b.embedding;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t key_size =
      data[0] % 16 == 0 ? 0 : std::min<std::size_t>(data[0] % 16, rest.size());
  const std::optional<std::string_view> key =
      key_size == 0 ? std::nullopt : std::optional(rest.substr(0, key_size));
  const std::string_view message = rest.substr(key_size);

  static nowrec::InterestTracker tracker({.dim = 4, .shards = 2, .recent_window = 4});
  try {
    const nowrec::EventMessage decoded = nowrec::parse_event_message(message, key);
    const nowrec::EventMessage again =
        nowrec::parse_event_message(nowrec::format_event_message(decoded.event()));
    if (!same(decoded, again)) std::abort();
    tracker.update(decoded.event());
  } catch (const nowrec::Error&) {
  }
  return 0;
}
