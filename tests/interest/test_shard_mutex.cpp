// ShardMutex: mutual exclusion while waiters try again, and after they give up and sleep.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "interest/shard_mutex.hpp"

namespace nowrec::interest {

TEST_CASE("a shard mutex lets one thread in at a time, short holds and long ones alike") {
  ShardMutex mutex;
  // A plain counter read and written back in two steps: lost updates show any overlap.
  long counter = 0;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  const auto work = [&](int rounds, std::chrono::microseconds hold) {
    for (int r = 0; r < rounds; ++r) {
      const std::lock_guard lock(mutex);
      if (inside.fetch_add(1) != 0) overlapped = true;
      const long seen = counter;
      if (hold.count() > 0) std::this_thread::sleep_for(hold);
      counter = seen + 1;
      inside.fetch_sub(1);
    }
  };
  // Holds of microseconds: waiters mostly get in while trying. Holds of a millisecond outlast
  // the trying, so waiters sleep and must be woken.
  for (const auto hold : {std::chrono::microseconds(0), std::chrono::microseconds(1000)}) {
    CAPTURE(hold.count());
    counter = 0;
    const int rounds = hold.count() == 0 ? 20000 : 20;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(work, rounds, hold);
    for (std::thread& thread : threads) thread.join();
    CHECK_FALSE(overlapped.load());
    CHECK(counter == 4L * rounds);
  }
}

TEST_CASE("a shard mutex that is held cannot be tried, and can once it is released") {
  ShardMutex mutex;
  mutex.lock();
  bool got = true;
  std::thread([&] { got = mutex.try_lock(); }).join();
  CHECK_FALSE(got);
  mutex.unlock();
  std::thread([&] {
    got = mutex.try_lock();
    if (got) mutex.unlock();
  }).join();
  CHECK(got);
}

}  // namespace nowrec::interest
