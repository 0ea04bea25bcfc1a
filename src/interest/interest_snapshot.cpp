// InterestTracker::snapshot and restore: users serialised per shard into checksummed blocks.
//
// Blocks: one Header (format version, dtype, dim, max_interests, recent_window, watermark, from
// version 2 the user id key check: 0 for raw ids, else user_key_check(), and from version 3 the
// action table's names in order: u32 count, then per action u32 size and the name), then
// Users blocks (u64 count, then per user: u32 key size, key, the state's scalars and its raw
// block), then one End (u64 users, u64 Users blocks). A file without its End is truncated.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "interest/snapshot_bytes.hpp"
#include "interest/snapshot_file.hpp"
#include "interest/tracker_impl.hpp"
#include "nowrec/error.hpp"

namespace nowrec {
namespace {

using interest::ByteReader;
using interest::ByteWriter;
using interest::UserState;

constexpr std::uint32_t kFormatVersion = 3;
enum BlockKind : std::uint32_t { kHeader = 1, kUsers = 2, kEnd = 3 };

// Users per block, so that a block stays a few MB however large a shard grows.
constexpr std::size_t kUsersPerBlock = 256;

void write_user(ByteWriter& out, const interest::UserEntry& entry,
                const interest::StateLayout& layout) {
  const UserState& s = entry.second;
  out.put(static_cast<std::uint32_t>(entry.first.size()));
  out.put_bytes(entry.first.data(), entry.first.size());
  out.put(s.first_timestamp);
  out.put(s.last_timestamp);
  out.put(s.last_sequence);
  out.put(s.events);
  out.put(s.scale);
  out.put(s.weight);
  out.put(s.window_start);
  out.put(s.window_size);
  out.put(s.clusters);
  out.put_bytes(s.block.get(), layout.block_bytes);
}

bool all_finite(const float* values, std::size_t n) {
  return std::all_of(values, values + n, [](float x) { return std::isfinite(x); });
}

}  // namespace

void InterestTracker::snapshot(const std::filesystem::path& path, std::uint64_t watermark) const {
  const auto& layout = impl_->layout;
  interest::SnapshotWriter file(path);
  std::vector<std::byte> payload;
  {
    ByteWriter out(payload);
    out.put(kFormatVersion);
    out.put(static_cast<std::uint32_t>(layout.dtype));
    out.put(static_cast<std::uint64_t>(layout.dim));
    out.put(static_cast<std::uint64_t>(layout.max_interests));
    out.put(static_cast<std::uint64_t>(layout.window));
    out.put(watermark);
    out.put(interest::user_key_check(impl_->options));
    // The users' windows name actions by their place in this table.
    out.put(static_cast<std::uint32_t>(impl_->options.actions.size()));
    for (const ActionWeight& action : impl_->options.actions) {
      out.put(static_cast<std::uint32_t>(action.name.size()));
      out.put_bytes(action.name.data(), action.name.size());
    }
  }
  file.write_block(kHeader, payload);

  std::uint64_t users = 0;
  std::uint64_t user_blocks = 0;
  // A shard's blocks are laid out whole in shard_bytes (count first, then users), so each is
  // written from where it lies; block_starts marks where each begins.
  std::vector<std::byte> shard_bytes;
  std::vector<std::size_t> block_starts;
  for (const interest::Shard& shard : impl_->shards) {
    shard_bytes.clear();
    block_starts.clear();
    {
      // Only the copy happens under the lock; checksums and disk writes happen after it.
      const std::lock_guard lock(shard.mutex);
      shard_bytes.reserve(shard.users.size() * (layout.block_bytes + 96) + 4096);
      ByteWriter out(shard_bytes);
      std::uint64_t in_block = 0;
      auto close_block = [&] {
        std::memcpy(shard_bytes.data() + block_starts.back(), &in_block, sizeof(in_block));
        users += in_block;
        in_block = 0;
      };
      shard.users.for_each([&](const interest::UserEntry& entry) {
        if (in_block == 0) {
          block_starts.push_back(shard_bytes.size());
          out.put(std::uint64_t{0});  // the count, filled in by close_block
        }
        write_user(out, entry, layout);
        if (++in_block == kUsersPerBlock) close_block();
      });
      if (in_block > 0) close_block();
    }
    block_starts.push_back(shard_bytes.size());
    for (std::size_t b = 0; b + 1 < block_starts.size(); ++b) {
      file.write_block(
          kUsers,
          std::span(shard_bytes).subspan(block_starts[b], block_starts[b + 1] - block_starts[b]));
      ++user_blocks;
    }
  }
  interest::write_end_block(file, kEnd, {users, user_blocks});
  file.commit();
}

std::uint64_t InterestTracker::restore(const std::filesystem::path& path) {
  const auto& layout = impl_->layout;
  interest::SnapshotReader file(path);
  std::vector<std::byte> payload;
  std::uint32_t kind = 0;

  if (!file.next(kind, payload) || kind != kHeader) file.fail("the first block is not a header");
  ByteReader header(payload, file, "the header block");
  const auto version = header.get<std::uint32_t>();
  if (version < 1 || version > kFormatVersion) {
    file.fail("format version " + std::to_string(version) + " is not a supported one (1 to " +
              std::to_string(kFormatVersion) + ")");
  }
  const auto dtype = header.get<std::uint32_t>();
  const auto dim = header.get<std::uint64_t>();
  const auto max_interests = header.get<std::uint64_t>();
  const auto window = header.get<std::uint64_t>();
  const auto watermark = header.get<std::uint64_t>();
  // Version 1 had raw user ids only.
  const auto key_check = version >= 2 ? header.get<std::uint64_t>() : std::uint64_t{0};
  const std::uint64_t own_key_check = interest::user_key_check(impl_->options);
  if (key_check != own_key_check) {
    file.fail(key_check == 0       ? std::string("holds raw user ids, this tracker hashes them")
              : own_key_check == 0 ? std::string("holds hashed user ids, this tracker has no key")
                                   : std::string("was made with another user_id_key"));
  }
  // Version 3 names the actions the windows refer to; older files are checked only against the
  // size of this tracker's table, user by user below.
  if (version >= 3) {
    const auto& actions = impl_->options.actions;
    const auto count = header.get<std::uint32_t>();
    if (count != actions.size()) {
      file.fail("made with " + std::to_string(count) + " actions, this tracker has " +
                std::to_string(actions.size()));
    }
    for (std::size_t a = 0; a < count; ++a) {
      const auto size = header.get<std::uint32_t>();
      if (size > header.remaining()) file.fail("the header block has a bad action name size");
      std::string name(size, '\0');
      header.get_bytes(name.data(), size);
      if (name != actions[a].name) {
        file.fail("made with action " + std::to_string(a) + " '" + name + "', this tracker has '" +
                  actions[a].name + "' there (the windows name actions by their place)");
      }
    }
  }
  auto mismatch = [&](const char* field, std::uint64_t found, std::uint64_t expected) {
    if (found != expected) {
      file.fail(std::string("made with ") + field + " " + std::to_string(found) +
                ", this tracker has " + std::to_string(expected));
    }
  };
  mismatch("dtype", dtype, static_cast<std::uint32_t>(layout.dtype));
  mismatch("dim", dim, layout.dim);
  mismatch("max_interests", max_interests, layout.max_interests);
  mismatch("recent_window", window, layout.window);

  // Everything is built aside; the live maps are touched only once the whole file checks out.
  std::vector<interest::UserTable> maps;
  maps.reserve(impl_->shards.size());
  for (std::size_t i = 0; i < impl_->shards.size(); ++i) maps.push_back(impl_->make_table());
  interest::read_body(file, kUsers, kEnd, [&](ByteReader& in, const std::string& where) {
    const auto count = in.get<std::uint64_t>();
    for (std::uint64_t u = 0; u < count; ++u) {
      const auto key_size = in.get<std::uint32_t>();
      if (key_size == 0 || key_size > in.remaining()) file.fail(where + " has a bad user id size");
      std::string key(key_size, '\0');
      in.get_bytes(key.data(), key_size);
      UserState s;
      s.first_timestamp = in.get<std::int64_t>();
      s.last_timestamp = in.get<std::int64_t>();
      s.last_sequence = in.get<std::uint64_t>();
      s.events = in.get<std::uint64_t>();
      in.get_bytes(s.scale, sizeof(s.scale));
      in.get_bytes(s.weight, sizeof(s.weight));
      s.window_start = in.get<std::uint16_t>();
      s.window_size = in.get<std::uint16_t>();
      s.clusters = in.get<std::uint8_t>();
      if (s.window_size > layout.window || (layout.window > 0 && s.window_start >= layout.window) ||
          s.clusters > layout.max_interests || !all_finite(s.scale, 4) ||
          !all_finite(s.weight, 3)) {
        file.fail(where + ": user '" + key + "' has out-of-range fields");
      }
      s.block = impl_->blocks.allocate();
      in.get_bytes(s.block.get(), layout.block_bytes);
      // The window names actions by their place in the options' table: a tracker with fewer
      // actions than the snapshot's would read past its table.
      const interest::WindowEntry* window = interest::window_entries(s, layout);
      for (std::size_t i = 0; i < s.window_size; ++i) {
        const std::uint16_t action = window[(s.window_start + i) % layout.window].action;
        if (action != interest::kNoAction && action >= impl_->options.actions.size()) {
          file.fail(where + ": user '" + key + "' has an event of action number " +
                    std::to_string(action) + ", but this tracker has " +
                    std::to_string(impl_->options.actions.size()) +
                    " actions (restore with the actions the snapshot was taken with)");
        }
      }
      const std::uint64_t hash = interest::user_hash(key);
      interest::UserTable& map = maps[impl_->shard_index(hash)];
      if (map.find(key, hash)) file.fail(where + ": a user appears twice");
      map.insert(std::move(key), std::move(s), hash);
    }
    return interest::BodyCounts{count, 1};  // users, blocks
  });

  for (interest::UserTable& map : maps) impl_->reserve_expected(map);
  // All shards at once, in index order, so no reader sees half old and half restored users.
  std::vector<std::unique_lock<interest::ShardMutex>> locks;
  locks.reserve(impl_->shards.size());
  for (interest::Shard& shard : impl_->shards) locks.emplace_back(shard.mutex);
  for (std::size_t i = 0; i < maps.size(); ++i) {
    interest::Shard& shard = impl_->shards[i];
    shard.users.swap(maps[i]);
    if (impl_->track_lru) shard.rebuild_lru();
  }
  locks.clear();
  return watermark;
}

}  // namespace nowrec
