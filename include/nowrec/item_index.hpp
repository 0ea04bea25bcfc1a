// ItemIndex: the catalog of item embeddings and attributes that the Ranker scans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include "nowrec/interest_types.hpp"
#include "nowrec/limits.hpp"

namespace nowrec {

// How each embedding is stored. BF16 halves and Int8 (one float scale per row) quarters the bytes
// a scan reads; both lose a little precision against F32.
enum class StorageType : std::uint32_t { F32 = 0, BF16 = 1, Int8 = 2 };

struct ItemIndexOptions {
  StorageType storage = StorageType::F32;
};

// Attributes used by the Ranker's filters. An unavailable item is never returned.
struct ItemAttributes {
  std::span<const std::uint32_t> categories;
  bool available = true;
};

namespace ranker {
struct Snapshot;
}

// Items with an id, an embedding of dim() floats (stored as options().storage) and attributes.
//
// Writers publish immutable snapshots (copy-on-write segments of a few thousand rows): a Ranker
// call takes the snapshot current when it starts and never sees a half-applied write, and a
// write copies only the segments it touches.
//
// Thread-safety: every method may be called concurrently with every other; writes (add, update,
// remove) are serialised among themselves.
class ItemIndex {
 public:
  // Throws Error(InvalidArgument) when dim is 0 or above kMaxVectorDim (nowrec/limits.hpp).
  explicit ItemIndex(std::size_t dim, const ItemIndexOptions& options = {});
  ItemIndex(ItemIndex&&) noexcept;
  ItemIndex& operator=(ItemIndex&&) noexcept;
  ~ItemIndex();

  // Adds ids.size() items; `vectors` holds one row of dim() floats per id, `attributes` is empty
  // (available, no categories) or one entry per id. Throws Error(InvalidArgument) for a size
  // mismatch, a non-finite value or an id already present (or repeated); on error nothing changes.
  void add(std::span<const std::int64_t> ids, std::span<const float> vectors,
           std::span<const ItemAttributes> attributes = {});

  // Replaces the embeddings (and, when `attributes` is not empty, the attributes) of existing
  // items. Throws Error(NotFound) for an unknown id and Error(InvalidArgument) as add() does.
  void update(std::span<const std::int64_t> ids, std::span<const float> vectors,
              std::span<const ItemAttributes> attributes = {});

  // Throws Error(NotFound) for an unknown id (nothing is removed then).
  void remove(std::span<const std::int64_t> ids);

  // Sets each item's prior (e.g. log popularity), which RankRequest::prior_weight adds to its
  // score; items start with prior 0. Writes only the priors of the segments touched. Throws
  // Error(NotFound) for an unknown id and Error(InvalidArgument) for a size mismatch or a
  // non-finite prior; on error nothing changes.
  void set_priors(std::span<const std::int64_t> ids, std::span<const float> priors);

  bool contains(std::int64_t id) const;
  // Copies the item's embedding, decoded to fp32, into `vector` (dim() floats) and returns its
  // prior; nullopt for an unknown id. Throws Error(InvalidArgument) for a wrong vector size.
  std::optional<float> read(std::int64_t id, std::span<float> vector) const;
  // read() for several ids under one lock: id i's embedding into vectors[i * dim, (i + 1) * dim)
  // and found[i] whether it is present (an absent id's values are left unspecified), with the
  // next rows fetched from memory while one is copied. Returns how many were found. Throws
  // Error(InvalidArgument) when vectors or found has the wrong size.
  std::size_t read_many(std::span<const std::int64_t> ids, std::span<float> vectors,
                        std::span<bool> found) const;
  std::size_t size() const;
  std::size_t dim() const noexcept { return dim_; }
  const ItemIndexOptions& options() const noexcept { return options_; }

  // Writes a versioned, checksummed file: to a temporary file beside `path`, fsync, then rename,
  // so readers see the old file or the new one. Throws Error(Io).
  void save(const std::filesystem::path& path) const;
  // Maps the file and validates it (magic, version, sizes, checksum). Throws Error(Io) when it
  // cannot be read and Error(InvalidFormat), naming the file and field, when it is corrupt.
  static ItemIndex load(const std::filesystem::path& path);

  // The current snapshot (for the Ranker).
  std::shared_ptr<const ranker::Snapshot> snapshot() const;

 private:
  struct Writer;
  std::size_t dim_;
  ItemIndexOptions options_;
  std::unique_ptr<Writer> writer_;
};

// The index as the tracker's ItemStore: an item's embedding is its row, decoded to fp32. Lets
// one catalog serve both the Ranker and InterestTracker events that name only an item. The index
// must outlive it; rows written later are seen by later lookups.
class ItemIndexStore final : public ItemStore {
 public:
  explicit ItemIndexStore(const ItemIndex& index) : index_(&index) {}
  bool lookup(std::int64_t item, std::span<float> out) const override;
  void lookup_many(std::span<const std::int64_t> items, std::span<float> out,
                   std::span<bool> found) const override;
  const ItemIndex& index() const noexcept { return *index_; }

 private:
  const ItemIndex* index_;
};

}  // namespace nowrec
