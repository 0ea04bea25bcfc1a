// A reader-writer lock under which a waiting writer holds back new readers.
//
// std::shared_mutex is glibc's default pthread_rwlock, which prefers readers: threads that take
// it shared back to back (tracker threads looking up item embeddings) can keep a writer waiting
// for as long as they keep coming. This one is a pthread_rwlock of the writer-preferring kind.
// Like it, it is not recursive: a thread that holds it shared must not take it shared again.
#pragma once

#include <pthread.h>

namespace nowrec::common {

// Meets the standard SharedMutex requirements used here (std::unique_lock, std::shared_lock).
class WriterPreferringMutex {
 public:
  WriterPreferringMutex() noexcept {
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attributes);
    pthread_rwlockattr_destroy(&attributes);
  }
  WriterPreferringMutex(const WriterPreferringMutex&) = delete;
  WriterPreferringMutex& operator=(const WriterPreferringMutex&) = delete;
  ~WriterPreferringMutex() { pthread_rwlock_destroy(&lock_); }

  void lock() noexcept { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() noexcept { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() noexcept { pthread_rwlock_unlock(&lock_); }
  void lock_shared() noexcept { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() noexcept { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() noexcept { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace nowrec::common
