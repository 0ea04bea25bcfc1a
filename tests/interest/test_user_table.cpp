// UserTable against std::unordered_map under random inserts and erases, with colliding hashes.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "interest/user_table.hpp"
#include "nowrec/error.hpp"

namespace nowrec::interest {

TEST_CASE("the user table finds, inserts and erases as a map does, through growth and collisions") {
  std::mt19937 rng(5);
  for (const bool colliding : {false, true}) {
    CAPTURE(colliding);
    // Colliding: only 64 distinct hashes, so probe runs are long and erases shift them.
    const auto hash_of = [&](const std::string& key) {
      return colliding ? user_hash(key) % 64 * 0x100000001ull : user_hash(key);
    };
    StateBlockPool entries(sizeof(UserEntry), 0);
    UserTable table(entries);
    std::unordered_map<std::string, std::int64_t> reference;
    for (int step = 0; step < 40000; ++step) {
      const std::string key = "u" + std::to_string(rng() % 3000);
      const std::uint64_t hash = hash_of(key);
      UserEntry* found = table.find(key, hash);
      const auto expected = reference.find(key);
      REQUIRE((found != nullptr) == (expected != reference.end()));
      if (found) {
        CHECK(found->first == key);
        CHECK(found->second.first_timestamp == expected->second);
        if (rng() % 2) {
          table.erase(found, hash);
          reference.erase(expected);
        }
      } else {
        UserState state;
        state.first_timestamp = step;
        UserEntry* inserted = table.insert(key, std::move(state), hash);
        CHECK(inserted->first == key);
        reference.emplace(key, step);
      }
      REQUIRE(table.size() == reference.size());
    }
    std::size_t visited = 0;
    table.for_each([&](UserEntry& entry) {
      ++visited;
      CHECK(reference.at(entry.first) == entry.second.first_timestamp);
    });
    CHECK(visited == reference.size());
    UserTable moved = std::move(table);
    CHECK(moved.size() == reference.size());
    CHECK(table.size() == 0);
    CHECK(table.find("u1", hash_of("u1")) == nullptr);
  }
}

}  // namespace nowrec::interest

namespace nowrec::interest {

TEST_CASE("a reserved user table takes that many users without growing") {
  StateBlockPool entries(sizeof(UserEntry), 0);
  UserTable table(entries);
  table.reserve(1000);
  const std::size_t slot_bytes = table.slot_bytes();
  CHECK(slot_bytes >= 1000 * 16 * 4 / 3);
  for (int u = 0; u < 1000; ++u) {
    const std::string key = "user-" + std::to_string(u);
    table.insert(key, UserState{}, user_hash(key));
  }
  CHECK(table.slot_bytes() == slot_bytes);
  CHECK(table.find("user-999", user_hash("user-999")) != nullptr);
  table.reserve(10);  // never shrinks
  CHECK(table.slot_bytes() == slot_bytes);
}

}  // namespace nowrec::interest

namespace nowrec::interest {

TEST_CASE("tables on two pools keep their own pools through a swap and a move") {
  StateBlockPool first_pool(sizeof(UserEntry), 0), second_pool(sizeof(UserEntry), 0);
  // Each pool maps a slab on its first allocation; the free counts below are against those.
  {
    UserTable first(first_pool), second(second_pool);
    const auto add = [](UserTable& table, const std::string& prefix, int users) {
      for (int u = 0; u < users; ++u) {
        const std::string key = prefix + std::to_string(u);
        table.insert(key, UserState{}, user_hash(key));
      }
    };
    add(first, "a", 30);
    add(second, "b", 20);
    const std::size_t first_free = first_pool.free_blocks();
    const std::size_t second_free = second_pool.free_blocks();
    first.swap(second);
    // `first` now holds the 20 users of the second pool, and new entries come from that pool.
    add(first, "c", 5);
    CHECK(second_pool.free_blocks() == second_free - 5);
    CHECK(first_pool.free_blocks() == first_free);
    // Erasing hands each entry back to the pool it came from.
    first.erase(first.find("b3", user_hash("b3")), user_hash("b3"));
    second.erase(second.find("a3", user_hash("a3")), user_hash("a3"));
    CHECK(second_pool.free_blocks() == second_free - 4);
    CHECK(first_pool.free_blocks() == first_free + 1);
    UserTable moved = std::move(second);
    CHECK(moved.size() == 29);
    add(moved, "d", 2);
    CHECK(first_pool.free_blocks() == first_free - 1);
  }
  // Every entry went home when the tables ended.
  CHECK(first_pool.free_blocks() * first_pool.stride() == first_pool.mapped_bytes());
  CHECK(second_pool.free_blocks() * second_pool.stride() == second_pool.mapped_bytes());
}

TEST_CASE("a table without a pool refuses an insert and stays empty") {
  UserTable table;
  try {
    table.insert("user", UserState{}, user_hash("user"));
    FAIL("insert did not throw");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Internal);
  }
  CHECK(table.size() == 0);
  CHECK(table.find("user", user_hash("user")) == nullptr);
}

}  // namespace nowrec::interest
