// Text events: a search query is encoded by the SequenceEncoder and captured as interest at once.
#include <doctest/doctest.h>

#include <string_view>

#include "nowrec/interest_tracker.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

TEST_CASE("a text event contributes the encoder's embedding of the text") {
  const auto encoder = nowrec::SequenceEncoder::load(nowrec::test::model_dir(), {.threads = 1});
  nowrec::InterestTracker tracker({.dim = encoder.dim(), .encoder = &encoder});
  tracker.update({.user = "u",
                  .timestamp = 100,
                  .action = "search",
                  .text = std::string_view("space adventure with robots")});
  const std::string_view texts[] = {"space adventure with robots"};
  const auto expected = encoder.encode(texts);
  const auto interest = tracker.short_term_interest("u", 100);
  REQUIRE(interest.has_value());
  for (std::size_t j = 0; j < encoder.dim(); ++j) {
    CHECK((*interest)[j] == doctest::Approx(4.0f * expected[j]).epsilon(1e-5));
  }
  CHECK(tracker.recent_events("u").front().item == -1);
}
