// Joining interactions to the catalog, the leave-one-out split and windowed popularity.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "replay/popularity.hpp"
#include "replay/split.hpp"
#include "nowrec/error.hpp"

using namespace nowrec::eval::replay;
using nowrec::Interaction;

namespace {

Interaction rating(std::int64_t user, std::int64_t item, std::int64_t time, float value) {
  return {.user = user, .item = item, .timestamp = time, .rating = value};
}

}  // namespace

TEST_CASE("make_replay_data: sorts by (timestamp, user, item) and groups per user") {
  const std::vector<std::int64_t> catalog = {7, 5, 9};
  const ReplayData data = make_replay_data({rating(2, 9, 50, 1.0f),
                                            rating(1, 7, 10, 4.0f),
                                            rating(1, 9, 10, 3.5f),
                                            {.user = 2, .item = 5, .timestamp = 5}},
                                           catalog);
  REQUIRE(data.events.size() == 4);
  CHECK(data.events[0].timestamp == 5);
  CHECK(data.events[1].row == 0);  // user 1, time 10, item 7 before item 9
  CHECK(data.events[2].row == 2);
  CHECK(data.events[0].action == "click");  // no rating
  CHECK(data.events[1].action == "like");   // 4.0
  CHECK(data.events[2].action == "view");   // 3.5
  CHECK(data.users == std::vector<std::int64_t>{1, 2});
  CHECK(data.user_events[0] == std::vector<std::uint32_t>{1, 2});
  CHECK(data.user_events[1] == std::vector<std::uint32_t>{0, 3});
}

TEST_CASE("make_replay_data: an item missing from the catalog is an error naming both files") {
  const std::vector<std::int64_t> catalog = {1, 2};
  try {
    make_replay_data({rating(3, 1, 10, 4.0f), rating(3, 99, 20, 4.0f)}, catalog, "ratings.csv",
                     "movies.csv");
    FAIL("expected an error");
  } catch (const nowrec::Error& error) {
    const std::string message = error.what();
    CHECK(message.find("ratings.csv") != std::string::npos);
    CHECK(message.find("item 99") != std::string::npos);
    CHECK(message.find("movies.csv") != std::string::npos);
  }
  const std::vector<std::int64_t> repeated = {1, 1};
  CHECK_THROWS_AS(make_replay_data({}, repeated), nowrec::Error);
  CHECK_THROWS_AS(make_replay_data({}, {}), nowrec::Error);
}

TEST_CASE("leave_one_out: last is test, second last validation, users under 3 skipped") {
  const std::vector<std::int64_t> catalog = {1, 2, 3, 4};
  const ReplayData data =
      make_replay_data({rating(1, 1, 10, 4.0f), rating(1, 2, 20, 4.0f), rating(1, 3, 30, 4.0f),
                        rating(1, 4, 40, 4.0f), rating(2, 4, 15, 4.0f), rating(2, 3, 25, 4.0f)},
                       catalog);
  const LeaveOneOutSplit split = leave_one_out(data);
  REQUIRE(split.users.size() == 1);
  CHECK(split.users_skipped == 1);
  const UserSplit& user = split.users[0];
  CHECK(user.user == 1);
  REQUIRE(user.train.size() == 2);
  CHECK(data.events[user.train[0]].row == 0);
  CHECK(data.events[user.train[1]].row == 1);
  CHECK(data.events[user.validation].row == 2);
  CHECK(data.events[user.test].row == 3);
  // User 2's events are no training portion: items 3 and 4 stay cold.
  CHECK(split.in_training == std::vector<bool>{true, true, false, false});
}

TEST_CASE("WindowedPopularity: counts [now - window, now), never the present or the future") {
  const std::vector<std::int64_t> catalog = {1, 2};
  const ReplayData data = make_replay_data({rating(1, 1, 100, 4.0f), rating(2, 1, 200, 4.0f),
                                            rating(3, 2, 200, 4.0f), rating(4, 2, 300, 4.0f)},
                                           catalog);
  WindowedPopularity all(data.events, 2, 0);
  CHECK(all.counts_at(100)[0] == 0);  // the event at 100 is not before 100
  CHECK(all.counts_at(200)[0] == 1);
  CHECK(all.counts_at(201)[1] == 1);
  CHECK(all.counts_at(1000)[1] == 2);
  CHECK(all.counts_at(50)[0] == 0);  // back in time: the later events leave again
  WindowedPopularity recent(data.events, 2, 100);
  CHECK(recent.counts_at(300)[0] == 1);  // [200, 300): the event at 200, not the one at 100
  CHECK(recent.counts_at(301)[0] == 0);
  CHECK(recent.counts_at(301)[1] == 1);  // only the event at 300 is within [201, 301)
}

TEST_CASE("WindowedPopularity: any sequence of times matches counting from scratch") {
  std::mt19937 random(7);
  std::vector<Interaction> rows;
  std::vector<std::int64_t> catalog;
  for (std::int64_t item = 0; item < 20; ++item) catalog.push_back(item);
  for (int i = 0; i < 500; ++i) {
    rows.push_back(rating(i % 13, std::int64_t(random() % 20), std::int64_t(random() % 1000), 4));
  }
  const ReplayData data = make_replay_data(rows, catalog);
  for (std::int64_t window : {0, 1, 50, 400}) {
    WindowedPopularity popularity(data.events, 20, window);
    for (int query = 0; query < 200; ++query) {
      const std::int64_t now = std::int64_t(random() % 1100) - 50;
      std::vector<float> expected(20, 0.0f);
      for (const ReplayEvent& event : data.events) {
        if (event.timestamp < now && (window == 0 || event.timestamp >= now - window)) {
          expected[event.row] += 1;
        }
      }
      const auto counts = popularity.counts_at(now);
      REQUIRE(std::vector<float>(counts.begin(), counts.end()) == expected);
    }
  }
}
