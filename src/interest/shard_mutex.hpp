// The lock of one shard of an InterestTracker: it waits by trying again for a short while before
// it sleeps.
#pragma once

#include <mutex>

namespace nowrec::interest {

// A shard is held for a few events' updates, a few microseconds. A waiter that sleeps in the
// kernel pays a sleep and a wake-up of about as long again, and wakes late; one that tries again
// for a while gets the shard as soon as it is free. Past the while (a holder descheduled, a
// snapshot copying the shard, a restore holding them all) it sleeps like std::mutex. Meets the
// standard's Lockable.
class ShardMutex {
 public:
  void lock();
  bool try_lock() noexcept { return mutex_.try_lock(); }
  void unlock() noexcept { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

}  // namespace nowrec::interest
