// Keyed hashing of user ids (InterestTrackerOptions::user_id_key) with libsodium's SipHash-2-4.
#include <sodium.h>

#include <cstring>

#include "interest/tracker_impl.hpp"

namespace nowrec::interest {
namespace {

static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES == 16);

void keyed_hash(const std::string& key, std::string_view text, unsigned char* out) {
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                   reinterpret_cast<const unsigned char*>(key.data()));
}

}  // namespace

StoredUserKey::StoredUserKey(const InterestTrackerOptions& options, std::string_view user) {
  if (options.user_id_key.empty()) {
    user_ = user;
  } else {
    keyed_hash(options.user_id_key, user, reinterpret_cast<unsigned char*>(keyed_hash_.data()));
    keyed_ = true;
  }
  hash_ = user_hash(view());
}

std::uint64_t user_key_check(const InterestTrackerOptions& options) {
  if (options.user_id_key.empty()) return 0;
  unsigned char out[crypto_shorthash_BYTES];
  keyed_hash(options.user_id_key, "nowrec user id key check", out);
  std::uint64_t check = 0;
  std::memcpy(&check, out, sizeof(check));
  return check | 1;  // never 0, the value of "no key"
}

}  // namespace nowrec::interest
