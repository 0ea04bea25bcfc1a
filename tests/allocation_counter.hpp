// Counts the allocations of a piece of work, for tests that check a hot path allocates nothing.
// Only in test binaries linked with allocation_counter.cpp, which replaces the global operator new.
#pragma once

#include <cstddef>
#include <functional>

namespace nowrec::test {

// The operator new calls `work` makes, on any thread, while it runs.
std::size_t allocations_of(const std::function<void()>& work);

}  // namespace nowrec::test
