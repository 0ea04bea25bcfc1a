// Whether this build runs LeakSanitizer (it comes with AddressSanitizer under GCC and Clang), and
// its interface when it does. Memory that holds the only pointers to heap allocations but is not
// itself from the heap (a mapped slab) must be registered as a root region, or a leak check run
// while it is in use reports those allocations as leaked.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define NOWREC_LEAK_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOWREC_LEAK_SANITIZER 1
#endif
#endif

#ifdef NOWREC_LEAK_SANITIZER
#include <sanitizer/lsan_interface.h>
#endif
