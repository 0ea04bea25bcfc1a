// CoVisitation::snapshot and restore, in the snapshot container of the InterestTracker.
//
// Blocks: one Header (format version, max_neighbours, watermark), then Items blocks (u64 count,
// then per item: i64 id, u32 neighbours, then per neighbour i64 id, i64 timestamp, f32 weight),
// then one End (u64 items, u64 edges). A file without its End is truncated. The block kinds
// differ from the tracker's, so neither restores the other's file.
#include <cmath>
#include <cstring>
#include <string>

#include "interest/snapshot_bytes.hpp"
#include "interest/snapshot_file.hpp"
#include "nowrec/error.hpp"
#include "recommend/co_visitation_impl.hpp"

namespace nowrec {
namespace {

using interest::ByteReader;
using interest::ByteWriter;
using recommend::Edge;

constexpr std::uint32_t kFormatVersion = 1;
enum BlockKind : std::uint32_t { kHeader = 0x4356'0001, kItems = 0x4356'0002, kEnd = 0x4356'0003 };
constexpr std::size_t kItemsPerBlock = 1024;

}  // namespace

void CoVisitation::snapshot(const std::filesystem::path& path, std::uint64_t watermark) const {
  interest::SnapshotWriter file(path);
  std::vector<std::byte> payload;
  {
    ByteWriter out(payload);
    out.put(kFormatVersion);
    out.put(static_cast<std::uint64_t>(impl_->options.max_neighbours));
    out.put(watermark);
  }
  file.write_block(kHeader, payload);

  std::uint64_t items = 0, edges = 0;
  std::vector<std::byte> block;
  std::uint64_t in_block = 0;
  const auto flush = [&] {
    if (in_block == 0) return;
    std::memcpy(block.data(), &in_block, sizeof(in_block));
    file.write_block(kItems, block);
    items += in_block;
    in_block = 0;
    block.clear();
  };
  for (const recommend::CoVisitationShard& shard : impl_->shards) {
    // Copied under the lock; written after it.
    std::vector<std::pair<std::int64_t, recommend::NeighbourList>> copy;
    {
      const std::lock_guard lock(shard.mutex);
      copy.assign(shard.items.begin(), shard.items.end());
    }
    for (const auto& [item, list] : copy) {
      if (list.empty()) continue;
      ByteWriter out(block);
      if (in_block == 0) out.put(std::uint64_t{0});  // the count, set by flush
      out.put(item);
      out.put(static_cast<std::uint32_t>(list.size()));
      for (const Edge& edge : list) {
        out.put(edge.item);
        out.put(edge.timestamp);
        out.put(edge.weight);
      }
      edges += list.size();
      if (++in_block == kItemsPerBlock) flush();
    }
  }
  flush();
  interest::write_end_block(file, kEnd, {items, edges});
  file.commit();
}

std::uint64_t CoVisitation::restore(const std::filesystem::path& path) {
  interest::SnapshotReader file(path);
  std::vector<std::byte> payload;
  std::uint32_t kind = 0;
  if (!file.next(kind, payload) || kind != kHeader) {
    file.fail("the first block is not a co-visitation header");
  }
  ByteReader header(payload, file, "the header block");
  const auto version = header.get<std::uint32_t>();
  if (version != kFormatVersion) {
    file.fail("format version " + std::to_string(version) + " is not the supported " +
              std::to_string(kFormatVersion));
  }
  const auto max_neighbours = header.get<std::uint64_t>();
  if (max_neighbours != impl_->options.max_neighbours) {
    file.fail("made with max_neighbours " + std::to_string(max_neighbours) + ", this graph has " +
              std::to_string(impl_->options.max_neighbours));
  }
  const auto watermark = header.get<std::uint64_t>();

  // Built aside; the live shards change only once the whole file checks out.
  std::vector<recommend::CoVisitationShard> shards(impl_->shards.size());
  interest::read_body(file, kItems, kEnd, [&](ByteReader& in, const std::string& where) {
    std::uint64_t edges = 0;
    const auto count = in.get<std::uint64_t>();
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto item = in.get<std::int64_t>();
      const auto size = in.get<std::uint32_t>();
      if (size == 0 || size > max_neighbours) {
        file.fail(where + ": item " + std::to_string(item) + " has " + std::to_string(size) +
                  " neighbours");
      }
      recommend::NeighbourList list(size);
      for (Edge& edge : list) {
        edge.item = in.get<std::int64_t>();
        edge.timestamp = in.get<std::int64_t>();
        edge.weight = in.get<float>();
        if (!std::isfinite(edge.weight) || edge.item == item) {
          file.fail(where + ": item " + std::to_string(item) + " has a bad neighbour");
        }
      }
      recommend::CoVisitationShard& shard = shards[std::hash<std::int64_t>{}(item) % shards.size()];
      shard.edges += list.size();
      if (!shard.items.emplace(item, std::move(list)).second) {
        file.fail(where + ": item " + std::to_string(item) + " appears twice");
      }
      edges += size;
    }
    return interest::BodyCounts{count, edges};
  });

  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(impl_->shards.size());
  for (recommend::CoVisitationShard& shard : impl_->shards) locks.emplace_back(shard.mutex);
  for (std::size_t s = 0; s < shards.size(); ++s) {
    impl_->shards[s].items.swap(shards[s].items);
    impl_->shards[s].edges = shards[s].edges;
  }
  return watermark;
}

}  // namespace nowrec
